"""What ttfautohint does to a completed Latin font at small sizes (issue #20).

Real Latin glyphs (DejaVu Serif, the `latin` charset) are traced at 64 px and written
twice by `keras_gan.fonts.fontfile`: autohinted and unhinted. FreeType (freetype-py)
renders every glyph at 9-20 ppem with the font's TrueType instructions (the
bytecode interpreter, FT_LOAD_NO_AUTOHINT, grey) and with none (FT_LOAD_NO_HINTING).
Reported per size: sharpness, the mean of |2v - 1| over the pixels a glyph touches
(1: every pixel fully ink or paper; blur lowers it), and the share of glyphs whose
x-height lands on the same pixel row as 'x' (consistent lowercase tops).

    .venv/bin/python bench/font_hinting.py
"""

import tempfile
from pathlib import Path

import freetype
import numpy as np
from results import machine
from results import publish

from keras_gan.data.fontpairs import source_style
from keras_gan.data.glyphs import parse_charset
from keras_gan.fonts import fontfile
from keras_gan.fonts import outline

FACE = "DejaVu Serif Book"
SIZES = (9, 10, 11, 12, 14, 16, 20)
X_HEIGHT = "uvwxyz"  # lowercase letters with flat tops at the x-height (no overshoot)


def render(path, char, ppem, flags):
    face = freetype.Face(str(path))
    face.set_pixel_sizes(0, ppem)
    face.load_char(char, flags | freetype.FT_LOAD_RENDER)
    bitmap = face.glyph.bitmap
    pixels = np.array(bitmap.buffer, np.float32).reshape(bitmap.rows, bitmap.width) / 255
    return pixels, face.glyph.bitmap_top


def measure(path, chars, ppem, flags):
    sharp, tops = [], {}
    for char in chars:
        pixels, top = render(path, char, ppem, flags)
        touched = pixels[pixels > 0]
        if touched.size:
            sharp.append(np.abs(2 * touched - 1).mean())
        if char in X_HEIGHT:
            tops[char] = top
    same = np.mean([tops[c] == tops["x"] for c in tops])
    return float(np.mean(sharp)), float(same)


def main():
    chars = parse_charset("latin")
    style = source_style(FACE, chars, 64)
    glyphs = {c: outline.trace(g, style.em_pixels, False) for c, g in style.glyphs.items()}
    lines = [
        "\n## Autohinting a completed Latin font (bench/font_hinting.py)\n",
        f"Machine: {machine()}. {len(glyphs)} glyphs of {FACE} traced at 64 px; FreeType "
        f"{'.'.join(map(str, freetype.version()))} grey rendering. Cells: sharpness (mean "
        "|2v-1| over touched pixels) / share of x-height letters whose top is on the "
        "x's pixel row.\n",
        "| ppem | unhinted | ttfautohint, instructions run |",
        "|---|---|---|",
    ]
    with tempfile.TemporaryDirectory() as tmp:
        plain = fontfile.write(Path(tmp) / "Plain.ttf", glyphs, "Plain", hint=False)
        hinted = fontfile.write(Path(tmp) / "Hinted.ttf", glyphs, "Hinted", hint=True)
        for ppem in SIZES:
            a = measure(plain.paths["ttf"], glyphs, ppem, freetype.FT_LOAD_NO_HINTING)
            b = measure(hinted.paths["ttf"], glyphs, ppem, freetype.FT_LOAD_NO_AUTOHINT)
            lines.append(f"| {ppem} | {a[0]:.3f} / {a[1]:.2f} | {b[0]:.3f} / {b[1]:.2f} |")
            print(lines[-1], flush=True)
    publish(lines)


if __name__ == "__main__":
    main()
