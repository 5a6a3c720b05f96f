"""Bitmaps -> outlines -> TrueType: the font installs, renders, and gives the bitmaps back."""

from pathlib import Path

import numpy as np
import pytest
from fontTools.ttLib import TTFont

from keras_gan.data.fontpairs import source_style
from keras_gan.fonts import fontfile
from keras_gan.fonts import outline
from keras_gan.fonts.evaluate import ink_iou as iou
from keras_gan.fonts.evaluate import overlap_area
from keras_gan.fonts.evaluate import raster_back as render
from tests.installed_fonts import ITALIC
from tests.installed_fonts import KAI
from tests.installed_fonts import LATIN
from tests.installed_fonts import SOURCE

HANZI = "永國龍鬱字我们的是不了"
LATIN_CHARS = "AgjyQ&%"


@pytest.fixture(scope="module")
def traced_font(tmp_path_factory, installed):
    styles = [source_style(SOURCE, HANZI, 64), source_style(LATIN, LATIN_CHARS, 64)]
    glyphs = {
        char: outline.trace(style.glyphs[char], style.em_pixels, outline.is_full_width(char))
        for style in styles
        for char in style.glyphs
    }
    path = tmp_path_factory.mktemp("font") / "Traced.ttf"
    counts = fontfile.write(path, glyphs, "Kgan Traced").counts
    return path, styles, counts


def test_font_opens_with_every_character_and_sane_tables(traced_font):
    path, _, counts = traced_font
    assert counts == {"generated": len(HANZI) + len(LATIN_CHARS)}
    font = TTFont(path)
    cmap = font.getBestCmap()
    assert all(ord(c) in cmap for c in HANZI + LATIN_CHARS + " ")
    assert font["name"].getBestFamilyName() == "Kgan Traced"
    assert font["OS/2"].fsType == 0  # installable
    assert font["head"].unitsPerEm == 1000
    assert font["hmtx"][cmap[ord("永")]][0] == 1000  # full width
    assert 0 < font["hmtx"][cmap[ord("j")]][0] < 1000  # proportional
    assert list(path.parent.iterdir()) == [path]  # no temporary file left


def test_rendering_the_font_gives_back_the_bitmaps(traced_font):
    path, styles, _ = traced_font
    scores = {}
    for style in styles:
        for char, bitmap in style.glyphs.items():
            scores[char] = iou(render(path, char, 64, style.em_pixels), 255 - bitmap)
    assert np.mean(list(scores.values())) >= 0.9, scores
    assert min(scores.values()) >= 0.85, scores


def square(x0, y0, side, clockwise=True):
    corners = [(x0, y0), (x0, y0 + side), (x0 + side, y0 + side), (x0 + side, y0)]
    corners = corners if clockwise else corners[::-1]
    return [("move", corners[:1]), ("line", corners[1:])]


def test_traced_outlines_neither_cross_nor_overlap_and_wind_right(traced_font, tmp_path):
    path, _, _ = traced_font
    for char in HANZI + LATIN_CHARS:
        assert overlap_area(path, char) < 1.0, char  # square units: rounding at most
    # What the measure sees: strokes drawn over each other, a hole wound as an outer.
    bad = {
        "A": outline.Glyph([square(100, 100, 400), square(300, 300, 400)], 1000, "generated"),
        "B": outline.Glyph([square(100, 100, 600), square(300, 300, 100)], 1000, "generated"),
        "C": outline.Glyph([square(100, 100, 600), square(300, 300, 100, False)], 1000, "x"),
    }
    font = fontfile.write(tmp_path / "Bad.ttf", bad, "Bad", hint=False).paths["ttf"]
    assert overlap_area(font, "A") == pytest.approx(200 * 200, rel=1e-3)
    assert overlap_area(font, "B") == pytest.approx(100 * 100, rel=1e-3)  # the hole, filled
    assert overlap_area(font, "C") < 1.0  # the same hole, wound as a hole


@pytest.mark.parametrize("face, chars", [(KAI, "永字Ab"), (ITALIC, "Abgy")])
def test_real_glyphs_are_copied_where_the_bitmaps_have_them(tmp_path, installed, face, chars):
    """Copied glyphs sit where generated ones learned to: FreeSerif's bitmaps centre its
    typo metrics (USE_TYPO_METRICS), 50 units off hhea's centre (at 128 px: the rounding of
    the ascender and descender to the pixel grid moves thin strokes less)."""
    style = source_style(face, chars, 128)
    copier = outline.FontGlyphCopier(style.face.path, style.face.index)
    path = tmp_path / "Copied.ttf"
    counts = fontfile.write(path, {}, "Copied", copier=copier, copied=chars).counts
    assert counts == {"font": 4}
    for char in chars:
        back = render(path, char, 128, style.em_pixels)
        assert iou(back, 255 - style.glyphs[char]) >= 0.9, char


def test_a_failed_build_leaves_the_old_font_whole(tmp_path, traced_font, monkeypatch):
    # The failure comes while the new file is written (its bytes are in a temporary
    # sibling, the rename fails): the old font stays whole and no temporary is left.
    import keras_gan.files

    path = tmp_path / "Mine.ttf"
    path.write_bytes(traced_font[0].read_bytes())
    before = path.read_bytes()
    written = []

    def failing_replace(source, target):
        written.append(Path(source).stat().st_size)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(keras_gan.files.os, "replace", failing_replace)
    style = traced_font[1][0]
    char = next(iter(style.glyphs))
    glyph = outline.trace(style.glyphs[char], style.em_pixels, outline.is_full_width(char))
    with pytest.raises(OSError, match="No space left on device"):
        fontfile.write(path, {char: glyph}, "Mine")
    assert written and written[0] > 0  # writing had started
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["Mine.ttf"]
