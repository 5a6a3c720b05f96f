"""Glyph bitmaps to outlines (potrace), and a real font's outlines in the same units.

Coordinates: a bitmap of side S shows the em box as `em_pixels` pixels, centred
the way `GlyphRenderer` centres a glyph (Pillow's "mm" anchor: the middle of the
advance width, and the middle of ascender..descender). A font built from them
(`fontfile`) keeps that geometry, so rendering it the same way gives back the bitmap.
Contours are in TrueType's direction: outer clockwise in font units (y up).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

import numpy as np

UNITS_PER_EM = 1000
ASCENT, DESCENT = 880, -120  # typical CJK vertical metrics; their middle is the glyph centre
SIDE_BEARING = 60  # of a proportional (non-CJK) generated glyph, in font units
# Tracer settings, chosen by bench/font_outlines.py (raster-back IoU against points per
# glyph against time; bench/RESULTS.md): bitmaps are smoothed to 3x before tracing
# (rounder curves, and IoU +0.01 over 2x at 1.5x the time); potrace's corner
# threshold and curve-merging tolerance (in pixels of the upsampled bitmap); and a
# curve whose control points lie within STRAIGHT pixels of its chord is drawn as a
# line (straight strokes need no curve points), and a point of a straight run that lies
# within COLLINEAR pixels of the line through its neighbours is dropped (points per
# glyph -10 to -25%, within 2x of the real fonts' for every face measured, for -0.007 IoU).
UPSAMPLE = 3
ALPHAMAX, OPTTOLERANCE = 1.0, 1.0
STRAIGHT, COLLINEAR = 1.0, 1.0


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
    paths = potrace.Bitmap(big).trace(
        turdsize=UPSAMPLE * UPSAMPLE, alphamax=ALPHAMAX, opttolerance=OPTTOLERANCE
    )
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
        start = unit(curve.start_point)
        contour = [("move", [start])]
        for segment in curve:
            points = [unit(p) for p in _points(segment)]
            if segment.is_corner:
                contour.append(("line", points))
            elif _straight(start, *points, STRAIGHT * scale):
                contour.append(("line", points[-1:]))  # one point instead of a curve's
            else:
                contour.append(("curve", points))
            start = points[-1]
        contours.append(_collinear_merged(contour, COLLINEAR * scale))
    return Glyph(contours, int(2 * half), "generated")


def _collinear_merged(contour: list, tolerance: float) -> list:
    """`contour` without the points of straight runs that lie within `tolerance` of the
    line through their neighbours (a bitmap's straight stroke edge comes out of potrace
    as several segments; a designer draws one)."""
    if tolerance <= 0:
        return contour
    ops = [contour[0]]
    for kind, points in contour[1:]:
        ops += [("line", [p]) for p in points] if kind == "line" else [(kind, points)]
    kept = [ops[0]]
    for i in range(1, len(ops)):
        kind, points = ops[i]
        following = ops[i + 1] if i + 1 < len(ops) else None
        if kind == "line" and following is not None and following[0] == "line":
            before, after = kept[-1][1][-1], following[1][0]
            if _on_chord(points[0], before, after, tolerance):
                continue
        kept.append(ops[i])
    return kept


def _on_chord(point, start, end, tolerance: float) -> bool:
    (x0, y0), (x1, y1), (x, y) = start, end, point
    length = ((x1 - x0) ** 2 + (y1 - y0) ** 2) ** 0.5
    if length == 0:
        return False
    along = ((x - x0) * (x1 - x0) + (y - y0) * (y1 - y0)) / length
    away = abs((x - x0) * (y1 - y0) - (y - y0) * (x1 - x0)) / length
    return away <= tolerance and 0 <= along <= length


def _straight(start, c1, c2, end, tolerance: float) -> bool:
    """Whether a cubic is a straight line to within `tolerance` (its control points
    that close to the chord, and between its ends)."""
    (x0, y0), (x1, y1) = start, end
    length = ((x1 - x0) ** 2 + (y1 - y0) ** 2) ** 0.5
    if length == 0:
        return False
    for x, y in (c1, c2):
        along = ((x - x0) * (x1 - x0) + (y - y0) * (y1 - y0)) / length
        away = abs((x - x0) * (y1 - y0) - (y - y0) * (x1 - x0)) / length
        if away > tolerance or not 0 <= along <= length:
            return False
    return True


def _points(segment) -> list:
    if segment.is_corner:
        return [segment.c, segment.end_point]
    return [segment.c1, segment.c2, segment.end_point]


def draw_glyph(glyph: Glyph, pen) -> None:
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
    re-centred vertically as Pillow centres them, in TrueType's contour direction)."""

    def __init__(self, path: str, index: int):
        from fontTools.ttLib import TTFont
        from PIL import ImageFont

        self.font = TTFont(path, fontNumber=index, lazy=True)
        self.cmap = self.font.getBestCmap() or {}
        self.glyph_set = self.font.getGlyphSet()
        units = self.font["head"].unitsPerEm
        self.scale = UNITS_PER_EM / units
        # The glyph bitmaps centre the ascender..descender that FreeType reports (Pillow's
        # "mm" anchor): OS/2's typo metrics when the font sets USE_TYPO_METRICS, else
        # hhea's. Copied glyphs must sit where the generated ones learned to.
        ascent, descent = ImageFont.truetype(path, units, index=index).getmetrics()
        self.centre = (ascent - descent) / 2

    def has(self, char: str) -> bool:
        return ord(char) in self.cmap

    def advance(self, char: str) -> int:
        return round(self.glyph_set[self.cmap[ord(char)]].width * self.scale)

    def draw(self, char: str, pen) -> None:
        from fontTools.pens.areaPen import AreaPen
        from fontTools.pens.recordingPen import DecomposingRecordingPen
        from fontTools.pens.reverseContourPen import ReverseContourPen
        from fontTools.pens.transformPen import TransformPen

        recording = DecomposingRecordingPen(self.glyph_set)  # components become outlines
        self.glyph_set[self.cmap[ord(char)]].draw(recording)
        offset = (ASCENT + DESCENT) / 2 - self.centre * self.scale
        pen = TransformPen(pen, (self.scale, 0, 0, self.scale, 0, offset))
        # The ink's signed area says which way its contours run: CFF fonts draw the
        # PostScript way round, and some TrueType fonts (AR PL UKai) do too.
        area = AreaPen()
        recording.replay(area)
        recording.replay(ReverseContourPen(pen) if area.value > 0 else pen)
