"""`RunMonitor`: progress lines, `log.csv`, TensorBoard, sample grids, checkpoints."""

from __future__ import annotations

import csv
import io
import json
import math
import time
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from keras_gan.checkpoints import NonFiniteWeights
from keras_gan.files import atomic_write_bytes
from keras_gan.files import atomic_write_json
from keras_gan.images import from_uint8
from keras_gan.images import grid
from keras_gan.images import png_bytes
from keras_gan.images import to_uint8
from keras_gan.models.base import WEIGHTS_FINITE
from keras_gan.noise import noise_for_seeds

GRID_LABELS = 16
DIVERSITY = "sample_diversity"
DIVERSITY_SAMPLES = 64
# The default glyph run measures 0.89 at its first grid (step 200) and 1.04 at the end;
# untrained generators (every z -> nearly one image) measure below 0.1.
COLLAPSE_BELOW = 0.25


class RunMonitor(keras.callbacks.Callback):
    """Every `log_every` steps: a progress line, a `log.csv` row and TensorBoard scalars
    (means over those steps); every `sample_every`: a grid from fixed seeds and the
    sample-diversity figure (a warning when it says mode collapse); every
    `checkpoint_every` (and at the end, or on a signal): a checkpoint. A NaN/Inf loss
    or weight stops training at the step it appears (`diverged_at`); no checkpoint
    of such a state is written.
    """

    def __init__(self, run_dir, config, data, step, store, start, total, log, extractor=None):
        super().__init__()
        self.run_dir, self.config, self.train = Path(run_dir), config, config.train
        self.step, self.store, self.start, self.total, self.log = step, store, start, total, log
        self.data, self.extractor = data, extractor
        self.signum = None
        self.diverged_at, self.divergence = None, None
        self.grid_labels = _spread(data.num_classes, GRID_LABELS) if data.num_classes else None
        self.eval_metrics = [m for m in self.train.eval_metrics.split(",") if m]
        self.columns = None
        self.real_spread, self.diversity_rows = None, None
        self.best_manager = None
        if self.train.keep_best:
            self.best_manager = tf.train.CheckpointManager(
                store.checkpoint, str(self.run_dir / "checkpoints" / "best"), max_to_keep=1
            )

    # ----------------------------------------------------------------- hooks

    def on_train_begin(self, logs=None):
        self.writer = tf.summary.create_file_writer(str(self.run_dir / "tensorboard"))
        self.log_path = self.run_dir / "log.csv"
        _truncate_log(self.log_path, self.start)
        self.last_time, self.last_step = time.perf_counter(), self.start

    def on_train_batch_end(self, batch, logs=None):
        step = self.start + batch + 1
        self.step.assign(step)
        values = {k: float(v) for k, v in (logs or {}).items()}
        weights_finite = values.pop(WEIGHTS_FINITE, 1.0) == 1.0
        bad = [k for k, v in values.items() if not math.isfinite(v)]
        if bad or not weights_finite:
            reason = f"{bad[0]} is {values[bad[0]]}" if bad else "a weight is NaN/Inf"
            self.stop_diverged(step, reason)
            return
        if self.train.eval_every and step % self.train.eval_every == 0:
            values.update(self.evaluate(step))
        sampled = step % self.train.sample_every == 0 or step == self.total
        if sampled and self.model.modality == "text":
            self.save_lines(step)
        elif sampled:
            self.save_grid(step)
            if not self.model.translates:
                values[DIVERSITY] = self.sample_diversity(step)
        if step % self.train.log_every == 0 or sampled or self.signum is not None:
            self._log_row(step, values)
        if step % self.train.checkpoint_every == 0 or step == self.total or self.signum is not None:
            try:
                self.store.save(step, self.networks())
            except NonFiniteWeights as e:
                self.stop_diverged(step, str(e))
                return
        if self.signum is not None:
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        self.writer.close()

    def stop_diverged(self, step, reason):
        self.diverged_at, self.divergence = step, reason
        self.model.stop_training = True

    def networks(self) -> list:
        model = self.model
        return [n for n in (model.generator, model.discriminator, model.ema_generator) if n]

    def sample_diversity(self, step) -> float:
        """Mean distance between two of 64 samples over that between two of 64 training
        images (the same labels): 1 = as varied as the data, near 0 = one image."""
        if self.real_spread is None:  # the same training images every time
            rows = np.random.default_rng(0).permutation(len(self.data))[:DIVERSITY_SAMPLES]
            self.diversity_rows = rows
            self.real_spread = _mean_pairwise_distance(from_uint8(self.data.images[rows]))
        rows = self.diversity_rows
        z = noise_for_seeds(range(1 << 20, (1 << 20) + len(rows)), self.model.latent_dim)
        labels = tf.constant(self.data.labels[rows]) if self.model.conditional else None
        spread = _mean_pairwise_distance(self.model.generate(z, labels, training=False))
        ratio = spread / max(self.real_spread, 1e-12)
        if ratio < COLLAPSE_BELOW:
            self.log(
                f"warning: step {step}: possible mode collapse: samples differ by "
                f"{spread:.3f} on average, training images by {self.real_spread:.3f} "
                f"({DIVERSITY} {ratio:.2f} < {COLLAPSE_BELOW})"
            )
        return ratio

    # ----------------------------------------------------------------- outputs

    def _log_row(self, step, values):
        now = time.perf_counter()
        rate = (step - self.last_step) * self.train.batch_size / max(now - self.last_time, 1e-9)
        self.last_time, self.last_step = now, step
        unit, shown = ("lines", "lines") if self.model.modality == "text" else ("images", "img")
        row = {
            "step": step,
            **{k: round(v, 6) for k, v in values.items()},
            f"{unit}_per_sec": round(rate, 1),
        }
        new_file = not self.log_path.exists()
        if new_file:
            losses = [k for k in row if not k.startswith("eval_") and k != DIVERSITY]
            images = not self.model.translates and self.model.modality == "image"
            diversity = [DIVERSITY] if images else []
            self.columns = losses + diversity + [f"eval_{n}" for n in self._eval_columns()]
        elif self.columns is None:
            with open(self.log_path, encoding="utf-8") as f:
                self.columns = next(csv.reader(f))  # a resumed run keeps its header
        with open(self.log_path, "a", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, fieldnames=self.columns, restval="", extrasaction="ignore")
            if new_file:
                writer.writeheader()
            writer.writerow(row)
        with self.writer.as_default(step=step):
            for key, value in row.items():
                if key != "step":
                    tf.summary.scalar(key, value)
        for metric in self.model.metrics:
            metric.reset_state()  # the next row averages the next `log_every` steps only
        values_text = "  ".join(f"{k} {v:.4f}" for k, v in values.items())
        eta = (self.total - step) * self.train.batch_size / max(rate, 1e-9)
        self.log(
            f"step {step}/{self.total}  {values_text}  {rate:.0f} {shown}/s  eta {eta / 60:.1f} min"
        )

    def evaluate(self, step) -> dict:
        """Scores at this step (prefixed `eval_`); keeps the best checkpoint if asked."""
        from keras_gan.metrics.evaluate import evaluate
        from keras_gan.metrics.evaluate import higher_is_better
        from keras_gan.sampling import ModelSampler

        sampler = ModelSampler(self.model, self.data.label_names, self.config.model)
        result = evaluate(
            sampler,
            self.data,
            self.extractor,
            self.eval_metrics,
            self.train.eval_samples,
            log=lambda line: None,
        )
        scores = {f"eval_{k}": float(v) for k, v in result["scores"].items()}
        metric = self.train.keep_best
        if metric:
            value = result["scores"][metric]
            better = (lambda a, b: a > b) if higher_is_better(metric) else (lambda a, b: a < b)
            best_file = self.run_dir / "checkpoints" / "best" / "best.json"
            best = json.loads(best_file.read_text())[metric] if best_file.exists() else None
            if best is None or better(value, best):
                self.best_manager.save(checkpoint_number=step)
                atomic_write_json(best_file, {metric: value, "step": step, **result})
                self.log(
                    f"step {step}: best {metric} so far ({value:.4g}), kept in checkpoints/best"
                )
        return scores

    def save_grid(self, step):
        seeds = list(range(self.train.sample_seeds))
        if self.data.sources is not None:
            picture = self.translation_grid()
        elif self.grid_labels is None:
            z = noise_for_seeds(seeds * 8, self.model.latent_dim)
            images = to_uint8(self.model.generate(z, training=False)).numpy()
            picture = grid(images, len(seeds), 8)
        else:
            cols = len(self.grid_labels)
            z = noise_for_seeds([s for s in seeds for _ in range(cols)], self.model.latent_dim)
            labels = tf.constant(self.grid_labels * len(seeds), tf.int32)
            images = to_uint8(self.model.generate(z, labels, training=False)).numpy()
            picture = grid(images, len(seeds), cols)
        path = self.run_dir / "samples" / f"step_{step:06d}.png"
        atomic_write_bytes(path, png_bytes(picture, f"model {self.config.model}, step {step}"))
        with self.writer.as_default(step=step):
            tf.summary.image("samples", picture[None], step=step)

    def save_lines(self, step):
        """`samples/step_XXXXXX.txt`: lines from fixed seeds, most likely characters
        (temperature 0) and drawn (temperature 1)."""
        from keras_gan.data.text import decode

        seeds = list(range(self.train.sample_seeds * 4))
        z = noise_for_seeds(seeds, self.model.latent_dim)
        text = [f"# model {self.config.model}, step {step}, generated (not real) text"]
        for temperature in (0.0, 1.0):
            lines = decode(self.model.sample(z, temperature), self.data.vocab)
            text += [f"## temperature {temperature:g}"] + lines
        path = self.run_dir / "samples" / f"step_{step:06d}.txt"
        atomic_write_bytes(path, ("\n".join(text) + "\n").encode("utf-8"))

    def translation_grid(self) -> np.ndarray:
        """Rows: sources, their translations, the real targets, for fixed examples."""
        rows = np.array(_spread(len(self.data), GRID_LABELS))
        sources = self.data.sources[rows % len(self.data.sources)]
        labels = None if self.data.labels is None else tf.constant(self.data.labels[rows])
        fake = self.model.generate(from_uint8(sources), labels, training=False)
        picture = np.concatenate([sources, to_uint8(fake).numpy(), self.data.images[rows]])
        return grid(picture, 3, len(rows))

    def _eval_columns(self) -> list[str]:
        from keras_gan.metrics.evaluate import score_names

        if not self.train.eval_every:
            return []
        names = sorted(score_names(self.eval_metrics))
        extra = [f"{name}_std" for name in ("kid", "is") if name in names]
        return names + extra + (["ifid_classes"] if "ifid" in names else [])


def _spread(count: int, wanted: int) -> list[int]:
    """`wanted` class ids spread evenly over `count` (all of them if fewer)."""
    return sorted({int(i) for i in np.linspace(0, count - 1, min(count, wanted))})


def _mean_pairwise_distance(images) -> float:
    """Mean L2 distance over all pairs of `images` (flattened)."""
    x = np.reshape(np.asarray(images, np.float64), (len(images), -1))
    squared = np.sum(x * x, axis=1)
    distances = np.sqrt(np.maximum(squared[:, None] + squared[None] - 2 * x @ x.T, 0))
    return float(distances[np.triu_indices(len(x), 1)].mean())


def _truncate_log(path: Path, step: int) -> None:
    """On resume, drop rows logged after the checkpoint we resume from."""
    if not path.exists():
        return
    text = path.read_text(encoding="utf-8")
    rows = list(csv.reader(io.StringIO(text)))
    if not rows:
        return
    # A kill can cut the last row short: keep only whole rows up to the checkpoint.
    kept = [rows[0]] + [
        r for r in rows[1:] if len(r) == len(rows[0]) and r[0].isdigit() and int(r[0]) <= step
    ]
    buffer = io.StringIO()
    csv.writer(buffer).writerows(kept)
    atomic_write_bytes(path, buffer.getvalue().encode("utf-8"))
