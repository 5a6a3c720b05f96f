"""Training callbacks, each with one job, sharing a `RunState` (run in this order):
`StepGuard` (the step; stop at NaN/Inf), `PeriodicEvaluation` (scores, best checkpoint),
`SampleGrid` (samples, sample diversity), `CSVLog` (log.csv, TensorBoard, progress)
and `Checkpointing` (checkpoints; stop on a signal). `SampleImages` is the public one:
sample grids for any `model.fit`."""

from keras_gan.callbacks.checkpointing import Checkpointing
from keras_gan.callbacks.csv_log import CSVLog
from keras_gan.callbacks.evaluation import PeriodicEvaluation
from keras_gan.callbacks.evaluation import eval_columns
from keras_gan.callbacks.samples import DIVERSITY
from keras_gan.callbacks.samples import SampleGrid
from keras_gan.callbacks.samples import SampleImages as SampleImages  # public
from keras_gan.callbacks.state import RunState
from keras_gan.callbacks.state import StepGuard


def run_callbacks(model, run_dir, config, data, step, store, start, total, log, extractor=None):
    """(the shared `RunState`, the callbacks of one training run in their order)."""
    state = RunState(step, start, total)
    train = config.train
    samples = SampleGrid(state, run_dir, config, data, log)
    callbacks = [StepGuard(state)]
    if train.eval_every:
        callbacks.append(
            PeriodicEvaluation(state, run_dir, config, data, extractor, store.checkpoint, log)
        )
    extra = ([DIVERSITY] if model.measures_diversity else []) + eval_columns(train)
    unit = "lines" if data.modality == "text" else "images"
    callbacks += [
        samples,
        CSVLog(state, run_dir, train, unit, extra, samples.due, log),
        Checkpointing(state, store, train.checkpoint_every),
    ]
    return state, callbacks


__all__ = [
    "CSVLog",
    "Checkpointing",
    "PeriodicEvaluation",
    "RunState",
    "SampleGrid",
    "StepGuard",
    "run_callbacks",
]
