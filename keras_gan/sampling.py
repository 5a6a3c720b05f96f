"""Sampling by seed, from a model in memory, a run directory or an exported SavedModel:
sample grids and folders, interpolations and labelled synthetic data sets.

Seeds become z through `keras_gan.noise.noise_for_seeds`, as in the exported
`generate` signature, so `kgan sample`, `kgan predict` and TF Serving agree.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from keras_gan import __version__
from keras_gan.export.layout import KGAN_METADATA
from keras_gan.export.layout import newest_version
from keras_gan.export.layout import read_metadata
from keras_gan.files import atomic_write_bytes
from keras_gan.images import from_uint8
from keras_gan.images import grid
from keras_gan.images import label_filename
from keras_gan.images import png_bytes
from keras_gan.images import to_uint8
from keras_gan.noise import noise_for_seeds
from keras_gan.noise import slerp
from keras_gan.progress import Progress
from keras_gan.shipped import find_model

TRANSLATES = (
    "translates images and has no noise input to sample from: complete a font with "
    "`kgan font complete` (font2font), or call keras_gan.fonts.complete.translate"
)


STYLE_GLYPHS = 16  # sample glyphs of a named face that define its style


class SourceError(ValueError):
    """A SOURCE is not a run directory, a SavedModel version or a saved_models/NAME folder."""


class Sampler:
    """Generates uint8 images for seeds and label ids; see `load_sampler`.

    Attributes:
        labels: the label vocabulary in id order (characters for glyph models),
            or `None` for unconditional models.
        model_name: the registered model name.
    """

    modality = "image"
    labels: list[str] | None
    model_name: str
    max_batch = 256  # images per generate call
    latent_dim: int
    image_shape: tuple[int, int, int]
    training_config: dict | None

    def training_data_spec(self) -> str:
        """The data spec the model was trained on (for evaluation against it)."""
        if not self.training_config:
            raise ValueError("this model carries no training config: pass --dataset")
        return self.training_config["data"]["spec"]

    def generate(self, seeds, label_ids=None) -> np.ndarray:
        """uint8 images, one per seed (and label id), `max_batch` per model call."""
        return self._in_batches(self._generate, seeds, label_ids)

    def generate_from_noise(self, z, label_ids=None) -> np.ndarray:
        """uint8 images, one per row of z (and label id), `max_batch` per model call."""
        return self._in_batches(self._generate_from_noise, z, label_ids)

    def _in_batches(self, call, rows, label_ids) -> np.ndarray:
        # One call for 10k glyphs would hold gigabytes of activations at once.
        step = self.max_batch
        if len(rows) <= step:
            return call(rows, label_ids)
        return np.concatenate(
            [
                call(rows[i : i + step], None if label_ids is None else label_ids[i : i + step])
                for i in range(0, len(rows), step)
            ]
        )

    def _generate(self, seeds, label_ids) -> np.ndarray:
        raise NotImplementedError

    def _generate_from_noise(self, z, label_ids) -> np.ndarray:
        raise NotImplementedError

    def generate_in_style(self, style_images: np.ndarray, label_ids) -> np.ndarray:
        """The labels drawn in the style of `style_images` (uint8 (n, S, S, C) glyphs)."""
        raise ValueError(
            f"{self.model_name} reads no style from glyphs: --style and --style-from need "
            "a model with a style encoder (glyph_style_gan)"
        )

    def interpolate(self, z_a, z_b, steps: int, label_id=None) -> np.ndarray:
        """`steps` images from z_a to z_b: spherical in z (keeps |z| Gaussian-typical)."""
        path = np.stack([slerp(z_a, z_b, t) for t in np.linspace(0.0, 1.0, steps)])
        return self.generate_from_noise(
            path.astype(np.float32), None if label_id is None else [label_id] * steps
        )

    def label_ids(self, text: str | None) -> list[int] | None:
        """Ids of the labels in `text` (characters, spaces ignored); all labels if None."""
        if self.labels is None:
            if text:
                raise ValueError(f"{self.model_name} is unconditional: it takes no labels")
            return None
        if text is None:
            return list(range(len(self.labels)))
        index = {label: i for i, label in enumerate(self.labels)}
        wanted = (
            [c for c in text if not c.isspace()]
            if all(len(x) == 1 for x in index)
            else text.split(",")
        )
        unknown = [c for c in wanted if c not in index]
        if unknown:
            known = (
                "".join(self.labels)
                if len(self.labels) <= 200
                else "".join(self.labels[:200]) + "..."
            )
            raise ValueError(
                f"unknown label(s) {''.join(unknown)!r}; the model knows "
                f"{len(self.labels)} labels: {known} (kgan sample SOURCE --list-labels)"
            )
        if not wanted:
            raise ValueError("--labels names no label")
        return [index[c] for c in wanted]


class ModelSampler(Sampler):
    """Samples from a GAN in memory (e.g. during training)."""

    def __init__(self, model, labels: list[str] | None, model_name: str, training_config=None):
        if model.translates:
            raise SourceError(f"{model_name} {TRANSLATES}")
        self.model, self.model_name = model, model_name
        self.latent_dim = model.latent_dim
        self.image_shape = model.image_shape
        self.training_config = training_config
        self.labels = labels if model.conditional else None

    def _generate(self, seeds, label_ids) -> np.ndarray:
        return self._generate_from_noise(noise_for_seeds(seeds, self.latent_dim), label_ids)

    def _generate_from_noise(self, z, label_ids) -> np.ndarray:
        import tensorflow as tf

        labels = None if label_ids is None else tf.constant(label_ids, tf.int32)
        return to_uint8(self.model.generate(tf.constant(z), labels, training=False)).numpy()

    def generate_in_style(self, style_images: np.ndarray, label_ids) -> np.ndarray:
        if self.model.style_encoder is None:
            return super().generate_in_style(style_images, label_ids)
        import tensorflow as tf

        code = self.model.style_of(from_uint8(style_images))
        z = tf.repeat(code[None], len(label_ids), axis=0)
        labels = tf.constant(label_ids, tf.int32)
        return to_uint8(self.model.generate(z, labels, training=False)).numpy()

    def interpolate(self, z_a, z_b, steps: int, label_id=None) -> np.ndarray:
        """Style-based models interpolate in W (their own `interpolate_w`), others in z."""
        if not hasattr(self.model, "interpolate_w"):
            return super().interpolate(z_a, z_b, steps, label_id)
        return to_uint8(self.model.interpolate_w(z_a, z_b, steps, label_id)).numpy()


class SavedModelSampler(Sampler):
    """Samples through an exported SavedModel's `generate` signature."""

    def __init__(self, version_dir: str | os.PathLike):
        import tensorflow as tf

        self.meta = read_metadata(version_dir)
        self.model_name = self.meta["model"]
        self.latent_dim = self.meta["latent_dim"]
        self.image_shape = (self.meta["image_size"], self.meta["image_size"], self.meta["channels"])
        self.training_config = self.meta.get("config")
        self.labels = self.meta.get("labels")
        self.signatures = tf.saved_model.load(str(version_dir)).signatures

    def _call(self, signature: str, inputs: dict, label_ids) -> np.ndarray:
        import tensorflow as tf

        if label_ids is not None:
            inputs["labels"] = tf.constant(label_ids, tf.int32)
        return self.signatures[signature](**inputs)["images"].numpy()

    def _generate(self, seeds, label_ids) -> np.ndarray:
        import tensorflow as tf

        return self._call("generate", {"seed": tf.constant(seeds, tf.int64)}, label_ids)

    def _generate_from_noise(self, z, label_ids) -> np.ndarray:
        import tensorflow as tf

        return self._call("serving_default", {"z": tf.constant(z, tf.float32)}, label_ids)

    def generate_in_style(self, style_images: np.ndarray, label_ids) -> np.ndarray:
        if "style" not in self.signatures:
            return super().generate_in_style(style_images, label_ids)
        import tensorflow as tf

        inputs = {"style_images": tf.constant(style_images, tf.uint8)}
        return self._call("style", inputs, label_ids)


class TextSampler:
    """Lines of text by seed, from a text model (`kgan sample SOURCE --num-samples N`).

    Attributes:
        vocab: the characters by id (id 0 = end of line).
        model_name: the registered model name.
    """

    modality = "text"
    labels = None
    max_batch = 256  # lines per call
    vocab: list[str]
    model_name: str
    training_config: dict | None
    training_data_spec = Sampler.training_data_spec

    def lines(self, seeds, temperature: float = 0.0) -> list[str]:
        """One line per seed; temperature 0 takes the most likely characters."""
        seeds = list(seeds)
        out = []
        for start in range(0, len(seeds), self.max_batch):
            out += self._lines(seeds[start : start + self.max_batch], float(temperature))
        return out


class TextModelSampler(TextSampler):
    """Samples from a text model in memory, or (`from_run`) a run directory."""

    def __init__(self, model, vocab: list[str], model_name: str, training_config=None):
        self.model, self.vocab, self.model_name = model, vocab, model_name
        self.training_config = training_config

    @classmethod
    def from_run(cls, model, config, info) -> TextModelSampler:
        return cls(model, info["vocab"], config.model, config.to_dict())

    def _lines(self, seeds, temperature):
        from keras_gan.data.text import decode

        z = noise_for_seeds(seeds, self.model.latent_dim)
        return decode(self.model.sample(z, temperature), self.vocab)


class TextSavedModelSampler(TextSampler):
    """Samples through an exported text model's `generate` signature."""

    def __init__(self, version_dir, meta: dict):
        import tensorflow as tf

        self.meta, self.vocab, self.model_name = meta, meta["vocab"], meta["model"]
        self.training_config = meta.get("config")
        self.signature = tf.saved_model.load(str(version_dir)).signatures["generate"]

    def _lines(self, seeds, temperature):
        import tensorflow as tf

        out = self.signature(
            seed=tf.constant(seeds, tf.int64), temperature=tf.constant(temperature, tf.float32)
        )
        return [line.decode("utf-8") for line in out["text"].numpy()]


def load_sampler(source: str | os.PathLike) -> Sampler | TextSampler:
    """A sampler for a run directory, a SavedModel version folder or saved_models/NAME
    (a `TextSampler` for text models); `saved_models/NAME` may be a shipped model
    (`keras_gan.shipped`)."""
    path = find_model(source)
    if not path.is_dir():
        raise SourceError(f"SOURCE {str(source)!r} is not a directory")
    if (path / "config.json").is_file():
        from keras_gan.runs import load_run

        model, config, info = load_run(path)
        if model.modality == "text":
            return TextModelSampler.from_run(model, config, info)
        return ModelSampler(model, info.get("label_names"), config.model, config.to_dict())
    version = path if (path / "saved_model.pb").is_file() else newest_version(path)
    if version is not None and (version / "saved_model.pb").is_file():
        if not (version / KGAN_METADATA).is_file():
            raise SourceError(
                f"SavedModel {str(version)!r} has no {KGAN_METADATA}: not made by kgan"
            )
        meta = read_metadata(version)
        if meta.get("modality") == "text":
            return TextSavedModelSampler(version, meta)
        return SavedModelSampler(version)
    raise SourceError(
        f"SOURCE {str(source)!r} is neither a run directory (config.json), a SavedModel "
        "version folder (saved_model.pb) nor a saved_models/NAME folder with version folders"
    )


def save_samples(
    sampler: Sampler,
    seeds: list[int],
    out: str | os.PathLike,
    labels: str | None = None,
    as_grid: bool = False,
) -> list[Path]:
    """Every label at every seed: one grid PNG (rows = seeds) or a folder of PNGs."""
    label_ids = sampler.label_ids(labels)
    if not seeds:
        raise ValueError("no seeds given")
    cols = len(label_ids) if label_ids is not None else 1
    all_seeds = [s for s in seeds for _ in range(cols)]
    all_labels = None if label_ids is None else [i for _ in seeds for i in label_ids]
    images = sampler.generate(all_seeds, all_labels)  # max_batch per model call
    out = Path(out)
    if as_grid:
        description = f"model {sampler.model_name}, seeds {seeds[0]}..{seeds[-1]} (rows)"
        atomic_write_bytes(out, png_bytes(grid(images, len(seeds), cols), description))
        return [out]
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for i, (seed, image) in enumerate(zip(all_seeds, images)):
        name = f"seed{seed:04d}"
        description = f"model {sampler.model_name}, seed {seed}"
        if all_labels is not None:
            label = sampler.labels[all_labels[i]]
            name += "-" + label_filename(label)
            description += f", label {label}"
        written.append(out / f"{name}.png")
        atomic_write_bytes(written[-1], png_bytes(image, description))
    return written


def save_interpolation(
    sampler: Sampler, seeds: list[int], steps: int, labels: str | None, out: str | os.PathLike
) -> Path:
    """A grid: one row per label, `steps` columns from seeds[0] to seeds[1] (slerp in z,
    or lerp in W for style-based models sampled from a run directory)."""
    label_ids = sampler.label_ids(labels)
    if label_ids is not None and labels is None:
        label_ids = label_ids[:1]
    a, b = (np.asarray(z) for z in noise_for_seeds(seeds, sampler.latent_dim))
    rows = [None] if label_ids is None else label_ids
    images = np.concatenate([sampler.interpolate(a, b, steps, row) for row in rows])
    out = Path(out)
    description = f"model {sampler.model_name}, interpolation seed {seeds[0]} -> {seeds[1]}"
    atomic_write_bytes(out, png_bytes(grid(images, len(rows), steps), description))
    return out


def write_dataset(
    sampler: Sampler,
    out: str | os.PathLike,
    num_samples: int,
    labels: str | None = None,
    fmt: str = "png",
    shard_size: int = 4096,
) -> Path:
    """A labelled synthetic data set: sample i has seed i and label i mod len(labels).

    `png`: `out/<label>/seed000123.png` (the `folder:` layout, sub-folders are
    classes); `tfrecord`: `out/data-0000K-of-0000N.tfrecord` of tf.Example
    {image_raw: PNG bytes, label: int64, seed: int64}. Both with `manifest.json`.
    The folder appears whole or not at all.
    """
    from keras_gan.data.tfrecord import encode_example
    from keras_gan.files import atomic_directory
    from keras_gan.files import atomic_write_json

    if fmt not in ("png", "tfrecord"):
        raise ValueError(f"format must be png or tfrecord, got {fmt!r}")
    if num_samples < 1:
        raise ValueError(f"num_samples must be positive, got {num_samples}")
    out = Path(out)
    if out.exists():
        raise FileExistsError(f"{out} already exists; pick a new folder for the data set")
    label_ids = sampler.label_ids(labels)
    ids = None if label_ids is None else [label_ids[i % len(label_ids)] for i in range(num_samples)]
    names = sampler.labels
    records = []
    bar = Progress(f"sampling into {out}", num_samples, "images")
    with atomic_directory(out) as tmp, bar:
        writer, shard = None, -1
        shards = -(-num_samples // shard_size)
        step = sampler.max_batch
        for start in range(0, num_samples, step):
            seeds = list(range(start, min(start + step, num_samples)))
            images = sampler.generate(seeds, None if ids is None else ids[start : start + step])
            bar.update(seeds[-1] + 1)
            for seed, image in zip(seeds, images):
                label = None if ids is None else ids[seed]
                name = "unlabelled" if label is None else label_filename(names[label])
                description = f"model {sampler.model_name}, seed {seed}" + (
                    "" if label is None else f", label {names[label]}"
                )
                data = png_bytes(image, description)
                if fmt == "png":
                    relative = f"{name}/seed{seed:06d}.png"
                    atomic_write_bytes(tmp / relative, data)
                else:
                    if seed // shard_size != shard:
                        import tensorflow as tf

                        if writer is not None:
                            writer.close()
                        shard = seed // shard_size
                        relative = f"data-{shard:05d}-of-{shards:05d}.tfrecord"
                        writer = tf.io.TFRecordWriter(str(tmp / relative))
                    writer.write(encode_example(data, -1 if label is None else label, seed))
                records.append({"file": relative, "seed": seed, "label": label})
        if writer is not None:
            writer.close()
        atomic_write_json(
            tmp / "manifest.json",
            {
                "synthetic": True,
                "generated_by": f"keras-gan {__version__}, model {sampler.model_name}",
                "format": fmt,
                "num_samples": num_samples,
                "labels": names,
                "records": records,
            },
        )
    return out


def style_glyphs(
    sampler: Sampler, style: str | None = None, style_from: str | os.PathLike | None = None
) -> np.ndarray:
    """uint8 `(n, S, S, C)` glyphs that show a style: up to `STYLE_GLYPHS` of the model's
    characters drawn by the installed face `style` (named as `glyphs:...?fonts=` names
    faces), or the glyph images of the folder `style_from` (named by character, as
    `kgan font fit --target` takes them; any size or mode)."""
    from keras_gan.data.glyph_folder import load_glyph_folder
    from keras_gan.data.glyphs import GlyphRenderer
    from keras_gan.data.glyphs import select_fonts

    if (style is None) == (style_from is None):
        raise ValueError("give one of --style NAME and --style-from DIR")
    if sampler.labels is None:
        raise ValueError(f"{sampler.model_name} is unconditional: a style needs characters")
    size, channels = sampler.image_shape[0], sampler.image_shape[2]
    if style_from is not None:
        glyphs = list(load_glyph_folder(style_from, size)[0].values())
    else:
        face = select_fonts([style])[0]
        chars = [c for c in sampler.labels if len(c) == 1 and face.covers(c)]
        if not chars:
            raise ValueError(f"font face {face.name!r} draws none of the model's characters")
        renderer = GlyphRenderer(face, size, "".join(sampler.labels))
        rendered = (renderer.render(c)[0] for c in chars[:: max(1, len(chars) // STYLE_GLYPHS)])
        glyphs = [g for g in rendered if g is not None][:STYLE_GLYPHS]
    return np.repeat(np.stack(glyphs)[..., None], channels, axis=-1)


def save_styled(
    sampler: Sampler, style_images: np.ndarray, out: str | os.PathLike, labels=None, as_grid=False
) -> list[Path]:
    """Every label in the style of `style_images`: one grid row or a folder of PNGs."""
    label_ids = sampler.label_ids(labels)
    images = np.concatenate(
        [
            sampler.generate_in_style(style_images, label_ids[i : i + sampler.max_batch])
            for i in range(0, len(label_ids), sampler.max_batch)
        ]
    )
    out = Path(out)
    description = f"model {sampler.model_name}, in the style of {len(style_images)} glyph(s)"
    if as_grid:
        atomic_write_bytes(out, png_bytes(grid(images, 1, len(images)), description))
        return [out]
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for label_id, image in zip(label_ids, images):
        label = sampler.labels[label_id]
        written.append(out / f"style-{label_filename(label)}.png")
        atomic_write_bytes(written[-1], png_bytes(image, f"{description}, label {label}"))
    return written
