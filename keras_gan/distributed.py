"""Distribution strategies (`get_strategy`), and training across processes:
`MultiWorkerMirroredStrategy` with keras-gan's own loop.

Keras 3's `fit` fails under `MultiWorkerMirroredStrategy` (keras-team/keras#20585),
so `--strategy multi-worker` runs the GAN's own `train_step` through
`strategy.run` in a `tf.function`, feeding the same callbacks `fit` would.

Each process is one worker named by `TF_CONFIG` (the TensorFlow convention):

    TF_CONFIG='{"cluster": {"worker": ["host1:12345", "host2:12345"]},
                "task": {"type": "worker", "index": 0}}' kgan fit --strategy multi-worker ...

Worker 0 (or the task of type `chief`, if the cluster has one) is the chief: it
writes the run directory. The others run the very same code with a scratch
directory as their run directory, because saving a checkpoint can read variables
through collectives that every worker must join (TF's documented pattern). All
workers restore from the chief's checkpoints, so the run directory must be on a
file system every worker sees (one machine, NFS, GCS).

Every step takes the global batch that a single process would take (a pure
function of the seed and the step, `data.pipeline.make_dataset`) and each worker keeps
its slice of it, so N workers train what one process with the same global batch
trains. A signal to any worker stops all of them after the same step, with a
checkpoint.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal

import keras
import numpy as np
import tensorflow as tf

from keras_gan.config import ConfigError


def get_strategy(name: str) -> tf.distribute.Strategy:
    """`auto` (mirrored over all GPUs if several, else the default), `one`, `mirrored`,
    `multi-worker` (the cluster in TF_CONFIG; create it before any other TF op)."""
    if name == "multi-worker":
        return multi_worker_strategy()
    gpus = tf.config.list_logical_devices("GPU")
    if name == "auto":
        return mirrored_strategy() if len(gpus) > 1 else tf.distribute.get_strategy()
    if name == "one":
        return tf.distribute.OneDeviceStrategy(gpus[0].name if gpus else "/cpu:0")
    if name == "mirrored":
        return mirrored_strategy()
    raise ConfigError(f"unknown strategy {name!r}; valid: auto, one, mirrored, multi-worker")


def mirrored_strategy(devices: list[str] | None = None) -> tf.distribute.MirroredStrategy:
    """MirroredStrategy over all GPUs, else all logical CPUs.

    On CPUs TF picks collective ops, whose launch order can differ between replica
    threads when independent branches (D on real images, G's forward pass) each
    hold synchronised batch norms: the run then fails with "Shape mismatch in the
    collective instance". Reducing through one device goes by `merge_call`, which
    keeps every replica in program order.
    """
    gpus = [d.name for d in tf.config.list_logical_devices("GPU")]
    devices = devices or gpus or [d.name for d in tf.config.list_logical_devices("CPU")]
    on_cpu = all("CPU" in d.upper() for d in devices)
    cross_device_ops = tf.distribute.ReductionToOneDevice() if on_cpu else None
    return tf.distribute.MirroredStrategy(devices, cross_device_ops=cross_device_ops)


def multi_worker_strategy() -> tf.distribute.MultiWorkerMirroredStrategy:
    """The strategy for the cluster in `TF_CONFIG`, checked first for clear errors."""
    raw = os.environ.get("TF_CONFIG")
    if not raw:
        raise ConfigError(
            "--strategy multi-worker needs TF_CONFIG, e.g. "
            '\'{"cluster": {"worker": ["host1:12345", "host2:12345"]}, '
            '"task": {"type": "worker", "index": 0}}\' (one index per process)'
        )
    try:
        spec = json.loads(raw)
        cluster, task = spec["cluster"], spec["task"]
        members = cluster[task["type"]]
        index = int(task["index"])
    except (ValueError, KeyError, TypeError) as e:
        raise ConfigError(
            f"TF_CONFIG must be JSON with cluster.<type>: [host:port, ...] and "
            f"task.type/task.index naming one of them: {type(e).__name__}: {e}"
        ) from None
    if not 0 <= index < len(members):
        raise ConfigError(
            f"TF_CONFIG task.index {index} is outside cluster.{task['type']} "
            f"({len(members)} members)"
        )
    return tf.distribute.MultiWorkerMirroredStrategy(
        communication_options=tf.distribute.experimental.CommunicationOptions(
            implementation=tf.distribute.experimental.CommunicationImplementation.RING
        )
    )


def is_chief(strategy: tf.distribute.Strategy) -> bool:
    """True in a single process, and on the chief of a cluster."""
    resolver = getattr(strategy, "cluster_resolver", None)
    multi_worker = isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy)
    if not multi_worker or resolver is None or resolver.task_type is None:
        return True
    if resolver.task_type == "chief":
        return True
    has_chief = "chief" in resolver.cluster_spec().as_dict()
    return resolver.task_type == "worker" and resolver.task_id == 0 and not has_chief


def worker_slices(strategy, dataset: tf.data.Dataset, global_batch: int):
    """A distributed dataset in which each replica gets its slice of every global batch.

    Workers take consecutive slices in pipeline order; a worker with several local
    replicas hands them consecutive sub-slices (tf.distribute gives each local
    replica the next element).
    """
    replicas = strategy.num_replicas_in_sync
    if global_batch % replicas:
        raise ConfigError(
            f"train.batch_size ({global_batch}) must divide among the {replicas} replicas"
        )

    def per_worker(context: tf.distribute.InputContext):
        per_replica = context.get_per_replica_batch_size(global_batch)
        width = global_batch // context.num_input_pipelines
        first = context.input_pipeline_id * width

        def slice_of(batch):
            return {key: value[first : first + width] for key, value in batch.items()}

        return dataset.map(slice_of).unbatch().batch(per_replica, drop_remainder=True)

    return strategy.distribute_datasets_from_function(per_worker)


def train_loop(
    model, strategy, dataset, global_batch: int, steps: int, state, callbacks, received
) -> None:
    """`steps` training steps of `model.train_step`, reporting to `callbacks` like `fit`.

    `received` holds the signals this worker got (appended at any moment). Workers
    stop only on a request every one of them has seen, all after the same step: the
    request rides along with the step's collectives, and is recorded in `state`.
    """
    iterator = iter(worker_slices(strategy, dataset, global_batch))

    @tf.function
    def step_fn(iterator, stop_here):
        logs = strategy.run(model.train_step, args=(next(iterator),))
        logs = {k: strategy.reduce("MEAN", v, axis=None) for k, v in logs.items()}
        # as fit: sorted names, then "loss"
        logs = {**{k: logs[k] for k in sorted(logs) if k != "loss"}, "loss": logs["loss"]}
        stops = strategy.run(lambda flag: flag, args=(stop_here,))
        return logs, strategy.reduce("SUM", stops, axis=None)

    model.stop_training = False
    callbacks = keras.callbacks.CallbackList(callbacks, model=model)
    callbacks.on_train_begin()
    for batch in range(steps):
        requested = received[0] if received else None
        logs, stops = step_fn(iterator, tf.constant(0.0 if requested is None else 1.0))
        if float(stops) > 0:
            state.signum = requested or signal.SIGTERM
        callbacks.on_train_batch_end(batch, logs)
        if model.stop_training:
            break
    callbacks.on_train_end()


def weights_fingerprint(model) -> str:
    """sha256 of every network weight, in order: equal on workers that agree."""
    digest = hashlib.sha256()
    for network in model.networks.values():
        for weight in network.weights:
            digest.update(np.ascontiguousarray(weight.numpy()).tobytes())
    return digest.hexdigest()[:16]
