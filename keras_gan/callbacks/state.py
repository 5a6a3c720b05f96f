"""`RunState`: what the run's callbacks share during one `fit` call, and `StepGuard`,
the first of them: it counts the step and stops at a NaN/Inf loss or weight."""

from __future__ import annotations

import math
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path

import keras


@dataclass
class RunState:
    """The step just trained, its logged values, and why training stops.

    Args:
        step_variable: the checkpointed step counter (a `tf.Variable`), or None.
        start: the step the run starts (or resumes) from.
        total: the last step.
    """

    step_variable: object
    start: int
    total: int
    step: int = 0
    values: dict = field(default_factory=dict)  # this step's losses, scores, monitors
    signum: int | None = None  # a signal asked to checkpoint and stop
    diverged_at: int | None = None
    divergence: str | None = None
    writer: object = None  # TensorBoard's, opened and closed by `CSVLog`

    def diverge(self, step: int, reason: str, model) -> None:
        self.diverged_at, self.divergence = step, reason
        model.stop_training = True

    @property
    def stopped(self) -> bool:
        """This step diverged: nothing of it is logged or checkpointed."""
        return self.diverged_at is not None

    def last_step(self) -> bool:
        return self.step == self.total


class StepGuard(keras.callbacks.Callback):
    """Sets the step, keeps the step's values (as floats) for the callbacks after it, and
    stops training at the step where a loss turns NaN/Inf (`RunState.diverged_at`); a
    weight that turns NaN/Inf makes the logged loss NaN (`step.nan_unless_finite`)."""

    def __init__(self, state: RunState):
        super().__init__()
        self.state = state

    def on_train_batch_end(self, batch, logs=None):
        state = self.state
        state.step = state.start + batch + 1
        if state.step_variable is not None:
            state.step_variable.assign(state.step)
        values = {k: float(v) for k, v in (logs or {}).items()}
        state.values = values
        bad = [k for k, v in values.items() if not math.isfinite(v)]
        if bad:
            state.diverge(state.step, f"{bad[0]} is {values[bad[0]]}", self.model)


class RunCallback(keras.callbacks.Callback):
    """A callback of a training run: the shared state, the run folder, config and data."""

    def __init__(self, state: RunState, run_dir, config, data, log):
        super().__init__()
        self.state, self.run_dir, self.log = state, Path(run_dir), log
        self.config, self.train, self.data = config, config.train, data
