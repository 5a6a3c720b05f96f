"""`fit(config)`: the one entry point that trains a GAN and writes a run directory.

The run directory's layout is in `keras_gan.runs`; a kill never leaves a torn
checkpoint in use, and a damaged one is skipped for the one before
(`keras_gan.checkpoints`). Batches are a pure function of (seed, step)
(`keras_gan.data.pipeline`), which makes `--resume` exact and gives the same result
on one device or N replicas.
"""

from __future__ import annotations

import contextlib
import os
import signal
import tempfile
from pathlib import Path
from typing import Callable

import tensorflow as tf

from keras_gan import checkpoints
from keras_gan import data as data_lib
from keras_gan import distributed
from keras_gan import runs
from keras_gan.callbacks import run_callbacks
from keras_gan.config import ConfigError
from keras_gan.config import RunConfig
from keras_gan.data.pipeline import make_dataset
from keras_gan.files import STORAGE_ERRNOS
from keras_gan.files import atomic_write_json
from keras_gan.files import durable_replace
from keras_gan.files import exclusive_lock


class TrainingInterrupted(RuntimeError):
    """SIGINT/SIGTERM arrived; a checkpoint was saved. `signum` says which."""

    def __init__(self, message, signum):
        super().__init__(message)
        self.signum = signum


class TrainingDiverged(RuntimeError):
    """A loss or weight became NaN/Inf; no checkpoint of that state was written."""


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
    # First: collectives start with the process.
    strategy = distributed.get_strategy(config.train.strategy)
    if config.train.deterministic:
        tf.config.experimental.enable_op_determinism()
    chief = distributed.is_chief(strategy)
    if resume:
        run_dir = Path(run_dir) if run_dir else runs.latest_run_dir(config.runs_root)
        if not (run_dir / "config.json").is_file():
            raise ConfigError(f"cannot resume: {str(run_dir)!r} holds no config.json")
    elif chief and run_dir is not None and (Path(run_dir) / "config.json").exists():
        raise ConfigError(
            f"run directory {str(run_dir)!r} already holds a run; continue it with --resume "
            "or pick another --run-dir"
        )

    with contextlib.ExitStack() as held:  # the run folder's lock, once it is known
        data = data_lib.load_dataset(config.data.spec, config.data.image_size, config.data.channels)
        extractor = None
        if config.train.eval_every:
            from keras_gan.metrics.extractors import GlyphClassifier

            try:
                extractor = GlyphClassifier.load(config.train.eval_extractor)
            except FileNotFoundError as e:
                raise ConfigError(f"train.eval_extractor: {e}") from None
        with strategy.scope():
            model, model_kwargs = runs.build_for_data(config, data)
            step = tf.Variable(0, dtype=tf.int64, trainable=False, name="step")
            checkpoint = runs.checkpoint_for(model, step)
            try:
                model.check_outputs(bool(config.export_name), bool(config.train.eval_every))
            except ValueError as e:
                raise ConfigError(f"{config.model} {e}") from None
            if config.train.init_from and not resume:
                started = runs.warm_start(
                    model,
                    config.train.init_from,
                    data.label_names,
                    data,
                    config.train.init_styles,
                    log,
                )
                log(
                    f"warm start from {config.train.init_from}: {len(started['kept'])} labels "
                    f"kept, new: {', '.join(started['new']) or 'none'}"
                )
        config = config.merge({"model_kwargs": model_kwargs})
        steps = runs.total_steps(config, len(data))

        if run_dir is None:
            run_dir = runs.next_run_dir(config.runs_root, config.model)
        run_dir = shared_dir = Path(run_dir)
        if chief:  # one writer per run: a second fit on this folder stops here
            held.enter_context(exclusive_lock(shared_dir, "run directory"))
        if not chief:  # same code, scratch outputs (see keras_gan.distributed), removed at exit
            scratch = tempfile.TemporaryDirectory(prefix="kgan-worker-")
            run_dir = Path(scratch.name)
            config = config.merge({"export_root": str(run_dir / "export")})
        # The config first: a run folder with a checkpoint can always be resumed.
        atomic_write_json(run_dir / "config.json", config.to_dict())
        info = data.info(config.data.spec)
        atomic_write_json(run_dir / "dataset.json", info)
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
        log(
            f"run {run_dir}: {config.model} on {config.data.spec} "
            f"({len(data)} {'lines' if data.modality == 'text' else 'images'}, "
            f"{data.num_classes} classes, skipped {data.report.get('skipped', {})}), "
            f"{strategy.num_replicas_in_sync} replica(s), steps {start}->{steps}"
        )

        retries = config.train.nan_retries
        while True:
            state, callbacks = run_callbacks(
                model, run_dir, config, data, step, store, start, steps, log, extractor
            )
            if start < steps:
                try:
                    train(model, strategy, data, config, start, steps, state, callbacks)
                except OSError as e:  # a full disk...: say what is safe and how to go on
                    if e.errno not in STORAGE_ERRNOS:
                        raise
                    good = checkpoints.latest_verified(shared_dir / "checkpoints", log)
                    raise OSError(
                        e.errno,
                        f"{e.strerror}; training stopped at step {state.step}, its last good "
                        f"checkpoint is {Path(good).name if good else 'none'}; once there is "
                        f"room: kgan fit --resume --run-dir {run_dir}",
                        e.filename,
                    ) from e
            if state.diverged_at is None:
                break
            good = checkpoints.latest_verified(shared_dir / "checkpoints", log)
            message = (
                f"training diverged at step {state.diverged_at} ({state.divergence}); "
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
            for name, optimizer in model.optimizers.items():
                optimizer.learning_rate.assign(optimizer.learning_rate * config.train.nan_lr_factor)
                rates.append(f"{name} {float(optimizer.learning_rate.numpy()):.3g}")
            log(
                f"{message}: rolled back to step {start}, learning rates cut to "
                f"{', '.join(rates)} ({retries} retries left)"
            )
        if state.signum is not None:
            raise TrainingInterrupted(
                f"interrupted by signal {state.signum} at step {int(step.numpy())}; checkpoint "
                f"saved, continue with: kgan fit --resume --run-dir {run_dir}",
                state.signum,
            )
        model.save(run_dir / ".model.keras.tmp.keras")
        durable_replace(run_dir / ".model.keras.tmp.keras", run_dir / "model.keras")
        if config.export_name:
            from keras_gan.export import export_generator

            target = export_generator(
                model,
                Path(config.export_root) / config.export_name,
                labels=model.export_labels(info),
                config=config.to_dict(),
            )
            log(f"exported generator to {target}")
        if multi_worker:
            log(f"worker weights fingerprint {distributed.weights_fingerprint(model)}")
        return model, shared_dir


def train(model, strategy, data, config: RunConfig, start: int, steps: int, state, callbacks):
    """Steps `start..steps` (Keras fit, or keras-gan's loop across workers); a signal is
    recorded in `state` (the callbacks then checkpoint and stop)."""
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
                model,
                strategy,
                dataset,
                config.train.batch_size,
                steps - start,
                state,
                callbacks,
                received,
            )
        return
    with stop_on_signals(lambda signum: setattr(state, "signum", signum)):
        model.fit(
            dataset,
            epochs=1,
            steps_per_epoch=steps - start,
            verbose=0,
            shuffle=False,
            callbacks=callbacks,
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
