"""The GAN's joint step with one discriminator pass on the completed images against the
three passes it replaced, whole training steps taken in turn in one process.

`InpaintingGAN`'s joint step runs the discriminator on the completed images once, for
both its own loss and the generator's adversarial term; before, it ran them twice (once
behind `tf.stop_gradient`), plus once on the real images. Both steps train the same
networks up to round-off (tests/test_gan_joint_step.py). Here the study's GAN (config
exp6: batch 32, 32x32 images, its pipeline and optimizers, built as a run builds it)
trains with each step, one step of each in turn (three passes, one pass, three
passes, …) after a warm-up, so that background load hits both alike. Prints a
Markdown table (median milliseconds per step, images/s, speed-up) and writes the
figures as JSON.

    python benchmarks/gan_joint_step.py                        # mixed_bfloat16
    python benchmarks/gan_joint_step.py --precision float32 --steps 100
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

MODEL = "gan_joint"  # exp6_gan_rectangle_b32: T_c = T_d = 0, every step is joint
PRECISIONS = ("mixed_bfloat16", "float32", "mixed_float16")
RUNS = {"three_passes": "three discriminator passes (before)",
        "one_pass": "one pass on the completed images"}


def _log(message: str) -> None:
    print(message, flush=True)


def three_pass_gan(gan):
    """`gan`'s networks, settings and optimizers (new ones, from its compile config) in
    a GAN whose joint step is the three-pass one."""
    import tensorflow as tf

    from inpaint_tf.compositing import composite
    from inpaint_tf.models import InpaintingGAN
    from inpaint_tf.models.inpainting_gan import hole_mse_terms, least_squares_terms

    class ThreePassGAN(InpaintingGAN):
        def _joint_step(self, model_inputs, real, hole, real_hole):
            with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
                generated = self.generator(model_inputs, training=True)
                completed = composite(generated, real, hole)
                fake_err, real_err, _ = self._discriminator_losses(
                    tf.stop_gradient(completed), hole, real, real_hole)
                d_loss = fake_err + real_err
                d_scaled = self.discriminator_optimizer.scale_loss(d_loss)
                fooled = self.discriminator({"image": completed, "mask": hole}, training=True)
                g_loss = (hole_mse_terms(real, generated, hole)
                          + self.adversarial_weight * least_squares_terms(fooled, 1.0))
                g_scaled = self.generator_optimizer.scale_loss(g_loss)
            self._apply(d_tape, self.discriminator_optimizer, d_scaled,
                        self.discriminator.trainable_variables)
            self._apply(g_tape, self.generator_optimizer, g_scaled,
                        self.generator.trainable_variables)
            return generated, {"g_loss": g_loss, "d_loss": d_loss, "fake_err": fake_err,
                               "real_err": real_err}

    reference = ThreePassGAN(gan.generator, gan.discriminator,
                             adversarial_weight=gan.adversarial_weight, T_c=gan.T_c,
                             T_d=gan.T_d, schedule=gan.schedule)
    reference.compile_from_config(gan.get_compile_config())
    return reference


def build(precision: str, three_passes: bool):
    """The study's GAN as a training run builds it, under the dtype policy `precision`."""
    import _models

    from inpaint_tf.training.loop import build_model, dtype_policy

    with dtype_policy(precision):
        gan = build_model(_models.config(MODEL))
        return three_pass_gan(gan) if three_passes else gan


def summary(seconds: dict, batch_size: int) -> dict:
    """Median milliseconds per step and images/s of each run, and the one-pass step's
    speed-up: the ratio of the medians, and the median of step-by-step ratios (each
    one-pass step against the three-pass step just before it)."""
    from _timing import median

    runs = {name: {"median_ms": 1000 * median(values),
                   "images_per_second": batch_size / median(values), "seconds": values}
            for name, values in seconds.items()}
    return {"runs": runs,
            "speedup": runs["three_passes"]["median_ms"] / runs["one_pass"]["median_ms"],
            "speedup_paired": median([before / after for before, after in zip(
                seconds["three_passes"], seconds["one_pass"], strict=True)])}


def markdown(result: dict) -> str:
    from _report import table

    settings = result["settings"]
    rows = [[RUNS[name], f"{run['median_ms']:.1f}", f"{run['images_per_second']:.1f}",
             "1.00x" if name == "three_passes" else f"{result['speedup']:.2f}x"]
            for name, run in result["runs"].items()]
    return (table([f"joint step ({MODEL}, {settings['precision']}, batch "
                   f"{settings['batch_size']}, {settings['steps']} steps each)",
                   "median ms per step", "images/s", "speed-up"], rows)
            + f"\n\nMedian of step-by-step ratios: {result['speedup_paired']:.3f}x.")


def measure(precision: str, batch_size: int, steps: int, warmup: int) -> dict:
    import _models
    from _timing import interleaved_steps, ready_step, release

    data = _models.dataset(MODEL, _models.random_images(2048), batch_size)
    models = {name: build(precision, name == "three_passes") for name in RUNS}
    ready = {name: ready_step(model, data, warmup) for name, model in models.items()}
    seconds = interleaved_steps(ready, steps)
    jit_compile = {name: bool(model.jit_compile) for name, model in models.items()}
    release()
    return {**summary(seconds, batch_size), "jit_compile": jit_compile}


def main(argv=None) -> dict:
    import _models
    from run import load_average, machine

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--precision", default="mixed_bfloat16", choices=PRECISIONS,
                        help="the Keras dtype policy")
    parser.add_argument("--batch", type=int, default=_models.config(MODEL).training.batch_size)
    parser.add_argument("--steps", type=int, default=60, help="timed steps of each")
    parser.add_argument("--warmup", type=int, default=5,
                        help="untimed steps of each first (the first traces)")
    parser.add_argument("--json", type=Path, default=None,
                        help="results file (default "
                             "benchmarks/results/gan_joint_step-<date>-<precision>.json)")
    args = parser.parse_args(argv)
    now = datetime.datetime.now(datetime.timezone.utc)
    start = load_average()
    _log(f"Load average {start[0]:.2f} {start[1]:.2f} {start[2]:.2f} on {os.cpu_count()} "
         "cores")
    result = {"date": now.strftime("%Y-%m-%d %H:%M UTC"),
              "command": " ".join(["python benchmarks/gan_joint_step.py",
                                   *(argv if argv is not None else sys.argv[1:])]),
              "machine": machine(), "model": MODEL,
              "settings": {"precision": args.precision, "batch_size": args.batch,
                           "steps": args.steps, "warmup": args.warmup},
              **measure(args.precision, args.batch, args.steps, args.warmup)}
    result["load_average"] = {"start": start, "end": load_average()}
    _log(f"Load average at the end {result['load_average']['end'][0]:.2f}\n")
    _log(markdown(result))
    path = args.json or HERE / "results" / f"gan_joint_step-{now:%Y-%m-%d}-{args.precision}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2) + "\n")
    _log(f"\nResults: {path}")
    return result


if __name__ == "__main__":
    main()
