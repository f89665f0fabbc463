"""Inference: the Keras model in process against its exported SavedModel."""

from __future__ import annotations

import tempfile

import _models
from _timing import median, release, time_calls

MODEL = "conv_autoencoder"


def _batched(call, inputs: dict, batch_size: int):
    """A function that runs `call(image, mask)` over all of `inputs`, batch by batch."""
    count = len(inputs["image"])
    batches = [(inputs["image"][i:i + batch_size], inputs["mask"][i:i + batch_size])
               for i in range(0, count - batch_size + 1, batch_size)]

    def run_all():
        for image, mask in batches:
            call(image, mask)

    return run_all, len(batches) * batch_size


def _measure(call, run_all, images: int, inputs: dict, settings) -> dict:
    seconds = time_calls(run_all, warmup=1, repeats=settings.inference_repeats)
    image, mask = inputs["image"][:1], inputs["mask"][:1]
    latency = time_calls(lambda: call(image, mask), warmup=3, repeats=settings.latency_calls)
    return {"images_per_second": images / median(seconds),
            "latency_ms_batch1": 1000 * median(latency)}


def inference_table(images, settings) -> dict:
    """Images/s at a batch size and batch-1 latency: compiled Keras call, `predict`,
    and the SavedModel's ``serve`` (which also pads, clips and composites)."""
    import numpy as np
    import tensorflow as tf

    from inpaint_tf.compositing import fill_holes
    from inpaint_tf.export.formats import export_saved_model
    from inpaint_tf.masks import generate_masks

    network = _models.build(MODEL, "float32")
    count, batch_size = settings.inference_images, settings.inference_batch
    floats = images[:count].astype(np.float32) / 255.0
    masks = generate_masks("irregular", count, seed=0).astype(np.float32)
    inputs = {"image": tf.constant(fill_holes(floats, masks)), "mask": tf.constant(masks)}

    compiled = tf.function(lambda image, mask: network({"image": image, "mask": mask},
                                                       training=False))

    def keras_call(image, mask):
        return compiled(image, mask).numpy()

    def keras_predict(image, mask):
        return network.predict({"image": image, "mask": mask}, batch_size=batch_size,
                               verbose=0)

    run_all, total = _batched(keras_call, inputs, batch_size)
    result = {"keras_call": _measure(keras_call, run_all, total, inputs, settings),
              # predict splits the whole array into batches itself
              "keras_predict": _measure(
                  keras_predict, lambda: keras_predict(inputs["image"], inputs["mask"]),
                  count, inputs, settings)}
    with tempfile.TemporaryDirectory() as folder:
        served = tf.saved_model.load(str(export_saved_model(network, f"{folder}/model")))

        def saved_model(image, mask):
            return served.serve(image=image, mask=mask)["inpainted"].numpy()

        run_all, total = _batched(saved_model, inputs, batch_size)
        result["saved_model"] = _measure(saved_model, run_all, total, inputs, settings)
    release()
    for name, value in result.items():
        print(f"  {name:14s} {value['images_per_second']:9.1f} images/s (batch {batch_size}), "
              f"batch 1: {value['latency_ms_batch1']:7.2f} ms", flush=True)
    keras_best = max(result["keras_call"]["images_per_second"],
                     result["keras_predict"]["images_per_second"])
    return {"model": MODEL, "precision": "float32", "batch_size": batch_size, **result,
            "saved_model_over_keras": result["saved_model"]["images_per_second"] / keras_best}
