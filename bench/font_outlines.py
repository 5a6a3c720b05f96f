"""Outlines traced from glyph bitmaps, against the real font's (issue #20, item 3).

Real glyphs of a kai, a song/ming, a hei and two Latin faces are rendered at 64 and
128 px the way training glyphs are, traced (`keras_gan.fonts.outline.trace`) and
written as a TrueType font (`keras_gan.fonts.fontfile`); the same characters are
copied from the real font into a second one. Reported per face and size:

- raster-back IoU: the traced font's glyph rendered at the bitmap's size against the
  bitmap it was traced from (ink > 50%; `evaluate.raster_back`, exact placement); and
  the same for the real font's own outlines, copied (what rendering conventions alone
  cost: the bitmaps were drawn by Pillow, which rounds each font's ascender and
  descender to whole pixels);
- glyphs whose contours cross or overlap (`evaluate.overlap_area` >= 1 square unit);
- points per glyph (TrueType points, after cu2qu) of traced / of the real font's
  outline of the same character, the median and the 90th percentile of the ratio;
- milliseconds to trace one glyph;

for tracer settings side by side (VARIANTS: potrace's corner threshold alphamax and
curve-merging opttolerance, the upsampling before tracing, cu2qu's error in font
units).

    .venv/bin/python bench/font_outlines.py [--count 100]
"""

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
from fontTools.ttLib import TTFont
from results import machine
from results import publish

from keras_gan.data.fontpairs import source_style
from keras_gan.data.glyphs import parse_charset
from keras_gan.fonts import fontfile
from keras_gan.fonts import outline
from keras_gan.fonts.evaluate import ink_iou
from keras_gan.fonts.evaluate import overlap_area
from keras_gan.fonts.evaluate import raster_back

# name: (alphamax, opttolerance, upsample, cu2qu max error, straight tolerance,
# collinear tolerance)
VARIANTS = {
    "before: no collinear merging": (1.0, 1.0, 3, 5.0, 1.0, 0.0),
    "chosen: collinear 1.0": (1.0, 1.0, 3, 5.0, 1.0, 1.0),
    "collinear 2.0": (1.0, 1.0, 3, 5.0, 1.0, 2.0),
}
FACES = {
    "kai": ("AR PL UKai CN Book", "gb2312-1"),
    "song/ming": ("AR PL UMing CN Light", "gb2312-1"),
    "hei": ("WenQuanYi Micro Hei", "gb2312-1"),
    "Latin serif": ("DejaVu Serif Book", "latin"),
    "Latin italic": ("FreeSerif Italic", "latin"),
}


def points(font, char):
    glyf = font["glyf"]
    glyph = glyf[font.getBestCmap()[ord(char)]]
    return len(glyph.getCoordinates(glyf)[0]) if glyph.numberOfContours else 0


def measure(face, charset, size, count, folder):
    chars = parse_charset(charset)
    chars = chars[:: max(1, len(chars) // count)][:count]
    style = source_style(face, chars, size)
    start = time.process_time()
    traced = {
        c: outline.trace(g, style.em_pixels, outline.is_full_width(c))
        for c, g in style.glyphs.items()
    }
    seconds = (time.process_time() - start) / len(traced)
    ours = fontfile.write(folder / f"traced{size}.ttf", traced, "Traced", hint=False)
    copier = outline.FontGlyphCopier(style.face.path, style.face.index)
    real = fontfile.write(
        folder / f"real{size}.ttf", {}, "Real", copier=copier, copied="".join(traced), hint=False
    )
    ours_font, real_font = TTFont(ours.paths["ttf"]), TTFont(real.paths["ttf"])
    ious, real_ious, ratios, crossing = [], [], [], 0
    for char, bitmap in style.glyphs.items():
        for font, scores in ((ours, ious), (real, real_ious)):
            back = raster_back(font.paths["ttf"], char, size, style.em_pixels)
            scores.append(ink_iou(back, 255 - bitmap))
        crossing += overlap_area(ours.paths["ttf"], char) >= 1.0
        if points(real_font, char):
            ratios.append(points(ours_font, char) / points(real_font, char))
    return {
        "iou": float(np.mean(ious)),
        "iou_min": float(np.min(ious)),
        "iou_real": float(np.mean(real_ious)),
        "crossing": crossing,
        "ratio": float(np.median(ratios)),
        "ratio90": float(np.percentile(ratios, 90)),
        "seconds": seconds,
        "n": len(ious),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100, help="characters per face")
    args = parser.parse_args()
    lines = [
        f"\n## Traced outlines against real ones (bench/font_outlines.py, {args.count} "
        "characters per face)\n",
        f"Machine: {machine()}. Each cell: raster-back IoU mean (min) / points traced per "
        "real point, median (p90) / ms per glyph / glyphs whose contours cross or overlap. "
        "The real column: the real font's outlines copied, rendered back. Variants: "
        "(alphamax, opttolerance, upsample, cu2qu max error in units of a 1000-unit em, "
        "straight-line and collinear-point tolerances in upsampled pixels).\n",
        "| face | size | real | " + " | ".join(f"{k} {v}" for k, v in VARIANTS.items()) + " |",
        "|---|---|---|" + "---|" * len(VARIANTS),
    ]
    with tempfile.TemporaryDirectory() as tmp:
        for label, (face, charset) in FACES.items():
            for size in (64, 128):
                cells, real = [], None
                for i, variant in enumerate(VARIANTS.values()):
                    (outline.ALPHAMAX, outline.OPTTOLERANCE, outline.UPSAMPLE,
                     fontfile.CU2QU_MAX_ERR, outline.STRAIGHT,
                     outline.COLLINEAR) = variant  # fmt: skip
                    folder = Path(tmp) / f"{label}-{size}-{i}".replace("/", "-").replace(" ", "-")
                    folder.mkdir()
                    r = measure(face, charset, size, args.count, folder)
                    real = r["iou_real"]
                    cells.append(
                        f"{r['iou']:.3f} ({r['iou_min']:.2f}) / {r['ratio']:.2f} "
                        f"({r['ratio90']:.2f}) / {r['seconds'] * 1000:.0f} / {r['crossing']}"
                    )
                lines.append(
                    f"| {label} ({face}) | {size} | {real:.3f} | " + " | ".join(cells) + " |"
                )
                print(lines[-1], flush=True)
    publish(lines)


if __name__ == "__main__":
    main()
