"""Cost and quality of placing a new style row (`Font2Font.fit_style`: what a warm start
does for every face the base does not know) at several (steps, batch): fitted to 256
training-character glyphs of a face the shipped Latin base never saw, scored by the L1
of its drawings of the held-out characters against the real glyphs. Prints a table.

    KGAN_FONT_PATH=FONTS .venv/bin/python bench/style_placement.py "Noto Serif" "PT Sans Italic"
"""

import argparse
import time

import numpy as np

from keras_gan.data.fontpairs import source_style
from keras_gan.data.fontpairs import split_chars
from keras_gan.data.glyphs import parse_charset
from keras_gan.fonts.complete import load_font_model
from keras_gan.fonts.complete import model_input
from keras_gan.fonts.complete import source_token
from keras_gan.shipped import find_model

# (steps, batch, glyphs the nearest-style start is judged on; None: all 256)
SETTINGS = [
    (100, 64, None), (100, 64, 32), (100, 16, 32), (100, 16, 64), (200, 16, 32),
    (0, 16, 32), (25, 16, 32), (50, 16, 32),
]  # fmt: skip


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("faces", nargs="+", help="faces the base never saw, by name")
    args = parser.parse_args()
    base = find_model("saved_models/font2font-latin")
    model, config, _ = load_font_model(base)
    chars = parse_charset("european")
    source = source_style(source_token(base, config.data.spec), chars, 64)
    print(
        "| face | steps | batch | start judged on | held-out L1 | CPU s | wall s |\n"
        "|---|---|---|---|---|---|---|"
    )
    for face in args.faces:
        target = source_style(face, chars, 64)
        both = "".join(c for c in chars if c in target.glyphs and c in source.glyphs)
        train = split_chars(both, "train")[:256]
        held = split_chars(both, "heldout")
        real = model_input(target, held)
        for steps, batch, judged in SETTINGS:
            cpu, wall = time.process_time(), time.time()
            style = model.fit_style(
                model_input(source, train), model_input(target, train), steps,
                batch_size=batch, start_samples=judged or len(train),
            )  # fmt: skip
            cpu, wall = time.process_time() - cpu, time.time() - wall
            drawn = np.asarray(model.translate_in_style(model_input(source, held), style))
            l1 = np.abs(drawn - real).mean() / 2
            print(
                f"| {face} | {steps} | {batch} | {judged or len(train)} | {l1:.4f} | {cpu:.0f} "
                f"| {wall:.0f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
