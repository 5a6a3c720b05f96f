"""`folder:PATH`: image files; sub-folders are classes (their names are the labels).

Every file is checked before training, so one bad file never stops an epoch: empty,
unreadable, truncated or fake images, pictures over `MAX_PIXELS` (decompression
bombs) and files that are not images are skipped and counted by reason, with a few
example names. Colour modes are normalised: palette and alpha images are composed on
white, CMYK is converted, 16-bit images are scaled (not clipped) to 8 bits. Images
are centre-cropped to a square and resized to the run's image size.
"""

from __future__ import annotations

import os
import warnings
from collections import Counter
from collections import defaultdict
from pathlib import Path

import numpy as np

from keras_gan.data.base import DataError
from keras_gan.data.base import ImageData
from keras_gan.registry import DATASETS

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff"}
MAX_PIXELS = 64_000_000  # larger headers are refused before any pixel is decoded


@DATASETS.register("folder")
def load_folder(rest: str, image_size: int, channels: int) -> ImageData:
    root = Path(rest).expanduser()
    if not root.is_dir():
        raise DataError(f"folder:{rest}: {root} is not a folder")
    classes = sorted(
        (p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")),
        key=lambda p: os.fsencode(p.name),
    )
    skipped: Counter = Counter()
    examples: dict[str, list[str]] = defaultdict(list)
    images, labels, names = [], [], []

    def skip(path: Path, reason: str) -> None:
        skipped[reason] += 1
        if len(examples[reason]) < 3:
            examples[reason].append(printable(path.relative_to(root)))

    sources = [(root, None)] if not classes else [(c, i) for i, c in enumerate(classes)]
    for folder, label in sources:
        for path in sorted(folder.rglob("*"), key=lambda p: os.fsencode(str(p))):
            if path.is_dir() or path.name.startswith("."):
                continue
            if path.suffix.lower() not in IMAGE_SUFFIXES:
                skip(path, "not an image file name")
                continue
            image, reason = read_image(path, image_size, channels)
            if image is None:
                skip(path, reason)
                continue
            images.append(image)
            if label is not None:
                labels.append(label)
    if classes:
        loose = [p for p in root.iterdir() if p.is_file() and not p.name.startswith(".")]
        for path in loose:
            skip(path, "outside a class folder")
        names = [printable(c.name) for c in classes]
        present = set(labels)
        empty = [names[k] for k in range(len(classes)) if k not in present]
        if empty and images:
            raise DataError(
                f"folder:{rest}: class folder(s) {', '.join(empty[:5])} hold no usable image "
                f"(skipped: {dict(skipped)})"
            )
    report = {"skipped": dict(skipped), "skipped_examples": dict(examples)}
    if not images:
        raise DataError(f"folder:{rest}: no usable image (skipped: {dict(skipped)})")
    images = np.stack(images)
    if not classes:
        return ImageData(images=images, report=report)
    return ImageData.labelled(images, labels, names, report)


def printable(name) -> str:
    """A file name as text even if it is not valid UTF-8 (bad bytes shown as U+FFFD)."""
    return os.fsencode(str(name)).decode("utf-8", "replace")


def read_image(path: Path, image_size: int, channels: int):
    """(uint8 array (size, size, channels), None) or (None, reason it cannot be used)."""
    from PIL import Image
    from PIL import ImageOps
    from PIL import UnidentifiedImageError

    try:
        if path.stat().st_size == 0:
            return None, "empty file"
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                width, height = image.size
                if width * height > MAX_PIXELS:
                    return None, f"over {MAX_PIXELS:,} pixels"
                image.load()
                image = to_mode(image, "L" if channels == 1 else "RGB")
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        return None, f"over {MAX_PIXELS:,} pixels"
    except UnidentifiedImageError:
        return None, "not a readable image"
    except (OSError, ValueError, SyntaxError):  # PIL's truncated/corrupt-data errors
        return None, "truncated or corrupt image"
    image = ImageOps.fit(image, (image_size, image_size), Image.Resampling.LANCZOS)
    array = np.asarray(image, np.uint8)
    return (array[..., None] if channels == 1 else array), None


def to_mode(image, mode: str):
    """Any PIL mode -> "L" or "RGB": alpha on white, 16/32-bit scaled to 8 bits."""
    from PIL import Image

    if image.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        values = np.asarray(image, np.float64)
        top = 65535.0 if image.mode.startswith("I;16") or values.max() > 255 else 255.0
        image = Image.fromarray(np.clip(values / top * 255.0 + 0.5, 0, 255).astype(np.uint8))
    if image.mode == "P":
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "PA"):
        background = Image.new("RGBA", image.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, image.convert("RGBA"))
    return image.convert(mode)
