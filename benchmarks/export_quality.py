"""What each export format costs in quality: a released model exported to every format,
then scored in its own runtime on the CIFAR-10 test images with the fixed masks.

Prints a Markdown table (format, file size, hole PSNR, its difference to Keras, the max
abs difference of the composite to Keras) and writes it as JSON. Needs a local CIFAR-10
copy (``--data`` or ``$INPAINT_TF_DATA``) and the export extra.

    python benchmarks/export_quality.py --model own_unet_boxes --masks random_box --n 1000
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
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


def main(argv=None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="own_unet_boxes", help="released model name")
    parser.add_argument("--masks", default="random_box", help="mask kind")
    parser.add_argument("--n", type=int, default=1000, help="test images")
    parser.add_argument("--data", default=None, help="local CIFAR-10 copy")
    parser.add_argument("--json", type=Path, default=HERE / "results" / "export_quality.json")
    args = parser.parse_args(argv)
    rows = measure(args.model, args.masks, args.n, args.data)
    from _report import table

    print(f"{args.model} on {args.n} CIFAR-10 test images, {args.masks} masks\n")
    header = list(rows[0])
    print(table(header, [[f"{row[k]:.4g}" if isinstance(row[k], float) else row[k]
                          for k in header] for row in rows]))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"model": args.model, "masks": args.masks, "n": args.n,
                                     "rows": rows}, indent=2))
    return rows


if __name__ == "__main__":
    main()
