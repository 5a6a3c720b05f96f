"""The in-memory data set every loader returns, and spec dispatch."""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field

import numpy as np

from keras_gan.registry import DATASETS


class DataError(ValueError):
    """A data set, file or font is missing, unreadable or not what was expected."""


@dataclass
class ImageData:
    """Training images held in memory as uint8, with optional class labels.

    Args:
        images: uint8 array `(N, H, W, C)`; glyphs are dark ink on white paper.
        labels: int32 array `(N,)` of class ids, or `None` (unconditional data).
        label_names: class names in id order (for glyphs: the characters).
        reference_images: uint8 `(num_classes, H, W, C)`: one clean example per
            class, used by models conditioned on a rendered reference glyph.
        styles: int32 `(N,)` style ids (for glyphs: the font face), or `None`.
        style_names: style names in id order.
        report: what was skipped and why (reason -> count), and other facts.
        sources: uint8 like `images`: the inputs of a translation model (`images`
            are its targets), or `None`.
        paired: `sources[i]` is the input whose target is `images[i]` (pix2pix);
            False: two unpaired domains, shuffled independently (CycleGAN).
    """

    images: np.ndarray
    labels: np.ndarray | None = None
    label_names: list[str] = field(default_factory=list)
    reference_images: np.ndarray | None = None
    styles: np.ndarray | None = None
    style_names: list[str] = field(default_factory=list)
    report: dict = field(default_factory=dict)
    sources: np.ndarray | None = None
    paired: bool = True

    modality = "image"

    @property
    def glyphs(self) -> bool:
        """Characters rendered from font faces (what flips or quarter turns would turn
        into other characters or none)."""
        return bool(self.style_names)

    @classmethod
    def labelled(cls, images, labels, label_names, report) -> "ImageData":
        """Labelled data whose reference image of each class is its first image (the
        first image overall for a class without any)."""
        labels = np.asarray(labels, np.int32)
        first = [int(np.argmax(labels == k)) for k in range(len(label_names))]
        return cls(
            images=images,
            labels=labels,
            label_names=list(label_names),
            reference_images=images[first].copy(),
            report=report,
        )

    @property
    def num_classes(self) -> int:
        return len(self.label_names)

    def __len__(self) -> int:
        return len(self.images)

    def model_kwargs(self) -> dict:
        """The model constructor arguments this data decides."""
        _, size, _, channels = self.images.shape
        return {"image_size": size, "channels": channels}

    def info(self, spec: str) -> dict:
        """What a run keeps of its data (`dataset.json`): labels, styles, what was skipped."""
        return {
            "spec": spec,
            "size": len(self),
            "label_names": self.label_names,
            "style_names": self.style_names,
            "report": self.report,
        }


def load_dataset(spec: str, image_size: int = 32, channels: int = 1) -> ImageData:
    """Loads a data set from its spec (`scheme:rest`); see DESIGN.md section 4."""
    scheme, sep, rest = spec.partition(":")
    if not sep:
        raise DataError(
            f"dataset spec {spec!r} has no scheme; expected SCHEME:VALUE with SCHEME one of "
            f"{', '.join(DATASETS.names())} (e.g. glyphs:latin)"
        )
    if scheme not in DATASETS:
        raise DataError(
            f"unknown dataset scheme {scheme!r} in {spec!r}; valid schemes: "
            f"{', '.join(DATASETS.names())}"
        )
    data = DATASETS.get(scheme)(rest, image_size=image_size, channels=channels)
    if len(data) == 0:
        raise DataError(f"dataset {spec!r} holds no images ({data.report})")
    return data
