"""Zero-shot `--like` from folders of glyph images whose cells do not hold the glyph
in an em box (issue #19): a font's glyphs saved as em-box cells (the contract), as
whole 64-px canvases, in canvases with a 25% margin, off centre, and written into a
simulated phone photo of the handwriting sheet (`kgan font scan`); each without and
with `complete.align_samples`. Content (the saved reader) and SSIM of every held-out
character against the real font; from the font itself for reference.

    KGAN_FONT_PATH=DIR .venv/bin/python bench/font_folder_placement.py --content READER
"""

import argparse
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

import numpy as np
from PIL import Image
from results import machine
from results import publish

from keras_gan.data.fontpairs import face_style
from keras_gan.data.fontpairs import load_style
from keras_gan.data.fontpairs import source_style
from keras_gan.data.fontpairs import split_chars
from keras_gan.data.glyphs import EM_FRACTION
from keras_gan.data.glyphs import parse_charset
from keras_gan.data.glyphs import select_fonts
from keras_gan.fonts import evaluate
from keras_gan.fonts import handwriting
from keras_gan.fonts.complete import align_samples
from keras_gan.fonts.complete import like_style
from keras_gan.fonts.complete import load_font_model
from keras_gan.fonts.complete import source_token
from keras_gan.fonts.complete import translate
from keras_gan.metrics.extractors import GlyphClassifier

sys.path.insert(0, str(Path(__file__).parents[1]))
from tests.fonts import test_handwriting as sheet  # noqa: E402  (its simulated photo)

BASE = "saved_models/font2font-zh"
TARGETS = {"kai": "AR PL UKai CN Book", "song": "AR PL UMing CN Light", "hei": "WenQuanYi Zen Hei"}
SAMPLES = 126  # two template pages


def cells(glyphs, kind):
    """The 64-px renders as image cells of `kind`."""
    em = int(round(64 * EM_FRACTION))
    offset = (64 - em) // 2
    for char, glyph in glyphs.items():
        if kind == "em box":
            yield char, glyph[offset : offset + em, offset : offset + em]
        elif kind == "canvas":
            yield char, glyph
        else:
            cell = np.full((96, 96), 255, np.uint8)
            top, left = (16, 16) if kind == "canvas, 25% margin" else (28, 2)
            cell[top : top + 64, left : left + 64] = glyph
            yield char, cell


def scanned(face_name, chars, folder):
    """`chars` written in the template's boxes, photographed, scanned back."""
    sheet.KAI, sheet.EMPTY, sheet.CROSSED = face_name, "", ""
    charset = f"chars={chars}"
    shots = []
    for number, page in enumerate(handwriting.template_pages(charset)):
        sheet.CHARS = chars[63 * number : 63 * (number + 1)]
        filled, _ = sheet.write_in(page)
        shot = folder / f"IMG_{number}.jpg"
        shot.write_bytes(sheet.photograph(filled, sheet.TILTED))
        shots.append(shot)
    handwriting.scan(shots, charset, folder / "glyphs")
    return folder / "glyphs"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--content", required=True, help="a saved content reader")
    args = parser.parse_args()
    reader = GlyphClassifier.load(args.content)
    model, config, _ = load_font_model(BASE)
    chars = parse_charset("gb2312-1")
    train, held = split_chars(chars, "train"), split_chars(chars, "heldout")
    source = source_style(source_token(BASE, config.data.spec), chars, 64)
    kinds = ("em box", "canvas", "canvas, 25% margin", "off centre", "handwriting sheet")
    lines = [
        "\n## Zero-shot --like from folders of glyph images, placed or not "
        "(bench/font_folder_placement.py, issue #19)\n",
        f"Machine: {machine()}. Base {BASE}; {SAMPLES} samples of training characters; "
        "held-out characters scored: content (the saved reader), SSIM against the real "
        "font. Folder kinds: em box (the loader's contract), the 64-px canvas (a render "
        "saved as a file), the canvas inside a 25% margin, the same off centre, and the "
        "glyphs written into a simulated phone photo of `kgan font template`'s sheet and "
        "read back by `kgan font scan`. Each cell: content, SSIM.\n",
        "| target | real | from the font | "
        + " | ".join(f"{k}: as is / placed" for k in kinds)
        + " |",
        "|---|---|---|" + "---|" * len(kinds),
    ]
    for label, name in TARGETS.items():
        target = face_style(select_fonts([name])[0], chars, 64)
        held_chars = [c for c in held if c in target.glyphs and c in source.glyphs]
        held_chars = [c for c in held_chars if c in reader.labels]
        real = np.stack([target.glyphs[c] for c in held_chars])
        ids = np.asarray([reader.labels.index(c) for c in held_chars])
        drawn_from = np.stack([source.glyphs[c] for c in held_chars])
        pool = np.random.default_rng(0).permutation(
            [c for c in train if c in target.glyphs and c in source.glyphs]
        )[:SAMPLES]

        def score(style):
            vector = like_style(model, source, style, log=lambda _: None)
            drawn = translate(model, drawn_from, vector)
            content = evaluate.accuracy(reader, drawn, ids)
            return f"{content:.2f}, {float(evaluate.ssim(drawn, real).mean()):.3f}"

        font = score(replace(target, glyphs={c: target.glyphs[c] for c in pool}))
        row = [label, f"{evaluate.accuracy(reader, real, ids):.2f}", font]
        for kind in kinds:
            folder = Path(tempfile.mkdtemp())
            if kind == "handwriting sheet":
                folder = scanned(name, "".join(pool), folder)
            else:
                for char, cell in cells({c: target.glyphs[c] for c in pool}, kind):
                    Image.fromarray(cell).save(folder / f"{char}.png")
            loaded = load_style(str(folder), chars, 64)
            placed = align_samples(model, source, loaded, log=lambda _: None)
            row.append(f"{score(loaded)} / " + ("(as is)" if placed is loaded else score(placed)))
        lines.append("| " + " | ".join(row) + " |")
        print(lines[-1], flush=True)
    publish(lines)


if __name__ == "__main__":
    main()
