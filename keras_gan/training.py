"""`fit(config)`: the one entry point that trains a GAN and writes a run directory.

A run directory holds `config.json` (the resolved config), `dataset.json` (label
names, skipped counts), `checkpoints/` (see `keras_gan.checkpoints`: a kill never
leaves a torn checkpoint in use, a damaged one is skipped for the one before),
`log.csv`, `tensorboard/`, `samples/step_XXXXXX.png`, and at the end `model.keras`.

Each batch carries its own noise, drawn from (seed, step): training is a pure
function of the config and the step, which makes `--resume` exact and gives the
same result on one device or N replicas.
"""

from __future__ import annotations

import contextlib
import dataclasses
import inspect
import json
import os
import re
import signal
import tempfile
from pathlib import Path
from typing import Callable

import keras
import numpy as np
import tensorflow as tf

from keras_gan import checkpoints
from keras_gan import data as data_lib
from keras_gan import distributed
from keras_gan import models  # noqa: F401  (registers the models)
from keras_gan.callbacks.monitor import RunMonitor
from keras_gan.config import ConfigError
from keras_gan.config import RunConfig
from keras_gan.files import atomic_write_json
from keras_gan.models.base import Regularization
from keras_gan.registry import MODELS
from keras_gan.sampling import from_uint8


class TrainingInterrupted(RuntimeError):
    """SIGINT/SIGTERM arrived; a checkpoint was saved. `signum` says which."""

    def __init__(self, message, signum):
        super().__init__(message)
        self.signum = signum


class TrainingDiverged(RuntimeError):
    """A loss or weight became NaN/Inf; no checkpoint of that state was written."""


def get_strategy(name: str) -> tf.distribute.Strategy:
    """`auto` (mirrored over all GPUs if several, else the default), `one`, `mirrored`,
    `multi-worker` (the cluster in TF_CONFIG; create it before any other TF op)."""
    if name == "multi-worker":
        return distributed.multi_worker_strategy()
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


def resolve_model_kwargs(config: RunConfig, data: data_lib.ImageData) -> dict:
    """The model's constructor kwargs: the user's, plus what the data decides."""
    model_cls = MODELS.get(config.model)
    accepted = inspect.signature(model_cls.__init__).parameters
    text = isinstance(data, data_lib.TextData)
    if text != (getattr(model_cls, "modality", "image") == "text"):
        raise ConfigError(
            f"model {config.model!r} trains on {'images' if text else 'text'}; "
            f"{config.data.spec!r} is {'text' if text else 'images'}"
        )
    from_data = (
        {"vocab_size": len(data.vocab), "length": data.length}
        if text
        else {"image_size": config.data.image_size, "channels": config.data.channels}
    )
    if "num_classes" in accepted:
        optional = accepted["num_classes"].default == 0  # conditional only if data has labels
        if not data.num_classes and not optional:
            raise ConfigError(f"model {config.model!r} is conditional but the data has no labels")
        from_data["num_classes"] = data.num_classes
    kwargs = dict(config.model_kwargs)
    for key, value in from_data.items():
        if key in kwargs and kwargs[key] != value:
            raise ConfigError(
                f"model_kwargs.{key}={kwargs[key]!r} conflicts with the data ({value!r}); "
                f"set it through {'the text: spec' if text else f'data.{key}'} instead"
                if key != "num_classes"
                else f"model_kwargs.num_classes={kwargs[key]!r} but the data has {value} classes"
            )
        kwargs[key] = value
    unknown = sorted(set(kwargs) - set(accepted) - {"name"})
    if unknown and not any(
        p.kind == p.VAR_KEYWORD for p in accepted.values() if p.name != "kwargs"
    ):
        valid = [p for p in accepted if p not in ("self", "kwargs")]
        raise ConfigError(
            f"model {config.model!r} has no argument {unknown[0]!r}; valid model_kwargs: "
            + ", ".join(valid)
        )
    kwargs.setdefault("seed", config.train.seed)
    return kwargs


# train.* keys that go to GAN.compile (one definition: the Regularization fields).
REGULARIZATION = tuple(f.name for f in dataclasses.fields(Regularization))


@contextlib.contextmanager
def dtype_policy(name: str):
    """Layers built inside take the `name` policy (e.g. mixed_bfloat16); the global
    policy is restored after, so nothing else in the process changes."""
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(name)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


def build_model(config: RunConfig, model_kwargs: dict):
    """Constructs and compiles the model (call inside the strategy's scope)."""
    keras.utils.set_random_seed(config.train.seed)
    try:
        with dtype_policy(config.train.precision):
            model = MODELS.get(config.model)(**model_kwargs)
    except (TypeError, ValueError) as e:
        raise ConfigError(f"model {config.model!r}: {e}") from None
    try:
        model.compile(
            loss=config.train.loss,
            jit_compile=config.train.jit_compile,
            **{key: getattr(config.train, key) for key in REGULARIZATION},
        )
    except ValueError as e:
        raise ConfigError(f"train: {e}") from None
    for optimizer, rate in (
        (model.d_optimizer, config.train.d_learning_rate),
        (model.g_optimizer, config.train.g_learning_rate),
    ):
        if optimizer is not None and rate is not None:
            optimizer.learning_rate.assign(rate)
    return model


def build_for_data(config: RunConfig, data: data_lib.ImageData):
    """(model fitted to `data`, its resolved kwargs); call inside the strategy's scope."""
    model_kwargs = resolve_model_kwargs(config, data)
    model = build_model(config, model_kwargs)
    model.prepare(data)
    return model, model_kwargs


def warm_start(model, source: str | os.PathLike, label_names: list[str]) -> dict:
    """Copies the networks' weights of a trained model into `model` (fine-tuning).

    `source` holds `model.keras` and `dataset.json`. Class tables (embeddings, class
    heads: the one axis whose size is the number of classes) are matched by label
    name: a label both models know keeps its trained row; a new label starts from
    the mean of the old rows (for a new font style: the average style). Returns
    {"kept": labels kept, "new": labels started from the mean}.
    """
    source = Path(source)
    try:
        info = json.loads((source / "dataset.json").read_text(encoding="utf-8"))
        trained = keras.saving.load_model(source / "model.keras", compile=False)
    except (OSError, ValueError) as e:
        raise ConfigError(
            f"train.init_from: {str(source)!r} must hold a trained model.keras and its "
            f"dataset.json: {e}"
        ) from None
    old_names = list(info.get("label_names") or [])
    rows = [old_names.index(n) if n in old_names else -1 for n in label_names]
    for network in ("generator", "discriminator"):
        new_weights = getattr(model, network).weights
        old_weights = getattr(trained, network, None)
        old_weights = old_weights.weights if old_weights is not None else []
        if len(old_weights) != len(new_weights):
            raise ConfigError(
                f"train.init_from: {str(source)!r} holds a {type(trained).__name__} whose "
                f"{network} has {len(old_weights)} weights; this model's has {len(new_weights)}"
            )
        for new, old in zip(new_weights, old_weights):
            new.assign(_match_classes(old.numpy(), new.shape, rows, len(old_names), new.path))
    if model.ema_generator is not None:
        model.ema_generator.set_weights(model.generator.get_weights())
    return {
        "kept": [n for n, r in zip(label_names, rows) if r >= 0],
        "new": [n for n, r in zip(label_names, rows) if r < 0],
    }


def _match_classes(old: np.ndarray, shape: tuple, rows: list[int], old_count: int, name: str):
    """`old` reshaped to `shape` by picking class rows (see `warm_start`)."""
    shape = tuple(shape)
    same_labels = rows == list(range(old_count))
    # A class table: its shape changed along the classes, or it is an embedding or a
    # class head (by layer name) whose labels moved.
    is_table = old.shape != shape or (
        not same_labels and ("embedding" in name or "classes" in name)
    )
    if not is_table:
        return old
    axes = [
        a
        for a in range(old.ndim)
        if old.ndim == len(shape)
        and old.shape[a] == old_count
        and shape[a] == len(rows)
        and all(old.shape[b] == shape[b] for b in range(old.ndim) if b != a)
    ]
    if not axes:
        raise ConfigError(
            f"train.init_from: weight {name} has shape {old.shape}, this model needs {shape}"
        )
    axis = 0 if "embedding" in name else axes[-1]  # embeddings: rows; heads: last axis
    mean = old.mean(axis=axis, keepdims=True)
    picked = [np.take(old, [r], axis=axis) if r >= 0 else mean for r in rows]
    return np.concatenate(picked, axis=axis)


def make_dataset(
    data: data_lib.ImageData,
    batch_size: int,
    noise_shape: tuple[int, int],
    seed: int,
    start_step: int = 0,
    conditional: bool = True,
) -> tf.data.Dataset:
    """Batches for steps `start_step, start_step + 1, ...`, each a pure function of the step.

    Step s takes positions s*B..s*B+B-1 of the endless sequence formed by one
    seeded permutation of the data per epoch, and noise drawn from (seed, s).
    """
    text = isinstance(data, data_lib.TextData)
    examples = tf.constant(data.tokens if text else data.images)
    sources = None if text or data.sources is None else tf.constant(data.sources)
    labels = tf.constant(data.labels if data.labels is not None else np.zeros(len(data), np.int32))
    count = len(data)

    def order(step, count, stream):
        """Indices of step's batch in the stream of seeded per-epoch permutations."""
        positions = step * batch_size + tf.range(batch_size, dtype=tf.int64)
        first_epoch = positions[0] // count

        def permutation(epoch):
            key = tf.stack([tf.cast(seed, tf.int64) + stream, epoch])
            return tf.random.experimental.stateless_shuffle(tf.range(count, dtype=tf.int64), key)

        # A batch spans at most two epochs when batch_size <= count, more otherwise.
        epochs = tf.range(first_epoch, positions[-1] // count + 1)
        orders = tf.map_fn(permutation, epochs)
        return tf.gather_nd(
            orders, tf.stack([positions // count - first_epoch, positions % count], 1)
        )

    def batch_for(step):
        index = order(step, count, 0)
        chosen = tf.gather(examples, index)
        batch = {"tokens": chosen} if text else {"images": from_uint8(chosen)}
        batch["noise"] = tf.random.stateless_normal(
            [batch_size, *noise_shape], seed=tf.stack([tf.cast(seed, tf.int64) + 1, step])
        )
        if conditional:
            batch["labels"] = tf.gather(labels, index)
        if sources is not None:  # unpaired domains: the sources' own order (stream 2)
            source_index = index if data.paired else order(step, len(data.sources), 2)
            batch["sources"] = from_uint8(tf.gather(sources, source_index))
        return batch

    dataset = tf.data.Dataset.range(start_step, np.iinfo(np.int64).max)
    dataset = dataset.map(batch_for, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return dataset.prefetch(2)


def next_run_dir(root: str | os.PathLike, name: str) -> Path:
    """`root/00007-name`: one more than the highest number already there."""
    root = Path(root)
    numbers = [int(m.group(1)) for p in root.glob("*") if (m := re.match(r"(\d{5})-", p.name))]
    return root / f"{max(numbers, default=-1) + 1:05d}-{name}"


def latest_run_dir(root: str | os.PathLike) -> Path:
    runs = sorted(
        p for p in Path(root).glob("[0-9][0-9][0-9][0-9][0-9]-*") if (p / "config.json").is_file()
    )
    if not runs:
        raise ConfigError(f"no run directory with a config.json under {str(root)!r} to resume")
    return runs[-1]


def total_steps(config: RunConfig, data_size: int) -> int:
    if config.train.epochs is None:
        return config.train.steps
    return max(1, -(-config.train.epochs * data_size // config.train.batch_size))


def checkpoint_for(model, step: tf.Variable) -> tf.train.Checkpoint:
    """What a checkpoint holds: networks, optimizers, EMA generator, ADA probability, step
    (the parts a model has: a language model has no discriminator)."""
    names = ("generator", "discriminator", "d_optimizer", "g_optimizer", "ema_generator")
    parts = {name: getattr(model, name) for name in (*names, "augment_p")}
    parts = {name: part for name, part in parts.items() if part is not None}
    return tf.train.Checkpoint(step=step, **parts)


def load_run(
    run_dir: str | os.PathLike,
    checkpoint: str | None = None,
    log: Callable[[str], None] = checkpoints.to_stderr,
):
    """(model, config, dataset info) from a run directory's latest verified (or given)
    checkpoint; `log` hears about newer checkpoints that failed verification."""
    run_dir = Path(run_dir)
    try:
        config = RunConfig.from_dict(json.loads((run_dir / "config.json").read_text("utf-8")))
        info = json.loads((run_dir / "dataset.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:  # missing, unreadable or not JSON
        raise ConfigError(f"run directory {str(run_dir)!r} is damaged: {e}") from None
    model = build_model(config, config.model_kwargs)
    path = checkpoint or checkpoints.latest_verified(run_dir / "checkpoints", log)
    if path is None:
        raise ConfigError(f"run directory {str(run_dir)!r} has no checkpoint yet")
    step = tf.Variable(0, dtype=tf.int64)
    checkpoint_for(model, step).restore(path).expect_partial()
    return model, config, info


def fit(
    config: RunConfig,
    run_dir: str | os.PathLike | None = None,
    resume: bool = False,
    log: Callable[[str], None] = print,
):
    """Trains `config` and returns `(model, run_dir)`.

    Args:
        config: the run config (already merged from preset, file, flags, `--set`).
        run_dir: the run directory; by default a new numbered one under
            `config.runs_root` (or, with `resume`, the latest one there).
        resume: continue from the run directory's latest checkpoint.
        log: receives progress lines.

    Raises:
        ConfigError / DataError: bad config or data, before anything is written.
        TrainingInterrupted: SIGINT/SIGTERM; a checkpoint was saved first.
        TrainingDiverged: a loss or weight became NaN/Inf (after `train.nan_retries`
            rollbacks, if any).
    """
    config.validate()
    multi_worker = config.train.strategy == "multi-worker"
    if multi_worker and run_dir is None:
        raise ConfigError("--strategy multi-worker needs --run-dir: every worker must name it")
    if multi_worker and config.train.jit_compile:
        raise ConfigError("train.jit_compile is not supported with --strategy multi-worker")
    strategy = get_strategy(config.train.strategy)  # first: collectives start with the process
    if config.train.deterministic:
        tf.config.experimental.enable_op_determinism()
    chief = distributed.is_chief(strategy)
    if resume:
        run_dir = Path(run_dir) if run_dir else latest_run_dir(config.runs_root)
        if not (run_dir / "config.json").is_file():
            raise ConfigError(f"cannot resume: {str(run_dir)!r} holds no config.json")
    elif chief and run_dir is not None and (Path(run_dir) / "config.json").exists():
        raise ConfigError(
            f"run directory {str(run_dir)!r} already holds a run; continue it with --resume "
            "or pick another --run-dir"
        )

    data = data_lib.load_dataset(config.data.spec, config.data.image_size, config.data.channels)
    extractor = None
    if config.train.eval_every:
        from keras_gan.metrics.extractors import GlyphClassifier

        try:
            extractor = GlyphClassifier.load(config.train.eval_extractor)
        except FileNotFoundError as e:
            raise ConfigError(f"train.eval_extractor: {e}") from None
    with strategy.scope():
        model, model_kwargs = build_for_data(config, data)
        step = tf.Variable(0, dtype=tf.int64, trainable=False, name="step")
        checkpoint = checkpoint_for(model, step)
        if model.translates and (config.export_name or config.train.eval_every):
            raise ConfigError(
                f"{config.model} translates images: --export and train.eval_every need a "
                "noise-to-image model (complete fonts with `kgan font complete`)"
            )
        if model.modality == "text" and config.train.eval_every:
            raise ConfigError(
                "train.eval_every scores images; score a text model after training with "
                "kgan evaluate (BLEU, Self-BLEU, n-gram JSD, NLL)"
            )
        if config.train.init_from and not resume:
            started = warm_start(model, config.train.init_from, data.label_names)
            log(
                f"warm start from {config.train.init_from}: {len(started['kept'])} labels kept, "
                f"new: {', '.join(started['new']) or 'none'}"
            )
    config = config.merge({"model_kwargs": model_kwargs})
    steps = total_steps(config, len(data))

    if run_dir is None:
        run_dir = next_run_dir(config.runs_root, config.model)
    run_dir = shared_dir = Path(run_dir)
    if not chief:  # same code, scratch outputs (see keras_gan.distributed), removed at exit
        scratch = tempfile.TemporaryDirectory(prefix="kgan-worker-")
        run_dir = Path(scratch.name)
        config = config.merge({"export_root": str(run_dir / "export")})
    store = checkpoints.CheckpointStore(
        checkpoint, run_dir / "checkpoints", config.train.keep_checkpoints
    )
    latest = checkpoints.latest_verified(shared_dir / "checkpoints", log) if resume else None
    if latest:
        checkpoint.restore(latest).assert_existing_objects_matched()
        log(f"resumed {shared_dir} from {Path(latest).name} (step {int(step.numpy())})")
    else:  # a new run (or one killed before its first checkpoint) starts here
        store.save(0)  # divergence before the first checkpoint rolls back to here
    start = int(step.numpy())
    atomic_write_json(run_dir / "config.json", config.to_dict())
    atomic_write_json(
        run_dir / "dataset.json",
        {
            "spec": config.data.spec,
            "size": len(data),
            "label_names": data.label_names,
            "style_names": data.style_names,
            "report": data.report,
            **({"vocab": data.vocab} if isinstance(data, data_lib.TextData) else {}),
        },
    )
    log(
        f"run {run_dir}: {config.model} on {config.data.spec} "
        f"({len(data)} {'lines' if model.modality == 'text' else 'images'}, "
        f"{data.num_classes} classes, skipped {data.report.get('skipped', {})}), "
        f"{strategy.num_replicas_in_sync} replica(s), steps {start}->{steps}"
    )

    retries = config.train.nan_retries
    while True:
        monitor = RunMonitor(run_dir, config, data, step, store, start, steps, log, extractor)
        if start < steps:
            train(model, strategy, data, config, start, steps, monitor)
        if monitor.diverged_at is None:
            break
        good = checkpoints.latest_verified(shared_dir / "checkpoints", log)
        message = (
            f"training diverged at step {monitor.diverged_at} ({monitor.divergence}); "
            f"no checkpoint of it was written; the last good one is {good}"
        )
        if not retries or good is None:
            raise TrainingDiverged(
                f"{message}; lower the learning rates or set train.nan_retries to retry "
                "from it with them cut by train.nan_lr_factor"
            )
        retries -= 1
        checkpoint.restore(good).assert_existing_objects_matched()
        start = int(step.numpy())
        rates = []
        for name, optimizer in (("D", model.d_optimizer), ("G", model.g_optimizer)):
            if optimizer is not None:
                rate = optimizer.learning_rate * config.train.nan_lr_factor
                optimizer.learning_rate.assign(rate)
                rates.append(f"{name} {float(optimizer.learning_rate.numpy()):.3g}")
        log(
            f"{message}: rolled back to step {start}, learning rates cut to "
            f"{', '.join(rates)} ({retries} retries left)"
        )
    if monitor.signum is not None:
        raise TrainingInterrupted(
            f"interrupted by signal {monitor.signum} at step {int(step.numpy())}; checkpoint "
            f"saved, continue with: kgan fit --resume --run-dir {run_dir}",
            monitor.signum,
        )
    model.save(run_dir / ".model.keras.tmp.keras")
    os.replace(run_dir / ".model.keras.tmp.keras", run_dir / "model.keras")
    if config.export_name:
        from keras_gan.export import export_generator

        target = export_generator(
            model,
            Path(config.export_root) / config.export_name,
            labels=(
                data.vocab
                if model.modality == "text"
                else data.label_names
                if model.conditional
                else None
            ),
            config=config.to_dict(),
        )
        log(f"exported generator to {target}")
    if multi_worker:
        log(f"worker weights fingerprint {distributed.weights_fingerprint(model)}")
    return model, shared_dir


def train(model, strategy, data, config: RunConfig, start: int, steps: int, monitor: RunMonitor):
    """Steps `start..steps` (Keras fit, or keras-gan's loop across workers)."""
    dataset = make_dataset(
        data,
        config.train.batch_size,
        (model.noise_draws, model.latent_dim),
        config.train.seed,
        start,
        model.conditional,
    )
    model.run_eagerly = config.train.run_eagerly
    if config.train.strategy == "multi-worker":
        received = []  # the loop stops only once every worker has seen a signal
        with stop_on_signals(received.append):
            distributed.train_loop(
                model, strategy, dataset, config.train.batch_size, steps - start, monitor, received
            )
        return
    with stop_on_signals(lambda signum: setattr(monitor, "signum", signum)):
        model.fit(
            dataset,
            epochs=1,
            steps_per_epoch=steps - start,
            verbose=0,
            shuffle=False,
            callbacks=[monitor],
        )


@contextlib.contextmanager
def stop_on_signals(record: Callable[[int], None]):
    """SIGINT/SIGTERM are passed to `record` (which asks the loop to checkpoint and stop
    at the end of the step). A second signal gets the previous handler, so a stuck run
    can still be killed.
    """
    previous = {}

    def handle(signum, frame):
        record(signum)
        signal.signal(signum, previous[signum])

    try:
        for signum in (signal.SIGINT, signal.SIGTERM):
            previous[signum] = signal.signal(signum, handle)
    except ValueError:
        pass  # not the main thread (e.g. a notebook worker): leave signals alone
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
