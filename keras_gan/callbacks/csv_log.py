"""`CSVLog`: every `train.log_every` steps (and at sample steps, the last step and on a
signal) a progress line, a `log.csv` row and TensorBoard scalars: means over those steps.
A resumed run keeps its header and drops rows logged after its checkpoint."""

from __future__ import annotations

import csv
import io
import os
import time
from pathlib import Path

import keras
import tensorflow as tf

from keras_gan.callbacks.samples import DIVERSITY
from keras_gan.callbacks.state import RunState
from keras_gan.files import atomic_write_bytes
from keras_gan.files import fsync_path
from keras_gan.progress import Progress


class CSVLog(keras.callbacks.Callback):
    """Args:
    state: the shared `RunState`.
    run_dir: where `log.csv` and `tensorboard/` go.
    train: the `TrainConfig`.
    unit: what a step consumes, for the rate (`images`, `lines`).
    extra_columns: columns that are not in every row (monitors, scores), after the
        losses: the header is written with the first row.
    is_sampled: whether a step writes samples (its row is always logged).
    """

    def __init__(self, state: RunState, run_dir, train, unit, extra_columns, is_sampled, log):
        super().__init__()
        self.state, self.run_dir, self.train, self.log = state, Path(run_dir), train, log
        self.unit, self.extra_columns, self.is_sampled = unit, list(extra_columns), is_sampled
        self.columns = None

    def on_train_begin(self, logs=None):
        self.state.writer = tf.summary.create_file_writer(str(self.run_dir / "tensorboard"))
        self.log_path = self.run_dir / "log.csv"
        truncate_log(self.log_path, self.state.start)
        self.last_time, self.last_step = time.perf_counter(), self.state.start
        # On a terminal, a live bar between the progress lines (elsewhere the lines are
        # the progress).
        bar = Progress("training", self.state.total, "steps", initial=self.state.start)
        self.bar = bar if bar.live else None

    def on_train_end(self, logs=None):
        self.state.writer.close()
        if self.bar is not None:
            self.bar.close()

    def on_train_batch_end(self, batch, logs=None):
        state = self.state
        step = state.step
        if state.stopped:
            return
        if step % self.train.log_every == 0 or self.is_sampled(step) or state.signum is not None:
            if self.bar is not None:
                self.bar.clear()
            self.write_row(step, state.values)
        if self.bar is not None:
            self.bar.update(step)

    def write_row(self, step, values):
        now = time.perf_counter()
        rate = (step - self.last_step) * self.train.batch_size / max(now - self.last_time, 1e-9)
        self.last_time, self.last_step = now, step
        row = {
            "step": step,
            **{k: round(v, 6) for k, v in values.items()},
            f"{self.unit}_per_sec": round(rate, 1),
        }
        # Empty after a power cut (its appends are not fsynced): a new file again.
        new_file = not self.log_path.exists() or self.log_path.stat().st_size == 0
        if new_file:
            losses = [k for k in row if not k.startswith("eval_") and k != DIVERSITY]
            self.columns = losses + self.extra_columns
        elif self.columns is None:
            with open(self.log_path, encoding="utf-8") as f:
                self.columns = next(csv.reader(f))  # a resumed run keeps its header
        with open(self.log_path, "a", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, fieldnames=self.columns, restval="", extrasaction="ignore")
            if new_file:
                writer.writeheader()
            writer.writerow(row)
            f.flush()
            os.fsync(f.fileno())  # a row every log_every steps: a power cut keeps them
        if new_file:
            fsync_path(self.run_dir)
        with self.state.writer.as_default(step=step):
            for key, value in row.items():
                if key != "step":
                    tf.summary.scalar(key, value)
        for metric in self.model.metrics:
            metric.reset_state()  # the next row averages the next `log_every` steps only
        shown = "lines" if self.unit == "lines" else "img"
        values_text = "  ".join(f"{k} {v:.4f}" for k, v in values.items())
        eta = (self.state.total - step) * self.train.batch_size / max(rate, 1e-9)
        self.log(
            f"step {step}/{self.state.total}  {values_text}  {rate:.0f} {shown}/s  "
            f"eta {eta / 60:.1f} min"
        )


def truncate_log(path: Path, step: int) -> None:
    """On resume, drop rows logged after the checkpoint we resume from."""
    if not path.exists():
        return
    text = path.read_text(encoding="utf-8", errors="replace")
    rows = list(csv.reader(io.StringIO(text)))
    if not rows:
        return  # empty: the next row writes the header
    if rows[0][:1] != ["step"]:  # a power cut left no whole header: start the log again
        atomic_write_bytes(path, b"")
        return
    # A kill can cut the last row short: keep only whole rows up to the checkpoint.
    kept = [rows[0]] + [
        r for r in rows[1:] if len(r) == len(rows[0]) and r[0].isdigit() and int(r[0]) <= step
    ]
    buffer = io.StringIO()
    csv.writer(buffer).writerows(kept)
    atomic_write_bytes(path, buffer.getvalue().encode("utf-8"))
