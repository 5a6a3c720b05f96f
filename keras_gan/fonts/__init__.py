"""Fonts: font-to-font training pairs, glyph folders, outlines and TrueType fonts."""

from keras_gan.fonts import pairs  # noqa: F401  (registers the fontpairs: data spec)
