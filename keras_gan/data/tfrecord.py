"""`tfrecord:PATTERN[,PATTERN...]`: tf.Example records with an encoded image and a label.

The layout TFX's ImportExampleGen writes (`Split-train/*.gz`, GZIP) and `kgan sample
--num-samples N --format tfrecord` writes (plain, with a manifest.json beside it):
features `image_raw` (PNG/JPEG/BMP/GIF bytes) and optionally `label` (int64 class id,
-1 for none). Class names come from a `manifest.json` next to the files ("labels"),
else they are the ids. Records that cannot be used are skipped and counted by reason.
"""

from __future__ import annotations

import io
import json
from collections import Counter
from pathlib import Path

import numpy as np

from keras_gan.data.base import DataError
from keras_gan.data.base import ImageData
from keras_gan.progress import Progress
from keras_gan.registry import DATASETS

IMAGE_FEATURE = "image_raw"
LABEL_FEATURE = "label"


@DATASETS.register("tfrecord")
def load_tfrecord(rest: str, image_size: int, channels: int) -> ImageData:
    """Reads every record into memory, as uint8 images resized to `image_size`."""
    import tensorflow as tf

    patterns = [p for p in rest.split(",") if p]
    if not patterns:
        raise DataError("tfrecord spec names no files; expected tfrecord:PATTERN (e.g. data/*.gz)")
    files = sorted({f for pattern in patterns for f in tf.io.gfile.glob(pattern)})
    if not files:
        raise DataError(f"tfrecord:{rest}: no file matches {', '.join(patterns)}")
    skipped: Counter = Counter()
    images, labels = [], []
    for path in files:
        for record in _records(path):
            try:
                example = tf.train.Example.FromString(record)
            except Exception:  # noqa: BLE001  (protobuf raises its own DecodeError)
                skipped["not a tf.Example"] += 1
                continue
            features = example.features.feature
            raw = features[IMAGE_FEATURE].bytes_list.value if IMAGE_FEATURE in features else []
            if len(raw) != 1:
                skipped[f"no single {IMAGE_FEATURE!r} bytes feature"] += 1
                continue
            image = _decode(raw[0], image_size, channels)
            if image is None:
                skipped["undecodable image"] += 1
                continue
            ids = features[LABEL_FEATURE].int64_list.value if LABEL_FEATURE in features else []
            images.append(image)
            labels.append(ids[0] if len(ids) == 1 else -1)
    labels = np.asarray(labels, np.int64)
    names = _label_names(files)
    labelled = labels >= 0
    if labelled.any() and not labelled.all():
        skipped["no label (others have one)"] += int((~labelled).sum())
        images = [im for im, keep in zip(images, labelled) if keep]
        labels = labels[labelled]
    report = {"files": len(files), "skipped": dict(skipped)}
    if not images:
        raise DataError(f"tfrecord:{rest}: no usable record in {len(files)} file(s) ({report})")
    images = np.stack(images)
    if not labelled.any():
        return ImageData(images=images, report=report)
    num_classes = max(len(names or []), int(labels.max()) + 1)
    if names is not None and len(names) < num_classes:
        raise DataError(
            f"tfrecord:{rest}: labels go up to {int(labels.max())} but manifest.json names "
            f"{len(names)} labels"
        )
    names = names or [str(i) for i in range(num_classes)]
    missing = sorted(set(range(num_classes)) - set(labels.tolist()))
    if missing:
        raise DataError(
            f"tfrecord:{rest}: no image for label id(s) {missing[:10]}; every class "
            "needs at least one"
        )
    return ImageData.labelled(images, labels, names, report)


def _records(path: str):
    """The raw records of a TFRecord file, GZIP or not (ExampleGen writes .gz)."""
    import tensorflow as tf

    compression = "GZIP" if path.endswith(".gz") else ""
    try:
        for record in tf.data.TFRecordDataset(path, compression_type=compression):
            yield record.numpy()
    except tf.errors.OpError as e:
        raise DataError(
            f"{path}: not a readable TFRecord file ({e.message.splitlines()[0]})"
        ) from None


def _decode(data: bytes, image_size: int, channels: int) -> np.ndarray | None:
    from PIL import Image
    from PIL import UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            image = image.convert("L" if channels == 1 else "RGB")
            if image.size != (image_size, image_size):
                image = image.resize((image_size, image_size), Image.Resampling.LANCZOS)
            array = np.asarray(image, np.uint8)
    except (UnidentifiedImageError, OSError, ValueError):
        return None
    return array[..., None] if channels == 1 else array


def _label_names(files: list[str]) -> list[str] | None:
    folders = {Path(f).parent for f in files}
    for folder in sorted(folders):
        manifest = folder / "manifest.json"
        if manifest.is_file():
            try:
                names = json.loads(manifest.read_text(encoding="utf-8")).get("labels")
            except (ValueError, AttributeError):
                raise DataError(f"{manifest}: not a JSON object with a 'labels' list") from None
            if names is not None and not (
                isinstance(names, list) and all(isinstance(n, str) for n in names)
            ):
                raise DataError(f"{manifest}: 'labels' must be a list of strings")
            return names
    return None


def encode_example(png: bytes, label: int = -1, seed: int | None = None) -> bytes:
    """A serialized tf.Example {image_raw, label (-1: none)[, seed]}, as this loader reads."""
    import tensorflow as tf

    feature = {
        IMAGE_FEATURE: tf.train.Feature(bytes_list=tf.train.BytesList(value=[png])),
        LABEL_FEATURE: tf.train.Feature(int64_list=tf.train.Int64List(value=[label])),
    }
    if seed is not None:
        feature["seed"] = tf.train.Feature(int64_list=tf.train.Int64List(value=[seed]))
    return tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString()


def prepare(spec: str, out, image_size: int, channels: int, shard_size: int = 4096) -> Path:
    """Loads any data spec, checks it, and writes it as sharded TFRecords plus a
    `manifest.json` (counts, labels, what was skipped and why). The folder appears
    whole or not at all; read it back with `tfrecord:OUT/*.tfrecord`."""
    import tensorflow as tf
    from PIL import Image

    from keras_gan.data.base import load_dataset
    from keras_gan.files import atomic_directory
    from keras_gan.files import atomic_write_json

    if shard_size < 1:
        raise ValueError(f"shard_size must be positive, got {shard_size}")
    out = Path(out)
    if out.exists():
        raise FileExistsError(f"{out} already exists; pick a new folder")
    data = load_dataset(spec, image_size, channels)
    shards = -(-len(data) // shard_size)
    files = []
    with atomic_directory(out) as tmp, Progress(f"writing {out}", len(data), "images") as bar:
        for shard in range(shards):
            files.append(f"data-{shard:05d}-of-{shards:05d}.tfrecord")
            with tf.io.TFRecordWriter(str(tmp / files[-1])) as writer:
                for i in range(shard * shard_size, min((shard + 1) * shard_size, len(data))):
                    buffer = io.BytesIO()
                    pixels = data.images[i]
                    Image.fromarray(pixels[..., 0] if channels == 1 else pixels).save(
                        buffer, format="PNG"
                    )
                    label = -1 if data.labels is None else int(data.labels[i])
                    writer.write(encode_example(buffer.getvalue(), label))
                    bar.update(i + 1)
        counts = (
            {}
            if data.labels is None
            else dict(zip(data.label_names, np.bincount(data.labels).tolist()))
        )
        atomic_write_json(
            tmp / "manifest.json",
            {
                "source": spec,
                "image_size": image_size,
                "channels": channels,
                "num_examples": len(data),
                "files": files,
                "labels": data.label_names or None,
                "counts": counts,
                "report": data.report,
            },
        )
    return out
