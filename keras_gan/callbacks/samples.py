"""`SampleGrid`: every `train.sample_every` steps and at the last one, samples from fixed
seeds (`samples/step_XXXXXX.png`, or `.txt` lines for text models) and, for
noise-to-image models, the `sample_diversity` monitor, with a warning on collapse.
`SampleImages`: the same grids for any `model.fit` (the public callback)."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from keras_gan.callbacks.state import RunCallback
from keras_gan.callbacks.state import RunState
from keras_gan.files import atomic_write_bytes
from keras_gan.images import from_uint8
from keras_gan.images import grid
from keras_gan.images import png_bytes
from keras_gan.images import to_uint8
from keras_gan.noise import noise_for_seeds

GRID_LABELS = 16
DIVERSITY = "sample_diversity"
DIVERSITY_SAMPLES = 64
# The default glyph run measures 0.89 at its first grid (step 200) and 1.04 at the end;
# untrained generators (every z -> nearly one image) measure below 0.1.
COLLAPSE_BELOW = 0.25


class SampleGrid(RunCallback):
    def __init__(self, state: RunState, run_dir, config, data, log):
        super().__init__(state, run_dir, config, data, log)
        self.grid_labels = spread(data.num_classes, GRID_LABELS) if data.num_classes else None
        self.real_spread, self.diversity_rows = None, None

    def due(self, step: int) -> bool:
        return step % self.train.sample_every == 0 or step == self.state.total

    def on_train_batch_end(self, batch, logs=None):
        state = self.state
        if state.stopped or not self.due(state.step):
            return
        if self.data.modality == "text":
            self.save_lines(state.step)
            return
        self.save_grid(state.step)
        if self.model.measures_diversity:
            state.values[DIVERSITY] = self.sample_diversity(state.step)

    def sample_diversity(self, step) -> float:
        """Mean distance between two of 64 samples over that between two of 64 training
        images (the same labels): 1 = as varied as the data, near 0 = one image."""
        if self.real_spread is None:  # the same training images every time
            rows = np.random.default_rng(0).permutation(len(self.data))[:DIVERSITY_SAMPLES]
            self.diversity_rows = rows
            self.real_spread = mean_pairwise_distance(from_uint8(self.data.images[rows]))
        rows = self.diversity_rows
        z = noise_for_seeds(range(1 << 20, (1 << 20) + len(rows)), self.model.latent_dim)
        labels = tf.constant(self.data.labels[rows]) if self.model.conditional else None
        spread = mean_pairwise_distance(self.model.generate(z, labels, training=False))
        ratio = spread / max(self.real_spread, 1e-12)
        if ratio < COLLAPSE_BELOW:
            self.log(
                f"warning: step {step}: possible mode collapse: samples differ by "
                f"{spread:.3f} on average, training images by {self.real_spread:.3f} "
                f"({DIVERSITY} {ratio:.2f} < {COLLAPSE_BELOW})"
            )
        return ratio

    def save_grid(self, step):
        seeds = list(range(self.train.sample_seeds))
        if self.data.sources is not None:
            picture = self.translation_grid()
        else:
            picture = sample_grid(self.model, seeds, self.grid_labels)
        path = self.run_dir / "samples" / f"step_{step:06d}.png"
        atomic_write_bytes(path, png_bytes(picture, f"model {self.config.model}, step {step}"))
        with self.state.writer.as_default(step=step):
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
        rows = np.array(spread(len(self.data), GRID_LABELS))
        sources = self.data.sources[rows % len(self.data.sources)]
        labels = None if self.data.labels is None else tf.constant(self.data.labels[rows])
        fake = self.model.generate(from_uint8(sources), labels, training=False)
        picture = np.concatenate([sources, to_uint8(fake).numpy(), self.data.images[rows]])
        return grid(picture, 3, len(rows))


class SampleImages(keras.callbacks.Callback):
    """Samples of fixed seeds as a grid while any `model.fit` trains a noise-to-image
    model of keras-gan (what `kgan fit` writes to `samples/`, for your own loop).

    Args:
        folder: where the grids go, as `step_XXXXXX.png` (None: no files).
        log_dir: a TensorBoard log folder: the grids as `samples` images (None: none).
        every: steps between grids; None: one at the end of every epoch.
        seeds: the grid's rows, one noise vector each (the same every time).
        labels: class ids, the grid's columns, for a conditional model (default: up to
            16 spread over the classes); an unconditional model gets 8 columns of seeds.
    """

    def __init__(self, folder=None, log_dir=None, every=None, seeds=range(4), labels=None):
        super().__init__()
        if folder is None and log_dir is None:
            raise ValueError("SampleImages needs a folder, a log_dir or both to write to")
        self.folder, self.log_dir, self.every = folder, log_dir, every
        self.seeds, self.labels = list(seeds), labels
        self.step, self.writer = 0, None

    def on_train_begin(self, logs=None):
        if self.model.translates or self.model.modality != "image":
            raise ValueError(
                f"SampleImages draws noise-to-image models; {type(self.model).__name__} "
                "is not one (kgan fit writes its samples)"
            )
        if self.labels is None and self.model.conditional:
            self.labels = spread(self.model.num_classes, GRID_LABELS)
        if self.log_dir is not None:
            self.writer = tf.summary.create_file_writer(str(self.log_dir))

    def on_train_batch_end(self, batch, logs=None):
        self.step += 1
        if self.every and self.step % self.every == 0:
            self.save(self.step)

    def on_epoch_end(self, epoch, logs=None):
        if not self.every:
            self.save(self.step)

    def on_train_end(self, logs=None):
        if self.writer is not None:
            self.writer.close()

    def save(self, step: int) -> None:
        picture = sample_grid(self.model, self.seeds, self.labels)
        if self.folder is not None:
            name = f"model {type(self.model).__name__}, step {step}"
            atomic_write_bytes(Path(self.folder) / f"step_{step:06d}.png", png_bytes(picture, name))
        if self.writer is not None:
            with self.writer.as_default(step=step):
                tf.summary.image("samples", picture[None], step=step)


def sample_grid(model, seeds: list[int], label_ids: list[int] | None) -> np.ndarray:
    """A uint8 grid: a row per seed; a column per class id (conditional models), else 8
    columns of further seeds."""
    if label_ids is None:
        z = noise_for_seeds(seeds * 8, model.latent_dim)
        return grid(to_uint8(model.generate(z, training=False)).numpy(), len(seeds), 8)
    cols = len(label_ids)
    z = noise_for_seeds([s for s in seeds for _ in range(cols)], model.latent_dim)
    labels = tf.constant(list(label_ids) * len(seeds), tf.int32)
    return grid(to_uint8(model.generate(z, labels, training=False)).numpy(), len(seeds), cols)


def spread(count: int, wanted: int) -> list[int]:
    """`wanted` class ids spread evenly over `count` (all of them if fewer)."""
    return sorted({int(i) for i in np.linspace(0, count - 1, min(count, wanted))})


def mean_pairwise_distance(images) -> float:
    """Mean L2 distance over all pairs of `images` (flattened)."""
    x = np.reshape(np.asarray(images, np.float64), (len(images), -1))
    squared = np.sum(x * x, axis=1)
    distances = np.sqrt(np.maximum(squared[:, None] + squared[None] - 2 * x @ x.T, 0))
    return float(distances[np.triu_indices(len(x), 1)].mean())
