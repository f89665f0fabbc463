"""Run as a script: the masked losses on one device and under MirroredStrategy on two
logical CPUs, for the same global batches (logical devices must be configured before
TensorFlow starts, hence a separate process).

Prints one JSON line: {"replicas": 2, "direct": {loss: [single, mirrored]},
"fit": {loss: {"single": [...], "mirrored": [...], "update_difference": float}}}.
"direct" sums the per-replica values of ``loss(y, p, sample_weight=mask)`` (each replica
returns its share of the global mean); "fit" trains identical models for two SGD steps
and gives the largest difference between their weight updates relative to the largest update.
"""

import json
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import tensorflow as tf  # noqa: E402

cpus = tf.config.list_physical_devices("CPU")
tf.config.set_logical_device_configuration(cpus[0], [tf.config.LogicalDeviceConfiguration()] * 2)

import keras  # noqa: E402
import numpy as np  # noqa: E402

from inpaint_tf.losses import MaskedL1, MaskedL2, PConvLoss  # noqa: E402

GLOBAL_BATCH, SIZE = 4, 16
rng = np.random.default_rng(0)
images = rng.uniform(size=(2 * GLOBAL_BATCH, SIZE, SIZE, 3)).astype(np.float32)
outputs = rng.uniform(size=images.shape).astype(np.float32)
masks = (rng.uniform(size=(2 * GLOBAL_BATCH, SIZE, SIZE, 1)) > 0.7).astype(np.float32)
masks[0] = 1.0  # an all-hole and a no-hole image in the batch
masks[1] = 0.0
strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
keras.utils.set_random_seed(0)
vgg_loss = PConvLoss(vgg_weights=None)  # built outside the scope: read from each replica


def make_losses():
    pconv = PConvLoss(vgg_weights=None)
    pconv.vgg.set_weights(vgg_loss.vgg.get_weights())
    return {"masked_l1": MaskedL1(hole_weight=6.0),
            "masked_l2_region": MaskedL2(2.0, 0.5, normalize="region"), "pconv": pconv}


def direct_values():
    batch = (images[:GLOBAL_BATCH], outputs[:GLOBAL_BATCH], masks[:GLOBAL_BATCH])
    dataset = strategy.experimental_distribute_dataset(
        tf.data.Dataset.from_tensor_slices(batch).batch(GLOBAL_BATCH))
    distributed = next(iter(dataset))
    results = {}
    for name, loss in {**make_losses(), "pconv": vgg_loss}.items():
        single = float(loss(*batch[:2], sample_weight=batch[2]))
        per_replica = strategy.run(lambda y, p, m, f=loss: f(y, p, sample_weight=m),
                                   args=distributed)
        mirrored = float(strategy.reduce(tf.distribute.ReduceOp.SUM, per_replica, axis=None))
        results[name] = [single, mirrored]
    return results


def tiny_model():
    image = keras.Input((SIZE, SIZE, 3), name="image")
    mask = keras.Input((SIZE, SIZE, 1), name="mask")
    x = keras.layers.Concatenate()([image, mask])
    x = keras.layers.Conv2D(4, 3, padding="same", activation="relu")(x)
    out = keras.layers.Conv2D(3, 3, padding="same", activation="sigmoid")(x)
    return keras.Model({"image": image, "mask": mask}, out)


def fit(name, initial_weights, learning_rate):
    model = tiny_model()
    model.set_weights(initial_weights)
    model.compile(keras.optimizers.SGD(learning_rate), loss=make_losses()[name])
    dataset = tf.data.Dataset.from_tensor_slices(
        ({"image": images * (1 - masks), "mask": masks}, images, masks)).batch(GLOBAL_BATCH)
    history = model.fit(dataset, epochs=1, verbose=0, shuffle=False).history["loss"]
    return history, model.get_weights()


results = {"replicas": strategy.num_replicas_in_sync, "direct": direct_values(), "fit": {}}
initial = tiny_model().get_weights()
for loss_name, learning_rate in (("masked_l1", 0.5), ("pconv", 1e-4)):
    single, single_weights = fit(loss_name, initial, learning_rate)
    with strategy.scope():
        mirrored, mirrored_weights = fit(loss_name, initial, learning_rate)
    updates = [(a - w, b - w) for a, b, w in zip(single_weights, mirrored_weights, initial)]
    largest = max(float(np.max(np.abs(a))) for a, _ in updates)
    difference = max(float(np.max(np.abs(a - b))) for a, b in updates) / largest
    results["fit"][loss_name] = {"single": single, "mirrored": mirrored,
                                 "update_difference": difference}
print(json.dumps(results))
