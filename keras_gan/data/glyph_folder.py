"""A style given as glyph images named by character (`永.png` or `U+6C38.png`).

Each image is one glyph cell: dark ink on light paper (light on dark is inverted),
any size, colour mode or common format. The cell is padded to a square and scaled
to the em box of the training canvas (`EM_FRACTION` of it, centred), as rendered
fonts are, so a glyph's position in its cell survives. Everything not used is
counted by reason, with example file names.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from pathlib import Path

import numpy as np

from keras_gan.data.base import DataError
from keras_gan.data.folder import decode_image
from keras_gan.data.glyphs import EM_FRACTION
from keras_gan.files import atomic_directory
from keras_gan.progress import track

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")
MIN_SIDE = 16  # smaller cells cannot hold a legible glyph
MAX_ASPECT = 4.0  # a wider strip is a line of text, not a glyph cell
EXAMPLES = 5


def char_of(stem: str) -> str | None:
    """The character a file stem names: itself if one character, or `U+XXXX`."""
    if len(stem) == 1 and stem.isprintable() and not stem.isspace():
        return stem
    match = re.fullmatch(r"[Uu]\+([0-9A-Fa-f]{4,6})", stem)
    if match:
        code = int(match.group(1), 16)
        if code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF:
            char = chr(code)
            return char if char.isprintable() and not char.isspace() else None
    return None


def to_cell(image: np.ndarray, size: int) -> tuple[np.ndarray, bool]:
    """(the cell as a `size`x`size` paper glyph, whether it was inverted)."""
    from PIL import Image

    border = np.concatenate([image[0], image[-1], image[:, 0], image[:, -1]])
    inverted = bool(np.median(border) < 128)
    if inverted:
        image = 255 - image
    height, width = image.shape
    side = max(height, width)
    square = np.full((side, side), 255, np.uint8)
    top, left = (side - height) // 2, (side - width) // 2
    square[top : top + height, left : left + width] = image
    em = int(round(size * EM_FRACTION))
    scaled = Image.fromarray(square).resize((em, em), Image.Resampling.LANCZOS)
    cell = np.full((size, size), 255, np.uint8)
    offset = (size - em) // 2
    cell[offset : offset + em, offset : offset + em] = np.asarray(scaled)
    return cell, inverted


def load_glyph_folder(
    path: str | os.PathLike, image_size: int
) -> tuple[dict[str, np.ndarray], dict]:
    """({character: uint8 (size, size) glyph}, report) from a flat folder of images.

    Raises:
        DataError: the folder does not exist or holds no usable glyph image.
    """
    root = Path(path)
    if not root.is_dir():
        raise DataError(f"glyph folder {str(root)!r} does not exist or is not a folder")
    glyphs: dict[str, np.ndarray] = {}
    skipped: Counter = Counter()
    examples: dict[str, list[str]] = {}
    facts: Counter = Counter()

    def skip(name: str, reason: str) -> None:
        skipped[reason] += 1
        examples.setdefault(reason, [])
        if len(examples[reason]) < EXAMPLES:
            examples[reason].append(name)

    entries = sorted(os.scandir(root), key=lambda e: e.name)
    for entry in track(entries, f"reading {root}", unit="files"):
        name = entry.name
        if name.startswith("."):
            continue
        if not entry.is_file():  # sub-folders and dangling links; never followed
            skip(name, "not a file")
            continue
        stem, suffix = os.path.splitext(name)
        if suffix.lower() not in IMAGE_SUFFIXES:
            skip(name, f"not an image name (expected {', '.join(IMAGE_SUFFIXES[:3])}, ...)")
            continue
        char = char_of(stem)
        if char is None:
            skip(name, "name is not one character or U+XXXX")
            continue
        if char in glyphs:
            skip(name, "duplicate character")
            continue
        image, reason = decode_image(Path(entry.path), "L")
        if image is None:
            skip(name, reason)
            continue
        width, height = image.size
        if min(width, height) < MIN_SIDE:
            skip(name, f"smaller than {MIN_SIDE} px")
            continue
        if max(width, height) / min(width, height) > MAX_ASPECT:
            skip(name, f"not a glyph cell (sides over {MAX_ASPECT:g}:1)")
            continue
        cell, inverted = to_cell(np.asarray(image, np.uint8), image_size)
        if cell.min() > 160:
            skip(name, "no ink")
            continue
        facts["inverted (light ink on dark paper)"] += inverted
        facts["rescaled"] += (width, height) != (image_size, image_size)
        glyphs[char] = cell
    report = {
        "used": len(glyphs),
        "skipped": dict(skipped),
        "examples": examples,
        **{k: v for k, v in facts.items() if v},
    }
    if not glyphs:
        reasons = ", ".join(f"{n} {r}" for r, n in skipped.items()) or "the folder is empty"
        raise DataError(
            f"glyph folder {str(root)!r} holds no usable glyph image ({reasons}); expected "
            "images named by their character, e.g. 永.png or U+6C38.png"
        )
    return glyphs, report


def write_glyph_folder(glyphs: dict[str, np.ndarray], folder: str | os.PathLike) -> None:
    """Canvas glyphs ({character: uint8 (size, size)}) as a folder that
    `load_glyph_folder` reads back as they were inside the em box: each glyph's em-box
    cell as U+XXXX.png (ink beyond the em box is cut); atomic, replacing `folder`."""
    from PIL import Image

    with atomic_directory(folder, replace=True) as tmp:
        for char, glyph in glyphs.items():
            size = len(glyph)
            em = int(round(size * EM_FRACTION))
            offset = (size - em) // 2
            cell = glyph[offset : offset + em, offset : offset + em]
            Image.fromarray(cell).save(tmp / f"U+{ord(char):04X}.png")


def ink_box(glyph: np.ndarray) -> tuple[float, float, float] | None:
    """(centre row, centre column, longer side) of a paper glyph's ink, or None."""
    rows, cols = np.nonzero(glyph < 128)
    if not len(rows):
        return None
    height, width = rows.max() - rows.min() + 1, cols.max() - cols.min() + 1
    return (rows.max() + rows.min()) / 2, (cols.max() + cols.min()) / 2, max(height, width)


def placement(glyphs, reference) -> tuple[float, np.ndarray]:
    """(scale, shift in pixels (rows, columns)) that `moved` applies to `glyphs` to sit
    them in the canvas as `reference` sits: medians over the pairs (glyphs[i],
    reference[i]) that both have ink; (1, 0) if none."""
    boxes = [(ink_box(a), ink_box(b)) for a, b in zip(glyphs, reference)]
    boxes = [(a, b) for a, b in boxes if a and b]
    if not boxes:
        return 1.0, np.zeros(2)
    mine, theirs = (np.asarray(b, np.float64) for b in zip(*boxes))
    scale = float(np.median(theirs[:, 2] / mine[:, 2]))
    middle = (len(glyphs[0]) - 1) / 2
    return scale, np.median(theirs[:, :2] - (middle + scale * (mine[:, :2] - middle)), axis=0)


def moved(glyph: np.ndarray, scale: float, shift: np.ndarray) -> np.ndarray:
    """`glyph` scaled by `scale` about the canvas middle, then moved by `shift` (rows,
    columns); paper fills what comes in from outside."""
    from PIL import Image

    # PIL maps each output point to an input point, in coordinates where pixel i spans
    # [i, i + 1): the canvas middle is at size / 2.
    middle = glyph.shape[0] / 2
    dy, dx = middle - (middle + np.asarray(shift)) / scale
    matrix = (1 / scale, 0, dx, 0, 1 / scale, dy)
    image = Image.fromarray(glyph).transform(
        glyph.shape[::-1], Image.Transform.AFFINE, matrix, Image.Resampling.BICUBIC, fillcolor=255
    )
    return np.asarray(image, np.uint8)
