"""What each export format costs in quality: a released model exported to every format,
then scored in its own runtime on the CIFAR-10 test images with the fixed masks.

Prints a Markdown table (format, file size, hole PSNR, its difference to Keras, the max
abs difference of the composite to Keras) and writes it as JSON. Needs a local CIFAR-10
copy (``--data`` or ``$INPAINT_TF_DATA``) and the export extra.

    python benchmarks/export_quality.py --model own_unet_boxes --masks random_box --n 1000

With ``--photos``, the fixed-size files (TFLite, ONNX, at the export's default size)
are served through `load_exported` + `inpaint` on full-size photos, every photo mask
family, beside the Keras model on the same holes (pooled hole PSNR per family):

    python benchmarks/export_quality.py --model photo_unet \
        --photos FFDNet/testsets/Kodak24 FFDNet/testsets/McMaster FFDNet/testsets/CBSD68

A photo run's JSON is its record (the docs' export table is tested against it): the
date, the machine, the command, the wall time and the photos' names, in
``benchmarks/export_quality_photos.json`` unless ``--json`` says otherwise.
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

FORMATS = (("keras", None), ("tflite", None), ("tflite", "float16"), ("tflite", "dynamic"),
           ("onnx", None))


def _runner(network, folder: Path, fmt: str, quantize):
    """(file size in bytes, predict(masked, masks) -> composite) of one format."""
    from _formats import _bytes, _litert

    from inpaint_tf import export

    if fmt == "keras":
        from inpaint_tf.evaluation.protocols import as_predict_fn

        path = folder / "model.keras"
        network.save(path)
        return _bytes(path), as_predict_fn(network)
    if fmt == "tflite":
        path = export.export_tflite(network, folder / f"model_{quantize}.tflite",
                                    quantize=quantize)
        serve = _litert(path, threads=2)
        return _bytes(path), lambda image, mask: serve(image=image, mask=mask)["inpainted"]
    import onnxruntime

    path = export.export_onnx(network, folder / "model.onnx")
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return _bytes(path), lambda image, mask: session.run(
        ["inpainted"], {"image": image, "mask": mask})[0]


def _batched(predict, batch: int = 100):
    def run(images, masks):
        return np.concatenate([predict(images[i:i + batch].astype(np.float32),
                                       masks[i:i + batch].astype(np.float32))
                               for i in range(0, len(images), batch)])

    return run


def measure(model_name: str, masks_kind: str, n: int, data=None) -> list[dict]:
    from inpaint_tf.compositing import fill_holes
    from inpaint_tf.data import load_cifar10
    from inpaint_tf.evaluation.protocols import evaluate
    from inpaint_tf.masks import eval_masks
    from inpaint_tf.presets import pretrained, pretrained_manifest

    network = pretrained(model_name)
    fill = pretrained_manifest(model_name)["fill_value"]
    images = load_cifar10(data).test.images[:n]
    masks = eval_masks(masks_kind, len(images))
    floats, holes = images.astype(np.float32) / 255.0, masks.astype(np.float32)
    rows, reference = [], None
    with tempfile.TemporaryDirectory() as folder:
        for fmt, quantize in FORMATS:
            size, predict = _runner(network, Path(folder), fmt, quantize)
            predict = _batched(predict)
            outputs = np.asarray(predict(fill_holes(floats, holes, fill), holes), np.float32)
            reference = outputs if reference is None else reference
            row = evaluate(predict, images, masks, fill_value=fill, mask_kind=masks_kind)
            rows.append({"format": fmt + (f" ({quantize})" if quantize else ""),
                         "MB": round(size / 2**20, 2), "hole PSNR (dB)": row["hole_psnr"],
                         "max abs diff": float(np.abs(outputs - reference).max())})
    keras_psnr = rows[0]["hole PSNR (dB)"]
    for row in rows:
        row["PSNR cost (dB)"] = round(keras_psnr - row["hole PSNR (dB)"], 4) + 0.0  # no -0
    return rows


PHOTO_FORMATS = (("tflite", None), ("tflite", "float16"), ("onnx", None))


def measure_photos(model_name: str, sources, limit: int | None = None,
                   formats=PHOTO_FORMATS) -> list[dict]:
    """Per photo family: the Keras model's pooled hole PSNR and each fixed-size file's,
    served by `inpaint` on the same photos and holes."""
    from inpaint_tf import export, inpaint
    from inpaint_tf.evaluation.photos import (
        PHOTO_MASK_KINDS,
        evaluate_photos,
        load_photo_set,
        photo_predict_fn,
    )
    from inpaint_tf.masks import eval_photo_masks
    from inpaint_tf.presets import pretrained

    network = pretrained(model_name)
    photos = load_photo_set(sources, limit=limit)
    masks = {kind: eval_photo_masks(kind, photos.images) for kind in PHOTO_MASK_KINDS}
    runners = {"keras": photo_predict_fn(network)}
    with tempfile.TemporaryDirectory() as folder:
        for fmt, quantize in formats:
            label = fmt + (f" ({quantize})" if quantize else "")
            path = export.export_model(network, Path(folder) / f"model_{quantize}.{fmt}",
                                       format=fmt, quantize=quantize)
            served = export.load_exported(path)
            size = export.read_export_metadata(path)
            runners[f"{label} {size['height']}x{size['width']}"] = (
                lambda image, mask, served=served: inpaint(served, image, mask, verbose=0))
        rows = []
        for kind, kind_masks in masks.items():
            scores = {label: evaluate_photos(predict, photos.images, kind_masks, name=label,
                                             mask_kind=kind)
                      for label, predict in runners.items()}
            keras_psnr = scores["keras"]["hole_psnr"]
            for label, row in scores.items():
                rows.append({"masks": kind, "format": label, "n": row["n"],
                             "hole PSNR (dB)": round(row["hole_psnr"], 3),
                             "PSNR cost (dB)": round(keras_psnr - row["hole_psnr"], 3) + 0.0,
                             "s/photo": round(row["seconds_per_photo"], 3)})
    return rows


def _print_and_write(rows: list[dict], title: str, path: Path, meta: dict) -> None:
    from _report import table

    print(title + "\n")
    header = list(rows[0])
    print(table(header, [[f"{row[k]:.4g}" if isinstance(row[k], float) else row[k]
                          for k in header] for row in rows]))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({**meta, "rows": rows}, indent=2))


def _photo_record(args, argv, started: float) -> dict:
    """What a photo run measured and where: the record beside its rows."""
    from run import machine

    from inpaint_tf.evaluation.photos import load_photo_set

    names = load_photo_set(args.photos, limit=args.limit).names
    command = ["python benchmarks/export_quality.py", *(sys.argv[1:] if argv is None else argv)]
    return {"model": args.model, "photos": args.photos, "n": len(names), "names": names,
            "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "machine": machine(), "command": " ".join(command),
            "wall_minutes": round((time.perf_counter() - started) / 60, 1)}


def main(argv=None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="own_unet_boxes", help="released model name")
    parser.add_argument("--masks", default="random_box", help="mask kind")
    parser.add_argument("--n", type=int, default=1000, help="test images")
    parser.add_argument("--data", default=None, help="local CIFAR-10 copy")
    parser.add_argument("--photos", nargs="+", default=None,
                        help="photo folders: score the fixed-size files on full-size photos")
    parser.add_argument("--limit", type=int, default=None, help="first photos only")
    parser.add_argument("--formats", default="tflite,tflite:float16,onnx",
                        help="with --photos: formats (format[:quantize]), comma-separated")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    if args.photos:
        started = time.perf_counter()
        formats = [tuple(item.split(":")) if ":" in item else (item, None)
                   for item in args.formats.split(",")]
        rows = measure_photos(args.model, args.photos, args.limit, formats)
        _print_and_write(rows, f"{args.model} on the photos of {' '.join(args.photos)}",
                         args.json or HERE / "export_quality_photos.json",
                         _photo_record(args, argv, started))
        return rows
    rows = measure(args.model, args.masks, args.n, args.data)
    _print_and_write(rows, f"{args.model} on {args.n} CIFAR-10 test images, {args.masks} masks",
                     args.json or HERE / "results" / "export_quality.json",
                     {"model": args.model, "masks": args.masks, "n": args.n})
    return rows


if __name__ == "__main__":
    main()
