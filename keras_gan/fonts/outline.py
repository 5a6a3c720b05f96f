"""Glyph bitmaps to outlines (potrace) and outlines to an installable TrueType font.

Coordinates: a bitmap of side S shows the em box as `em_pixels` pixels, centred
the way `GlyphRenderer` centres a glyph (Pillow's "mm" anchor: the middle of the
advance width, and the middle of ascender..descender). A font built here keeps
that geometry, so rendering it the same way gives back the bitmap.
"""

from __future__ import annotations

import io
import os
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from keras_gan.files import atomic_write_bytes

UNITS_PER_EM = 1000
ASCENT, DESCENT = 880, -120  # typical CJK vertical metrics; their middle is the glyph centre
SIDE_BEARING = 60  # of a proportional (non-CJK) generated glyph, in font units
UPSAMPLE = 2  # bitmaps are smoothed to 2x before tracing: rounder curves, 2x the time
VERSION = "Version 1.000"


@dataclass
class Glyph:
    """One character's outline in font units: contours of points and segment kinds."""

    contours: list  # each: list of ("line", (x, y)) | ("curve", (c1, c2, end)), closed
    advance: int
    source: str  # "generated", "traced sample" or "font"


def trace(bitmap: np.ndarray, em_pixels: float, full_width: bool) -> Glyph:
    """Outlines of the ink (dark) of a uint8 paper glyph of side S.

    `full_width`: the advance is one em (CJK); else it hugs the ink with
    `SIDE_BEARING` on both sides, symmetric about the centre, so the ink stays
    where the bitmap has it.
    """
    import potrace
    from PIL import Image

    size = bitmap.shape[0]
    big = Image.fromarray(np.asarray(bitmap, np.uint8).reshape(size, size))
    big = np.asarray(big.resize((size * UPSAMPLE,) * 2, Image.Resampling.BICUBIC))
    # turdsize: specks under ~1 pixel of the training size are noise, not strokes.
    paths = potrace.Bitmap(big).trace(turdsize=UPSAMPLE * UPSAMPLE, alphamax=1.0, opttolerance=0.2)
    scale = UNITS_PER_EM / em_pixels / UPSAMPLE
    centre = size * UPSAMPLE / 2
    if full_width:
        half = UNITS_PER_EM / 2
    else:  # the curves' points, control points included, bound the ink
        xs = [p.x for curve in paths for segment in curve for p in _points(segment)]
        half = round(max((abs(x - centre) for x in xs), default=0.0) * scale + SIDE_BEARING)
    middle_y = (ASCENT + DESCENT) / 2

    def unit(point):
        return (
            round((point.x - centre) * scale + half),
            round((centre - point.y) * scale + middle_y),
        )

    contours = []
    for curve in paths:
        contour = [("move", [unit(curve.start_point)])]
        for segment in curve:
            kind = "line" if segment.is_corner else "curve"
            contour.append((kind, [unit(p) for p in _points(segment)]))
        contours.append(contour)
    return Glyph(contours, int(2 * half), "generated")


def _points(segment) -> list:
    if segment.is_corner:
        return [segment.c, segment.end_point]
    return [segment.c1, segment.c2, segment.end_point]


def _draw(glyph: Glyph, pen) -> None:
    for contour in glyph.contours:
        for kind, points in contour:
            if kind == "move":
                pen.moveTo(points[0])
            elif kind == "line":
                for point in points:
                    pen.lineTo(point)
            else:
                pen.curveTo(*points)
        pen.closePath()


def glyph_name(char: str) -> str:
    code = ord(char)
    return f"uni{code:04X}" if code <= 0xFFFF else f"u{code:05X}"


def is_full_width(char: str) -> bool:
    return unicodedata.east_asian_width(char) in ("W", "F")


class FontGlyphCopier:
    """Draws a real font's glyphs into the new font's coordinates (scaled to its em,
    re-centred vertically as Pillow centres them)."""

    def __init__(self, path: str, index: int):
        from fontTools.ttLib import TTFont

        self.font = TTFont(path, fontNumber=index, lazy=True)
        self.cmap = self.font.getBestCmap() or {}
        self.glyph_set = self.font.getGlyphSet()
        hhea = self.font["hhea"]
        self.scale = UNITS_PER_EM / self.font["head"].unitsPerEm
        self.centre = (hhea.ascent + hhea.descent) / 2

    def has(self, char: str) -> bool:
        return ord(char) in self.cmap

    def draw(self, char: str, pen) -> int:
        """Draws `char` into `pen`; returns its advance in new units."""
        from fontTools.pens.recordingPen import DecomposingRecordingPen
        from fontTools.pens.transformPen import TransformPen

        glyph = self.glyph_set[self.cmap[ord(char)]]
        recording = DecomposingRecordingPen(self.glyph_set)  # components become outlines
        glyph.draw(recording)
        offset = (ASCENT + DESCENT) / 2 - self.centre * self.scale
        recording.replay(TransformPen(pen, (self.scale, 0, 0, self.scale, 0, offset)))
        return round(glyph.width * self.scale)


def build_font(
    path: str | os.PathLike,
    family: str,
    glyphs: dict[str, Glyph],
    copier: FontGlyphCopier | None = None,
    copied: str = "",
) -> dict:
    """Writes a TrueType font with `glyphs` (traced) plus the characters `copied` from
    `copier`'s font; temporary file then rename. Returns counts by glyph source."""
    from fontTools.fontBuilder import FontBuilder
    from fontTools.pens.cu2quPen import Cu2QuPen
    from fontTools.pens.ttGlyphPen import TTGlyphPen

    order, cmap, outlines, metrics = [".notdef"], {}, {}, {}
    notdef = TTGlyphPen(None)  # the usual hollow box: outer clockwise, inner counter-clockwise
    for contour in (
        [(50, DESCENT), (50, ASCENT), (450, ASCENT), (450, DESCENT)],
        [(100, DESCENT + 50), (400, DESCENT + 50), (400, ASCENT - 50), (100, ASCENT - 50)],
    ):
        notdef.moveTo(contour[0])
        for point in contour[1:]:
            notdef.lineTo(point)
        notdef.closePath()
    outlines[".notdef"], metrics[".notdef"] = notdef.glyph(), (500, 50)
    counts: dict[str, int] = {}
    for char in list(copied) + [c for c in glyphs if c not in copied]:
        name = glyph_name(char)
        pen = TTGlyphPen(None)
        # potrace draws ink counter-clockwise in y-down pixels: clockwise in y-up
        # font units, which is TrueType's outer direction, so no reversal.
        cu2qu = Cu2QuPen(pen, max_err=1.0, reverse_direction=False)
        if char in copied and copier is not None:
            advance, source = copier.draw(char, cu2qu), "font"
        else:
            _draw(glyphs[char], cu2qu)
            advance, source = glyphs[char].advance, glyphs[char].source
        glyph = pen.glyph()
        order.append(name)
        cmap[ord(char)] = name
        outlines[name] = glyph
        glyph.recalcBounds(None)
        metrics[name] = (advance, getattr(glyph, "xMin", 0))
        counts[source] = counts.get(source, 0) + 1
    if 0x20 not in cmap:
        order.append("space")
        cmap[0x20], outlines["space"] = "space", TTGlyphPen(None).glyph()
        metrics["space"] = (UNITS_PER_EM // 3, 0)

    builder = FontBuilder(UNITS_PER_EM, isTTF=True)
    builder.setupGlyphOrder(order)
    builder.setupCharacterMap(cmap)
    builder.setupGlyf(outlines)
    builder.setupHorizontalMetrics(metrics)
    builder.setupHorizontalHeader(ascent=ASCENT, descent=DESCENT)
    postscript = "".join(c for c in family if c.isalnum())[:28] or "KganFont"
    builder.setupNameTable(
        {
            "familyName": family,
            "styleName": "Regular",
            "uniqueFontIdentifier": f"keras-gan: {family}",
            "fullName": family,
            "psName": f"{postscript}-Regular",
            "version": VERSION,
            "description": "Glyphs generated by keras-gan font2font",
        }
    )
    builder.setupOS2(
        sTypoAscender=ASCENT,
        sTypoDescender=DESCENT,
        sTypoLineGap=0,
        usWinAscent=ASCENT,
        usWinDescent=-DESCENT,
        fsType=0,  # installable embedding: the user's own font
    )
    builder.setupPost()
    buffer = io.BytesIO()
    builder.save(buffer)
    atomic_write_bytes(Path(path), buffer.getvalue())
    return counts
