"""Distribution: which devices and hosts train a run, and how its batches reach them.

A run's strategy is one of `STRATEGIES`:

- ``"default"``: one device.
- ``"mirrored"``: `tf.distribute.MirroredStrategy`, every GPU of this host.
- ``"multi-worker"``: `tf.distribute.MultiWorkerMirroredStrategy`, every GPU (or the
  CPU) of several hosts, the cluster read from the environment variable
  ``TF_CONFIG`` (one process per host, each with its own ``task.index``). TensorFlow
  forms the cluster before its runtime starts: make this strategy first thing in
  the program (`train` and ``inpaint-tf train --strategy multi-worker`` do).
- ``"tpu"``: `tf.distribute.TPUStrategy` on the TPU found by
  `tf.distribute.cluster_resolver.TPUClusterResolver`: ``$INPAINT_TF_TPU`` if set (a
  TPU name or ``grpc://`` address), else ``"local"``, a TPU attached to this VM
  (Kaggle's and Colab's TPU VMs).

The config's ``training.batch_size`` is the *global* batch: every optimizer step
sees that many images whatever the strategy, and each of the N replicas computes
its gradient on ``batch_size / N`` of them. Losses are means over the global batch
(Keras' losses and the GAN's divide by the global size once), so a run on N
replicas follows, within float round-off, the run on one device with the same
config and seed. The learning rate therefore goes with the global batch: the
library never rescales it. Changing ``batch_size`` by a factor k is a different
experiment; the usual rule is to scale the learning rate by k (SGD; with a warm-up,
e.g. ``schedule = "one_cycle"``) or by √k (Adam), then check it.

Example:
    >>> check_batch_divides(32, 4)
    8
"""

from __future__ import annotations

import contextlib
import json
import os
from typing import NamedTuple

from inpaint_tf._validation import check_positive_int

STRATEGIES = ("default", "mirrored", "multi-worker", "tpu")
"""The strategies a run takes: one device, this host's GPUs, several hosts, a TPU."""
TPU_ADDRESS_VARIABLE = "INPAINT_TF_TPU"

# A process can form its cluster or initialise its TPU once: the strategy is kept.
_MADE: dict[str, object] = {}

_TF_CONFIG_EXAMPLE = ('{"cluster": {"worker": ["host0:12345", "host1:12345"]}, '
                      '"task": {"type": "worker", "index": 0}}')


class WorkerRole(NamedTuple):
    """This process's place in a run: worker `index` of `count`; the chief writes."""

    index: int
    count: int
    is_chief: bool


def check_strategy(name: str) -> str:
    if name not in STRATEGIES:
        raise ValueError(f"`strategy` must be one of {STRATEGIES}. Received: strategy={name!r}")
    return name


def read_tf_config(environ=None) -> dict:
    """The cluster and task of ``$TF_CONFIG``, checked, with a clear error for each mistake.

    Example:
        >>> read_tf_config({"TF_CONFIG": '{"cluster": {"worker": ["a:1", "b:1"]}, '
        ...                 '"task": {"type": "worker", "index": 1}}'})["task"]
        {'type': 'worker', 'index': 1}
    """
    text = (os.environ if environ is None else environ).get("TF_CONFIG", "")
    if not text.strip():
        raise ValueError("strategy='multi-worker' reads the cluster from the environment "
                         "variable TF_CONFIG, which is not set. Each host sets it, with its "
                         f"own task index, e.g. TF_CONFIG='{_TF_CONFIG_EXAMPLE}'")
    try:
        config = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"TF_CONFIG is not JSON ({error}). Received: TF_CONFIG={text!r}") \
            from None
    cluster = config.get("cluster") if isinstance(config, dict) else None
    if not isinstance(cluster, dict) or not any(
            isinstance(cluster.get(job), list) and cluster[job] for job in ("chief", "worker")):
        raise ValueError("TF_CONFIG must list the cluster's hosts under cluster.worker (and "
                         f"optionally cluster.chief), e.g. {_TF_CONFIG_EXAMPLE}. "
                         f"Received: TF_CONFIG={text!r}")
    task = config.get("task")
    kind = task.get("type") if isinstance(task, dict) else None
    index = task.get("index") if isinstance(task, dict) else None
    if kind not in ("chief", "worker") or not isinstance(cluster.get(kind), list) \
            or isinstance(index, bool) or not isinstance(index, int) \
            or not 0 <= index < len(cluster[kind]):
        raise ValueError("TF_CONFIG's task must name this host in the cluster: "
                         '{"type": "worker" (or "chief"), "index": i} with i < the number '
                         f"of hosts of that type. Received: TF_CONFIG={text!r}")
    return config


def cluster_role(config: dict) -> WorkerRole:
    """Worker index, worker count and chief flag of a `read_tf_config` result.

    The chief is the "chief" task, else worker 0; with a chief, it is worker 0 and
    the workers follow it.
    """
    cluster, task = config["cluster"], config["task"]
    chiefs = len(cluster.get("chief") or [])
    count = chiefs + len(cluster.get("worker") or [])
    if task["type"] == "chief":
        return WorkerRole(0, count, True)
    return WorkerRole(chiefs + task["index"], count, chiefs == 0 and task["index"] == 0)


def make_strategy(name: str):
    """The `tf.distribute` strategy `name` (see the module docstring), made once per process.

    Raises:
        ValueError: an unknown name; "multi-worker" without a valid ``$TF_CONFIG``.
        RuntimeError: "multi-worker" after TensorFlow's runtime started; "tpu"
            where no TPU answers.

    Example:
        >>> make_strategy("default").num_replicas_in_sync      # doctest: +SKIP
        1
    """
    import tensorflow as tf

    check_strategy(name)
    if name == "default":
        return tf.distribute.get_strategy()
    if name not in _MADE:
        _MADE[name] = {"mirrored": tf.distribute.MirroredStrategy,
                       "multi-worker": _multi_worker_strategy, "tpu": _tpu_strategy}[name]()
    return _MADE[name]


def _multi_worker_strategy():
    import tensorflow as tf

    read_tf_config()
    try:
        return tf.distribute.MultiWorkerMirroredStrategy()
    except RuntimeError as error:
        if "startup" not in str(error):
            raise
        raise RuntimeError(
            "strategy='multi-worker' must be made before TensorFlow's runtime starts (it "
            "forms the cluster then): call inpaint_tf.training.distribution.make_strategy("
            "'multi-worker'), or train(), before any TensorFlow op in this process (in a "
            "notebook, first thing after a restart)") from None


def _tpu_strategy():
    import tensorflow as tf

    address = os.environ.get(TPU_ADDRESS_VARIABLE, "local")
    try:
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu=address)
        tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
    except (ValueError, RuntimeError, tf.errors.OpError) as error:
        detail = str(error).strip().splitlines()[0] if str(error).strip() else repr(error)
        raise RuntimeError(
            f"strategy='tpu' found no TPU at tpu={address!r} ({detail}). On a TPU VM "
            "(Kaggle, Colab) choose the TPU accelerator; to reach a TPU node, set "
            f"{TPU_ADDRESS_VARIABLE} to its name or grpc:// address") from None
    return tf.distribute.TPUStrategy(resolver)


def worker_role(name: str) -> WorkerRole:
    """This process's `WorkerRole` under strategy `name` (one worker unless multi-worker)."""
    if check_strategy(name) == "multi-worker":
        return cluster_role(read_tf_config())
    return WorkerRole(0, 1, True)


def check_batch_divides(batch_size: int, replicas: int) -> int:
    """The per-replica batch: `batch_size` split evenly over `replicas`, else a ValueError."""
    batch_size = check_positive_int(batch_size, "batch_size")
    if batch_size % replicas:
        raise ValueError(f"training.batch_size is the global batch, split evenly over the "
                         f"{replicas} replicas: it must be a multiple of {replicas}. "
                         f"Received: batch_size={batch_size}")
    return batch_size // replicas


def check_workers_agree(strategy, value: int, what: str) -> None:
    """Every worker of a multi-worker run must start from the same completed epoch.

    Each worker reads the run folder; a worker that cannot see the chief's (a folder
    that is not on storage every host shares) would start elsewhere, and the
    workers' steps would no longer pair up. All workers raise the same error.
    """
    import numpy as np
    import tensorflow as tf

    if strategy.num_replicas_in_sync == 1:
        return
    per_replica = strategy.run(lambda: tf.constant([float(value)]))
    seen = np.asarray(strategy.gather(per_replica, axis=0)).astype(int).tolist()
    if len(set(seen)) > 1:
        raise RuntimeError(
            f"The workers see different {what} ({seen}, one per replica): the run folder "
            "must be on storage that every host reads (a shared file system), so that a "
            "restarted worker resumes where the chief does")


@contextlib.contextmanager
def keras_distributed_fit():
    """Lets Keras' `fit` train under `tf.distribute`'s multi-worker strategy.

    Keras 3 (up to 3.15 at least, keras-team/keras#20585) fails there twice: before
    the first step it reduces a whole nested batch with `strategy.reduce`, which
    MultiWorkerMirroredStrategy refuses, although only the batch's shapes are
    needed (taken here, under every strategy, from this worker's first replica: the
    shapes the reduction would give); and it averages each step's logs over replicas
    with ``axis=0``, which fails on scalars (reduced here over replicas only, under
    the multi-worker strategy). Both are replaced for the duration of the block, then
    restored.
    """
    import tensorflow as tf
    from keras import tree

    try:
        from keras.src.backend.tensorflow import trainer
    except ImportError:  # another Keras layout: nothing known to repair
        yield
        return
    originals = (trainer.reduce_per_replica, trainer.TensorFlowTrainer._maybe_symbolic_build)
    reduce_per_replica, symbolic_build = originals

    def is_multi_worker(strategy) -> bool:
        return (isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy)
                and strategy.extended._in_multi_worker_mode())

    def mean_over_replicas(values, strategy, reduction):
        if reduction in ("auto", "mean") and is_multi_worker(strategy):
            return tree.map_structure(
                lambda v: strategy.reduce("MEAN", v, axis=None)
                if isinstance(v, tf.distribute.DistributedValues) else v, values)
        return reduce_per_replica(values, strategy, reduction)

    def build_from_local_batch(self, iterator=None, data_batch=None):
        if iterator is None or self._distribute_strategy is None:
            return symbolic_build(self, iterator=iterator, data_batch=data_batch)
        local = self.distribute_strategy.experimental_local_results
        for _, _, batches in iterator:
            data_batch = tree.map_structure(
                lambda v: local(v)[0] if isinstance(v, tf.distribute.DistributedValues)
                else v, next(batches))
            break
        with self.distribute_strategy.scope():
            self._symbolic_build(data_batch=data_batch)

    trainer.reduce_per_replica = mean_over_replicas
    trainer.TensorFlowTrainer._maybe_symbolic_build = build_from_local_batch
    try:
        yield
    finally:
        trainer.reduce_per_replica, trainer.TensorFlowTrainer._maybe_symbolic_build = originals
