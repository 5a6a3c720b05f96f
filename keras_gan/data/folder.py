"""`folder:PATH`: image files; sub-folders are classes (their names are the labels).

Every file is checked before training, so one bad file never stops an epoch: empty,
unreadable, truncated or fake images, pictures over `MAX_PIXELS` (decompression
bombs), files that are not images, broken or looping symbolic links and links to
folders (never followed: no loops) are skipped and counted by reason, with a few
example names. Colour modes are normalised: palette and alpha images are composed on
white, CMYK is converted, 16-bit images are scaled (not clipped) to 8 bits. Images
are centre-cropped to a square and resized to the run's image size.
"""

from __future__ import annotations

import os
import urllib.parse
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
    skips = Skips(root)
    images, labels, names = [], [], []
    sources = [(root, None)] if not classes else [(c, i) for i, c in enumerate(classes)]
    for folder, label in sources:
        for _, image in read_tree(folder, image_size, channels, skips):
            images.append(image)
            if label is not None:
                labels.append(label)
    skipped = skips.counts
    if classes:
        loose = [p for p in root.iterdir() if p.is_file() and not p.name.startswith(".")]
        for path in loose:
            skips(path, "outside a class folder")
        names = [printable(c.name) for c in classes]
        present = set(labels)
        empty = [names[k] for k in range(len(classes)) if k not in present]
        if empty and images:
            raise DataError(
                f"folder:{rest}: class folder(s) {', '.join(empty[:5])} hold no usable image "
                f"(skipped: {dict(skipped)})"
            )
    report = skips.report()
    if not images:
        raise DataError(f"folder:{rest}: no usable image (skipped: {dict(skipped)})")
    images = np.stack(images)
    if not classes:
        return ImageData(images=images, report=report)
    return ImageData.labelled(images, labels, names, report)


@DATASETS.register("pairs")
def load_pairs(rest: str, image_size: int, channels: int) -> ImageData:
    """`pairs:A_DIR,B_DIR[?unpaired=1]`: translation data, A (sources) -> B (targets).

    Paired (pix2pix): images with the same path relative to A_DIR and B_DIR form a
    pair; an image without its partner is skipped and counted. Unpaired (CycleGAN):
    every usable image of each folder, in any number.
    """
    folders, _, query = rest.partition("?")
    params = urllib.parse.parse_qs(query, keep_blank_values=True)
    if set(params) - {"unpaired"} or params.get("unpaired", ["1"])[0] not in ("0", "1"):
        raise DataError(f"pairs:{rest}: the only option is unpaired=0|1")
    parts = folders.split(",")
    if len(parts) != 2 or not all(parts):
        raise DataError(f"pairs:{rest}: expected pairs:A_DIR,B_DIR (two folders)")
    paired = params.get("unpaired", ["0"])[0] == "0"
    roots = [Path(p).expanduser() for p in parts]
    for root in roots:
        if not root.is_dir():
            raise DataError(f"pairs:{rest}: {root} is not a folder")
    skips = Skips(roots[0].parent)
    a_images, b_images = (dict(read_tree(root, image_size, channels, skips)) for root in roots)
    if paired:
        for root, only, other in ((roots[0], a_images, b_images), (roots[1], b_images, a_images)):
            for name in sorted(set(only) - set(other)):
                skips(root / name, "no partner of the same name")
        names = sorted(set(a_images) & set(b_images))
        a_images = {n: a_images[n] for n in names}
        b_images = {n: b_images[n] for n in names}
    if not a_images or not b_images:
        raise DataError(
            f"pairs:{rest}: no usable {'pair' if paired else 'image in both folders'} "
            f"(skipped: {skips.counts})"
        )
    return ImageData(
        images=np.stack(list(b_images.values())),
        sources=np.stack(list(a_images.values())),
        paired=paired,
        report={**skips.report(), "sources": len(a_images), "targets": len(b_images)},
    )


class Skips:
    """Counts skipped files by reason, with a few example paths (relative to `root`)."""

    def __init__(self, root: Path):
        self.root, self.counts, self.examples = root, Counter(), defaultdict(list)

    def __call__(self, path: Path, reason: str) -> None:
        self.counts[reason] += 1
        if len(self.examples[reason]) < 3:
            self.examples[reason].append(printable(os.path.relpath(path, self.root)))

    def report(self) -> dict:
        return {"skipped": dict(self.counts), "skipped_examples": dict(self.examples)}


def read_tree(folder: Path, image_size: int, channels: int, skips: Skips):
    """Yields (path relative to `folder`, image) for every usable image below `folder`."""
    # rglob does not descend into symbolic links to folders (no loops); they are counted.
    for path in sorted(folder.rglob("*"), key=lambda p: os.fsencode(str(p))):
        if path.name.startswith("."):
            continue
        if path.is_symlink() and not path.exists():
            skips(path, "broken or looping symbolic link")
            continue
        if path.is_dir():
            if path.is_symlink():
                skips(path, "symbolic link to a folder (not followed)")
            continue
        if path.suffix.lower() not in IMAGE_SUFFIXES:
            skips(path, "not an image file name")
            continue
        image, reason = read_image(path, image_size, channels)
        if image is None:
            skips(path, reason)
            continue
        yield str(path.relative_to(folder)), image


def printable(name) -> str:
    """A file name as text even if it is not valid UTF-8 (bad bytes shown as U+FFFD)."""
    return os.fsencode(str(name)).decode("utf-8", "replace")


def read_image(path: Path, image_size: int, channels: int):
    """(uint8 array (size, size, channels), None) or (None, reason it cannot be used)."""
    from PIL import Image
    from PIL import ImageOps

    image, reason = decode_image(path, "L" if channels == 1 else "RGB")
    if image is None:
        return None, reason
    image = ImageOps.fit(image, (image_size, image_size), Image.Resampling.LANCZOS)
    array = np.asarray(image, np.uint8)
    return (array[..., None] if channels == 1 else array), None


def decode_image(path: Path, mode: str):
    """(PIL image in `mode` ("L" or "RGB"), None) or (None, reason it cannot be used);
    sizes are checked from the header before any pixel is decoded. The image is turned
    upright by its EXIF orientation (a phone photo stored sideways is shown upright by
    every viewer, so it is read upright too)."""
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
                return to_mode(ImageOps.exif_transpose(image), mode), None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        return None, f"over {MAX_PIXELS:,} pixels"
    except UnidentifiedImageError:
        return None, "not a readable image"
    except (OSError, ValueError, SyntaxError):  # PIL's truncated/corrupt-data errors
        return None, "truncated or corrupt image"


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
