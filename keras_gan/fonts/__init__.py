"""Fonts as a product: learn a style from sample glyphs (`complete.fit_config`), complete
the font (`complete.complete_font`), trace outlines to TrueType (`outline`), and judge the
result (`evaluate`). The data they train on is in `keras_gan.data` (`fontpairs:`,
glyph folders).
"""
