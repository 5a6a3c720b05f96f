"""`synthetic:HxWxC`: random images, for measuring compute alone and for dry runs."""

from __future__ import annotations

import re

import numpy as np

from keras_gan.data.base import DataError
from keras_gan.data.base import ImageData
from keras_gan.registry import DATASETS


def _shape(rest: str) -> tuple[int, int, int]:
    """(H, W, C) of `synthetic:HxWxC[?...]`."""
    match = re.fullmatch(r"(\d+)x(\d+)x([13])", rest.partition("?")[0])
    if not match:
        raise DataError(f"synthetic spec {rest!r}: expected HxWxC such as 32x32x3 (C is 1 or 3)")
    height, width, depth = (int(g) for g in match.groups())
    return height, width, depth


def stated_shape(rest: str) -> dict:
    """{"image_size", "channels"} as `synthetic:HxWxC` states them (square H = W only)."""
    height, width, depth = _shape(rest)
    return {"image_size": height, "channels": depth} if height == width else {"channels": depth}


@DATASETS.register("synthetic")
def load_synthetic(rest: str, image_size: int, channels: int) -> ImageData:
    """`synthetic:32x32x3[?n=1024&classes=10]`: seeded random images and labels."""
    shape, _, query = rest.partition("?")
    height, width, depth = _shape(rest)
    if height != width or height != image_size or depth != channels:
        raise DataError(
            f"synthetic:{shape} does not match data.image_size={image_size} and "
            f"data.channels={channels}; use synthetic:{image_size}x{image_size}x{channels}"
        )
    options = dict(part.split("=", 1) for part in query.split("&") if "=" in part)
    count, classes = int(options.get("n", 512)), int(options.get("classes", 0))
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(count, height, width, depth), dtype=np.uint8)
    labels = rng.integers(0, classes, size=count).astype(np.int32) if classes else None
    return ImageData(
        images=images,
        labels=labels,
        label_names=[str(i) for i in range(classes)],
        reference_images=images[:classes].copy() if classes else None,
    )
