"""Data sets: every spec (`glyphs:`, `folder:`, `pairs:`, `fontpairs:`, `synthetic:`,
`tfds:`, `tfrecord:`) is an `ImageData`; `text:` is a `TextData`."""

from keras_gan.data import folder  # noqa: F401  (registers folder:)
from keras_gan.data import fontpairs  # noqa: F401  (registers fontpairs:)
from keras_gan.data import glyphs  # noqa: F401  (registers glyphs:)
from keras_gan.data import synthetic  # noqa: F401  (registers synthetic:)
from keras_gan.data import text  # noqa: F401  (registers text:)
from keras_gan.data import tfds  # noqa: F401  (registers tfds:)
from keras_gan.data import tfrecord  # noqa: F401  (registers tfrecord:)
from keras_gan.data.base import DataError
from keras_gan.data.base import ImageData
from keras_gan.data.base import load_dataset
from keras_gan.data.text import TextData

__all__ = ["DataError", "ImageData", "TextData", "load_dataset", "stated_shape"]


def stated_shape(spec: str) -> dict:
    """The `data.image_size` / `data.channels` a spec states itself (`synthetic:32x32x3`
    states both), so that they follow it rather than a preset's or the defaults: {}
    for specs that take them from the config."""
    scheme, _, rest = spec.partition(":")
    return synthetic.stated_shape(rest) if scheme == "synthetic" else {}
