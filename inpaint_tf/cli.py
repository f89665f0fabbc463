"""The ``inpaint-tf`` command line: every command is one library call away.

Errors are one line on stderr and exit code 2 (bad input) or 1 (anything
else), never a traceback; ``INPAINT_TF_DEBUG=1`` shows the traceback. Warnings (a
mask that is almost all hole) are one line each too, ``inpaint-tf: warning: ...``.
"""

from __future__ import annotations

import argparse
import os
import sys
import textwrap

from inpaint_tf._console import (
    fail,
    native_stderr_muted,
    start_tensorflow_quietly,
    warnings_as_lines,
)
from inpaint_tf._version import __version__
from inpaint_tf.presets.released import pretrained_names

EXIT_BAD_INPUT = 2
EXIT_FAILURE = 1

COMMANDS = {}


def command(name: str, help_text: str, example: str):
    """Registers `function(args)` as a sub-command; `configure(parser)` adds its options."""

    def register(function):
        COMMANDS[name] = (function, help_text, example)
        return function

    return register


class _Parser(argparse.ArgumentParser):
    """argparse, with its usage errors as one line (the CLI's error contract)."""

    def error(self, message):
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message} "
                                  f"(see '{self.prog} --help')\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="inpaint-tf",
        description="Deep image inpainting with Keras: train, evaluate, inpaint, export.",
        epilog=f"Released models (--model NAME, no training): {', '.join(pretrained_names())}. Run "
               "'inpaint-tf COMMAND --help' for a command's options and an example.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, (function, help_text, example) in COMMANDS.items():
        sub = subparsers.add_parser(
            name, help=help_text, description=help_text,
            epilog="example:\n" + textwrap.indent(example, "  "),
            formatter_class=argparse.RawDescriptionHelpFormatter)
        function.configure(sub)
        sub.set_defaults(handler=function)
    return parser


def main(argv=None) -> int:
    """Entry point of the ``inpaint-tf`` console script."""
    args = _parser().parse_args(argv)
    start_tensorflow_quietly()
    try:
        with warnings_as_lines():
            args.handler(args)
    except KeyboardInterrupt:
        print("inpaint-tf: interrupted", file=sys.stderr)
        return 130
    except (ValueError, FileNotFoundError, TypeError, KeyError) as error:
        return fail(error, EXIT_BAD_INPUT)
    except Exception as error:  # noqa: BLE001 - the CLI reports, it does not crash
        return fail(error, EXIT_FAILURE)
    return 0


# --------------------------------------------------------------------------- commands


def _add_data_option(parser):
    parser.add_argument("--data", default=None, metavar="PATH",
                        help="local CIFAR-10 copy (default: $INPAINT_TF_DATA, else download)")


@command("baselines", "Score the classical baselines on the CIFAR-10 test set.",
         "inpaint-tf baselines --masks irregular --n 10000 --out baselines.md\n"
         "inpaint-tf baselines --masks irregular --n 1000 --baselines navier_stokes,fsr_best")
def baselines_command(args):
    from inpaint_tf.data import load_cifar10
    from inpaint_tf.evaluation.baselines import BASELINES, run_baselines
    from inpaint_tf.evaluation.protocols import format_markdown, write_table
    from inpaint_tf.masks import eval_masks

    test = load_cifar10(args.data).test
    n = min(args.n, len(test.images))
    kinds = args.masks.split(",")
    tables = []
    for kind in kinds:
        masks = eval_masks(kind, n, height=test.images.shape[1], width=test.images.shape[2])
        names = _baseline_names(args.baselines, tuple(BASELINES))
        tables.append(run_baselines(test.images[:n], masks, mask_kind=kind,
                                    fill_value=args.fill_value, names=names))
    import pandas as pd

    table = pd.concat(tables, ignore_index=True)
    print(format_markdown(table))
    if args.out:
        write_table(table, args.out)


def _configure_baselines(parser):
    from inpaint_tf.masks import MASK_KINDS

    parser.add_argument("--masks", default=",".join(MASK_KINDS),
                        help=f"mask kinds, comma-separated (default: all of {MASK_KINDS})")
    parser.add_argument("--n", type=int, default=10_000, help="test images (default 10000)")
    parser.add_argument("--baselines", default=None,
                        help="comma-separated, of identity, mean_fill, navier_stokes, telea, "
                             "biharmonic, fsr_fast, fsr_best, or 'all' (default: all that "
                             "run here but fsr_best, about 1 s per image: hours on 10000)")
    parser.add_argument("--fill-value", type=float, default=0.0,
                        help="value in the holes of the input (default 0)")
    parser.add_argument("--out", default=None, help="also write the table (.md or .csv)")
    _add_data_option(parser)


baselines_command.configure = _configure_baselines


def _add_reuse_only_option(parser):
    parser.add_argument("--reuse-only", default=None, metavar="METHODS",
                        help="with --classical-scores: classical methods (comma-separated) "
                             "taken from FILE where stored, else left out, never computed")


def _add_precision_option(parser):
    parser.add_argument("--precision", choices=("float32", "mixed"), default=None,
                        help="rebuild the model to compute in float32 or mixed (bfloat16 on "
                             "a CPU: faster) with its weights (default: as stored)")


def _baseline_names(text: str | None, every: tuple) -> tuple | None:
    """--baselines: None (the library's default), 'all' (`every`) or a list."""
    if text is None:
        return None
    return every if text.strip() == "all" else tuple(text.split(","))


@command("train", "Train an experiment config into a run folder (re-run to resume).",
         "inpaint-tf train experiments/exp3_conv_autoencoder_irregular.toml --epochs 2 \\\n"
         "    --steps-per-epoch 200 --precision mixed --out runs/exp3")
def train_command(args):
    from inpaint_tf.configs import load_config
    from inpaint_tf.training.loop import train

    config = load_config(args.config)
    out = args.out or f"runs/{config.name}"
    run = train(config, out, epochs=args.epochs, steps_per_epoch=args.steps_per_epoch,
                data=args.data, precision=args.precision, strategy=args.strategy,
                seed=args.seed, deterministic=args.deterministic,
                verbose=1 if sys.stdout.isatty() else 2)
    metrics = run.read_metrics()
    if "test" in metrics:  # a multi-worker run's other workers may end before the chief
        _print_scores(metrics["test"])
    print(f"run folder: {run.path}")


class _MakeStrategyFirst(argparse.Action):
    """``--strategy multi-worker`` forms its cluster before TensorFlow's runtime starts,
    which `main` does right after reading the command line: the strategy is made here."""

    def __call__(self, parser, namespace, value, option_string=None):
        if value == "multi-worker":
            from inpaint_tf.training.distribution import make_strategy

            try:
                with native_stderr_muted():
                    make_strategy(value)
            except (ValueError, RuntimeError) as error:
                parser.error(str(error))
        setattr(namespace, self.dest, value)


def _configure_train(parser):
    from inpaint_tf.training.distribution import STRATEGIES

    parser.add_argument("config", help="experiment config (TOML)")
    parser.add_argument("--epochs", type=int, default=None, help="override training.epochs")
    parser.add_argument("--steps-per-epoch", type=int, default=None,
                        help="override training.steps_per_epoch (0 = a full pass)")
    _add_data_option(parser)
    parser.add_argument("--out", default=None, help="run folder (default runs/<config name>)")
    parser.add_argument("--precision", choices=("float32", "mixed"), default="float32",
                        help="mixed = bfloat16 on CPU, float16 with loss scaling on GPU")
    parser.add_argument("--strategy", choices=STRATEGIES, default="default",
                        action=_MakeStrategyFirst,
                        help="mirrored = this host's GPUs; multi-worker = several hosts, the "
                        "cluster in $TF_CONFIG (run the same command on each; the run folder "
                        "on storage they share); tpu = the TPU of this VM ($INPAINT_TF_TPU "
                        "names another). training.batch_size stays the global batch")
    parser.add_argument("--seed", type=int, default=None, help="override training.seed")
    parser.add_argument("--deterministic", action="store_true",
                        help="TensorFlow op determinism (bit-identical re-runs on CPU)")


train_command.configure = _configure_train


def _print_scores(row):
    keys = ("study_mae", "study_mse", "study_dice", "dice_ceiling", "hole_mae", "hole_mse",
            "hole_psnr", "hole_ssim")
    print("  ".join(f"{key}={row[key]:.4g}" for key in keys))


@command("evaluate", "Score a run, a .keras model or a released model on the test set "
         "under both protocols, or on photos at full size beside OpenCV.",
         "inpaint-tf evaluate runs/exp3 --masks irregular --n 10000\n"
         "inpaint-tf evaluate --model own_unet_irregular --masks irregular_area --area-bins\n"
         "inpaint-tf evaluate --model photo_unet --photos Kodak24 McMaster CBSD68 \\\n"
         "    --out photo_table.md --samples photo_samples.png\n"
         "inpaint-tf evaluate runs/probe --held-out-photos --seed 7 --baselines all")
def evaluate_command(args):
    if (args.run is None) == (args.model is None):
        raise ValueError("Give the model once: as RUN_OR_MODEL or as --model")
    if args.photos or args.held_out_photos:
        return _evaluate_photos(args)
    if args.classical_scores or args.reuse_only:
        raise ValueError("--classical-scores and --reuse-only go with --photos or "
                         "--held-out-photos")
    from inpaint_tf.evaluation.runs import evaluate_run

    if args.masks and len(args.masks) > 1:
        raise ValueError("Give one --masks kind (several only with --photos)")
    row = evaluate_run(args.run or args.model, masks=args.masks[0] if args.masks else None,
                       n=args.n, data=args.data, seed=args.seed,
                       area_bins=args.area_bins or None, precision=args.precision)
    _print_scores(row)
    _print_bins(row)


def _print_bins(row):
    for scores in row.get("area_bins", []):
        print(f"  holes {scores['bin']:>7}: n={scores['n']}  hole_mae={scores['hole_mae']:.4g}"
              f"  hole_psnr={scores['hole_psnr']:.4g}  hole_ssim={scores['hole_ssim']:.4g}")


def _evaluate_photos(args):
    from inpaint_tf.evaluation.photos import (
        PHOTO_BASELINES,
        PHOTO_MASK_KINDS,
        photo_table,
        photo_times,
    )
    from inpaint_tf.evaluation.protocols import format_markdown, write_table
    from inpaint_tf.evaluation.runs import evaluate_run_on_photos

    reference = args.run or args.model
    rows = evaluate_run_on_photos(reference, _photo_sources(args),
                                  masks=args.masks or PHOTO_MASK_KINDS, seed=args.seed,
                                  n=args.n, samples=args.samples,
                                  baselines=_baseline_names(args.baselines, PHOTO_BASELINES),
                                  progress=sys.stdout.isatty(),
                                  classical_scores=args.classical_scores,
                                  reuse_only=args.reuse_only or (), precision=args.precision)
    table = photo_table(rows, name=rows[-1]["name"])
    print(format_markdown(table), format_markdown(photo_times(rows)), sep="\n\n")
    if args.out:
        write_table(table, args.out)
        print(f"table written to {args.out}")
    if args.samples:
        print(f"samples written to {args.samples}")


def _photo_sources(args):
    """--photos, or the photos the model's config held out of its training."""
    if args.photos:
        return args.photos
    from inpaint_tf.presets.loading import model_config
    from inpaint_tf.training.data import held_out_photos

    return held_out_photos(model_config(args.run or args.model))


def _configure_evaluate(parser):
    from inpaint_tf.masks import ALL_MASK_KINDS, EVAL_SEED

    parser.add_argument("run", metavar="RUN_OR_MODEL", nargs="?", default=None,
                        help="run folder, .keras file or released model name")
    parser.add_argument("--model", default=None,
                        help="the same as RUN_OR_MODEL (e.g. a released model name)")
    parser.add_argument("--masks", choices=ALL_MASK_KINDS, action="append", default=None,
                        help="mask kind (default: the run's; with --photos repeat it for "
                             "several families, default: every photo family)")
    parser.add_argument("--n", type=int, default=None,
                        help="test images, or photos with --photos (default: all)")
    parser.add_argument("--seed", type=int, default=EVAL_SEED,
                        help=f"mask-set seed (default {EVAL_SEED}, the fixed set; another "
                             "seed is a held-out check)")
    parser.add_argument("--area-bins", action="store_true",
                        help="also score per hole-share bin (0-10%%, ..., 40-60%%)")
    photos = parser.add_mutually_exclusive_group()
    photos.add_argument("--photos", nargs="+", default=None, metavar="DIR",
                        help="score on these photo folders at full size, beside the "
                             "classical methods (docs/inpainting.md)")
    photos.add_argument("--held-out-photos", action="store_true",
                        help="as --photos, on the photos a photos run's config held out of "
                             "training (its source: data.source or $INPAINT_TF_PHOTOS): "
                             "compare recipes there, never on the test sets")
    parser.add_argument("--baselines", default=None,
                        help="with --photos: the classical methods, comma-separated, of "
                             "navier_stokes, telea, biharmonic, fsr_fast, fsr_best, or "
                             "'all' (default: all that run here but fsr_best, which takes "
                             "about 15 s per 0.5 MP photo: hours on a test set)")
    parser.add_argument("--out", default=None,
                        help="with --photos: write the table (.md or .csv)")
    parser.add_argument("--samples", default=None,
                        help="with --photos: a PNG of crops around holes (input, "
                             "Navier-Stokes, model, truth)")
    parser.add_argument("--classical-scores", metavar="FILE",
                        help="with --photos: reuse the classical methods' rows stored in "
                             "FILE, store each one computed (default: RUN/classical_scores.json)")
    _add_reuse_only_option(parser)
    _add_precision_option(parser)
    _add_data_option(parser)


evaluate_command.configure = _configure_evaluate


@command("release", "Package a finished run as a released model (float16 weights and a "
         "manifest with its test figures).",
         "inpaint-tf release runs/own_unet_irregular")
def release_command(args):
    from inpaint_tf.evaluation.photos import PHOTO_BASELINES
    from inpaint_tf.presets.releasing import release_run

    baselines = _baseline_names(args.baselines, PHOTO_BASELINES) or PHOTO_BASELINES
    path = release_run(args.run, args.name, folder=args.folder, data=args.data,
                       photos=args.photos, baselines=baselines,
                       classical_scores=args.classical_scores,
                       reuse_only=args.reuse_only or ())
    print(f"release written: {path} and its weights beside it")


def _configure_release(parser):
    parser.add_argument("run", help="finished run folder")
    parser.add_argument("--name", default=None, help="release name (default: the config's)")
    parser.add_argument("--folder", default=None,
                        help="where to write (default: the package's inpaint_tf/released)")
    parser.add_argument("--photos", nargs="+", default=None, metavar="DIR",
                        help="a photo model's test folders (scored at full size)")
    parser.add_argument("--classical-scores", metavar="FILE",
                        help="with --photos: reuse the classical methods' rows stored in "
                             "FILE, store each one computed (default: every row computed)")
    parser.add_argument("--baselines", default=None,
                        help="with --photos: the classical methods, comma-separated, or "
                             "'all' (default: all five, fsr_best included: hours)")
    _add_reuse_only_option(parser)
    _add_data_option(parser)


release_command.configure = _configure_release


@command("demo", "Inpaint a real photo (and CIFAR-10 test images) with the released models "
         "beside Navier-Stokes: pictures and figures; no training.",
         "inpaint-tf demo --out runs/demo")
def demo_command(args):
    from inpaint_tf.reports.demo import run_demo

    names = args.models.split(",") if args.models else None
    for line in run_demo(args.out, names=names, n=args.n, data=args.data, photo=args.photo):
        print(line)


def _configure_demo(parser):
    parser.add_argument("--out", default="runs/demo", help="output folder (default runs/demo)")
    parser.add_argument("--models", default=None,
                        help="comma-separated released models (default: all)")
    parser.add_argument("--n", type=int, default=1000,
                        help="CIFAR-10 test images scored (default 1000)")
    parser.add_argument("--photo", default=None,
                        help="the photo the photo models fill (default: Grace Hopper's "
                             "portrait, which matplotlib ships)")
    _add_data_option(parser)


demo_command.configure = _configure_demo


@command("inpaint", "Inpaint an image of any size with a mask image (non-zero = hole), or "
         "a folder of photos with one mask for all or a mask each (matched by name).",
         "inpaint-tf inpaint --model photo_unet --image photo.png --mask holes.png \\\n"
         "    --out filled.png\n"
         "inpaint-tf inpaint --model photo_unet --images scans/ --mask dust.png --out restored/\n"
         "inpaint-tf inpaint --model photo_unet --images 'frames/*.jpg' --masks masks/ \\\n"
         "    --out filled/ --suffix _filled --skip-bad")
def inpaint_command(args):
    import cv2

    if not os.environ.get("INPAINT_TF_DEBUG"):  # its notices on corrupt files: ours say it
        cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)
    if args.images is not None:
        return _inpaint_folder(args)
    if args.masks is not None or args.suffix or args.overwrite or args.skip_bad:
        raise ValueError("--masks, --suffix, --overwrite and --skip-bad go with --images "
                         "(a folder of photos); one --image takes one --mask")
    from inpaint_tf.inference.folders import inpaint_file
    from inpaint_tf.presets.loading import load_inference_model

    model = load_inference_model(args.model, args.precision)
    holes = inpaint_file(model, args.image, args.mask, args.out,
                         windows=False if args.whole else "auto")
    print(f"wrote {args.out} ({holes} hole pixels filled)")


def _inpaint_folder(args):
    from inpaint_tf.inference.folders import PhotoError, plan_folder
    from inpaint_tf.presets.loading import load_inference_model

    hint = " (--skip-bad goes on past such photos; a re-run skips the photos written)"
    try:  # the photos and masks are checked before the model loads
        plan = plan_folder(args.images, mask=args.mask, masks=args.masks, out=args.out,
                           suffix=args.suffix, overwrite=args.overwrite,
                           skip_bad=args.skip_bad)
        report = plan.run(load_inference_model(args.model, args.precision),
                          windows=False if args.whole else "auto",
                          verbose=1 if sys.stdout.isatty() else 2)
    except PhotoError as error:
        raise ValueError(f"{error}{hint}") from None
    print(report.summary())
    for photo, reason in report.failed:
        print(f"inpaint-tf: failed: {photo}: {reason}", file=sys.stderr)
    if report.failed:
        raise ValueError(f"{len(report.failed)} photos failed (listed above)")


def _configure_inpaint(parser):
    parser.add_argument("--model", required=True,
                        help="run folder, .keras file or released model name: "
                             f"{', '.join(pretrained_names())}")
    photos = parser.add_mutually_exclusive_group(required=True)
    photos.add_argument("--image", help="image file (any size; 8 or 16 bits, grey or colour: "
                                        "written back so, alpha kept where --out holds it)")
    photos.add_argument("--images", metavar="DIR_OR_GLOB",
                        help="a folder of photos, a quoted glob pattern ('scans/**/*.jpg') "
                             "or a file: photos of any sizes, in one process")
    holes = parser.add_mutually_exclusive_group(required=True)
    holes.add_argument("--mask", help="mask image, non-zero = hole: the image's (same size), "
                                      "or with --images one for every photo")
    holes.add_argument("--masks", metavar="DIR",
                       help="with --images: a folder of masks, the mask of a.jpg named a.*")
    parser.add_argument("--out", required=True,
                        help="output image (.png), or with --images the output folder "
                             "(each photo's name and format)")
    parser.add_argument("--suffix", default="",
                        help="with --images: added to each output's name (_filled: "
                             "a_filled.jpg)")
    parser.add_argument("--overwrite", action="store_true",
                        help="with --images: redo photos already done in --out, and allow "
                             "writing over the photos themselves")
    parser.add_argument("--skip-bad", action="store_true",
                        help="with --images: go on past bad photos (no mask, a mask of "
                             "another size, unreadable) and list them at the end")
    parser.add_argument("--whole", action="store_true",
                        help="run the model over the whole image at once (default: on "
                             "windows around the holes when they cover less than half of it)")
    _add_precision_option(parser)


inpaint_command.configure = _configure_inpaint


@command("collect-photos", "Copy the photos that photo training may use (no test photo, "
         "none too small or grey, no duplicate) into one folder.",
         "inpaint-tf collect-photos BSDS500/BSDS500/data/images imagenet-sample-images \\\n"
         "    SelfExSR/data/Sun-Hays80 --out ~/data/photo_train")
def collect_photos_command(args):
    from inpaint_tf.data.photos import collect_photos

    result = collect_photos(args.sources, args.out, min_side=args.min_side,
                            colour_only=not args.grey)
    print(f"copied {len(result.copied)} photos into {args.out}")
    for reason, files in result.left_out.items():
        if files:
            print(f"  left out, {reason}: {len(files)}")


def _configure_collect_photos(parser):
    parser.add_argument("sources", nargs="+", metavar="DIR", help="photo folders (recursive)")
    parser.add_argument("--out", required=True, help="the training folder to fill")
    parser.add_argument("--min-side", type=int, default=256,
                        help="leave out photos whose short side is smaller (default 256)")
    parser.add_argument("--grey", action="store_true", help="keep grey photos too")


collect_photos_command.configure = _configure_collect_photos


@command("export", "Export a run's model as a SavedModel, a TFLite (LiteRT) or an ONNX file.",
         "inpaint-tf export runs/exp3 --out exported/exp3\n"
         "inpaint-tf export runs/exp3 --format tflite --quantize float16 --out exp3.tflite\n"
         "inpaint-tf export runs/exp3 --format onnx --height 64 --width 64 --out exp3.onnx\n"
         "inpaint-tf export photo_unet --format onnx --out photo_unet.onnx  # 256x256")
def export_command(args):
    from inpaint_tf.export.formats import export_model
    from inpaint_tf.presets.loading import load_inference_model

    model = load_inference_model(args.run)
    # The TFLite converter prints its MLIR diagnostics from C++; the ValueError it ends
    # in says what failed (and chains the full text).
    with native_stderr_muted():
        path = export_model(model, args.out, format=args.format, quantize=args.quantize,
                            height=args.height, width=args.width)
    if args.format == "saved_model":
        print(f"SavedModel written to {path} (signature 'serve': image, mask -> inpainted)")
        return
    from inpaint_tf.export.formats import read_export_metadata

    metadata = read_export_metadata(path)
    size = f"{metadata['height']}x{metadata['width']}"
    detail = f", {args.quantize} quantised" if args.quantize else ""
    print(f"{args.format} file written to {path} ({path.stat().st_size:,} bytes{detail}; "
          f"image, mask -> inpainted at a fixed {size}, any batch)")


def _configure_export(parser):
    from inpaint_tf.export import FORMATS, QUANTIZATIONS

    parser.add_argument("run", help="run folder, .keras file or released model name")
    parser.add_argument("--out", required=True,
                        help="target folder (saved_model) or file (tflite, onnx)")
    parser.add_argument("--format", default="saved_model", choices=FORMATS,
                        help="saved_model (any image size, default), tflite or onnx")
    parser.add_argument("--quantize", default=None,
                        choices=[q for q in QUANTIZATIONS if q is not None],
                        help="tflite only: float16 or dynamic (int8 weights)")
    size = ("tflite and onnx: fixed input {} (default: the size the model needs: its "
            "static size, else 256 for a model with a harmonic prefill such as photo_unet, "
            "32 for the study's models; a smaller one than it needs is refused)")
    parser.add_argument("--height", type=int, default=None, help=size.format("height"))
    parser.add_argument("--width", type=int, default=None, help=size.format("width"))


export_command.configure = _configure_export


@command("report", "Build the comparison table of runs, the study and the baselines.",
         "inpaint-tf report runs/* --out experiments/RESULTS.md")
def report_command(args):
    from pathlib import Path

    from inpaint_tf.reports.results import build_report

    command_line = ("inpaint-tf report " + " ".join(args.runs) + f" --out {args.out}"
                    + (" --photos" if args.photos else ""))
    notes = ""
    if args.notes:
        command_line += f" --notes {args.notes}"
        notes = Path(args.notes).read_text()
    if args.photos:
        from inpaint_tf.reports.photos import build_photo_report

        if len(args.runs) != 1:
            raise ValueError("A photo report is of one run: give one RUN with --photos")
        print(build_photo_report(args.runs[0], args.out, notes=notes, command=command_line))
        return
    text = build_report(args.runs, args.out, data=args.data, command=command_line,
                        baselines=not args.no_baselines, notes=notes)
    print(text)


def _configure_report(parser):
    parser.add_argument("runs", nargs="+", metavar="RUN", help="run folders")
    parser.add_argument("--out", required=True, help="Markdown file to write")
    parser.add_argument("--no-baselines", action="store_true",
                        help="leave out Navier-Stokes and Telea")
    parser.add_argument("--notes", default=None, metavar="FILE",
                        help="Markdown put before the tables (budget, data copy, findings)")
    parser.add_argument("--photos", action="store_true",
                        help="the photo report of one photos run (its photo evaluations, "
                             "goals, held-out seed, bins, time to quality)")
    _add_data_option(parser)


report_command.configure = _configure_report


if __name__ == "__main__":
    sys.exit(main())
