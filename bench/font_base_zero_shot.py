"""Zero-shot `--like` of font bases on fonts none of them saw (issue #19): content
accuracy and SSIM of every held-out character, from 16 and 200 training-character
samples, with the CPU seconds of each fit; several bases side by side in one run.

    .venv/bin/python bench/font_base_zero_shot.py saved_models/font2font-zh OLD_BASE \\
        --content READER

READER: a content reader saved by bench/font_quality.py (`--content`); OLD_BASE e.g.
the base of an earlier commit (`git show COMMIT:saved_models/font2font-zh/FILE`).
"""

import argparse
import dataclasses
import time

import numpy as np
from results import machine
from results import publish

from keras_gan.data.fontpairs import face_style
from keras_gan.data.fontpairs import source_style
from keras_gan.data.fontpairs import split_chars
from keras_gan.data.glyphs import parse_charset
from keras_gan.data.glyphs import select_fonts
from keras_gan.fonts import evaluate
from keras_gan.fonts.complete import like_style
from keras_gan.fonts.complete import load_font_model
from keras_gan.fonts.complete import source_token
from keras_gan.fonts.complete import translate
from keras_gan.metrics.extractors import GlyphClassifier

TARGETS = {"kai": "AR PL UKai CN Book", "song": "AR PL UMing CN Light", "hei": "WenQuanYi Zen Hei"}
SHOTS = (16, 200)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bases", nargs="+")
    parser.add_argument("--content", required=True, help="a saved content reader")
    args = parser.parse_args()
    reader = GlyphClassifier.load(args.content)
    chars = parse_charset("gb2312-1")
    train, held = split_chars(chars, "train"), split_chars(chars, "heldout")
    lines = [
        "\n## Zero-shot --like of font bases on unseen fonts (bench/font_base_zero_shot.py)\n",
        f"Machine: {machine()}. Held-out characters (never trained on) of fonts no base "
        f"saw; {' / '.join(map(str, SHOTS))} training-character samples (the same random "
        "ones for every base); content: the saved content reader; SSIM against the real "
        "font; CPU: process seconds of the style fit (both cores).\n",
        "| base | target | real | "
        + " | ".join(f"{n} samples: content, SSIM, CPU s" for n in SHOTS)
        + " |",
        "|---|---|---|" + "---|" * len(SHOTS),
    ]
    for base in args.bases:
        model, config, _ = load_font_model(base)
        source = source_style(source_token(base, config.data.spec), chars, 64)
        for label, name in TARGETS.items():
            target = face_style(select_fonts([name])[0], chars, 64)
            held_chars = [
                c for c in held if c in target.glyphs and c in source.glyphs and c in reader.labels
            ]
            real = np.stack([target.glyphs[c] for c in held_chars])
            ids = np.asarray([reader.labels.index(c) for c in held_chars])
            drawn_from = np.stack([source.glyphs[c] for c in held_chars])
            pool = np.random.default_rng(0).permutation(
                [c for c in train if c in target.glyphs and c in source.glyphs]
            )
            cells = []
            for shots in SHOTS:
                samples = {c: target.glyphs[c] for c in pool[:shots]}
                start = time.process_time()
                vector = like_style(
                    model, source, dataclasses.replace(target, glyphs=samples), log=lambda _: None
                )
                seconds = time.process_time() - start
                generated = translate(model, drawn_from, vector)
                content = evaluate.accuracy(reader, generated, ids)
                similarity = float(evaluate.ssim(generated, real).mean())
                cells.append(f"{content:.2f}, {similarity:.3f}, {seconds:.0f}")
            real_content = evaluate.accuracy(reader, real, ids)
            lines.append(
                f"| {base} | {label} ({name}) | {real_content:.2f} | " + " | ".join(cells) + " |"
            )
            print(lines[-1], flush=True)
    publish(lines)


if __name__ == "__main__":
    main()
