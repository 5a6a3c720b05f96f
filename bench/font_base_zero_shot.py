"""Zero-shot `--like` of font bases on fonts none of them saw (issue #19): content
accuracy and SSIM of every held-out character, from 16 and 200 training-character
samples, with the CPU seconds of each fit; several bases, and with `--steps` several
lengths of the style fit (`like_style`), side by side in one run. A Latin base
(`fontpairs:european`) is scored on bench/font_quality.py's Latin targets.

    .venv/bin/python bench/font_base_zero_shot.py saved_models/font2font-zh OLD_BASE \\
        --content READER [--steps 50,100,300]

READER: a content reader saved by bench/font_quality.py (`--content`); OLD_BASE e.g.
the base of an earlier commit (`git show COMMIT:saved_models/font2font-zh/FILE`).
"""

import argparse
import dataclasses
import time

import numpy as np
from font_quality import SCRIPTS
from results import machine
from results import publish

from keras_gan.data.fontpairs import face_style
from keras_gan.data.fontpairs import source_style
from keras_gan.data.fontpairs import split_chars
from keras_gan.data.glyphs import parse_charset
from keras_gan.data.glyphs import select_fonts
from keras_gan.fonts import evaluate
from keras_gan.fonts.complete import LIKE_STEPS
from keras_gan.fonts.complete import like_style
from keras_gan.fonts.complete import load_font_model
from keras_gan.fonts.complete import source_token
from keras_gan.fonts.complete import spec_charset
from keras_gan.fonts.complete import translate
from keras_gan.metrics.extractors import GlyphClassifier

SHOTS = (16, 200)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bases", nargs="+")
    parser.add_argument("--content", required=True, help="a saved content reader")
    parser.add_argument(
        "--steps", default=str(LIKE_STEPS), help="Adam steps of the style fit, comma-separated"
    )
    args = parser.parse_args()
    reader = GlyphClassifier.load(args.content)
    lengths = [int(n) for n in args.steps.split(",")]
    lines = [
        "\n## Zero-shot --like of font bases on unseen fonts (bench/font_base_zero_shot.py)\n",
        f"Machine: {machine()}. Held-out characters (never trained on) of fonts no base "
        f"saw; {' / '.join(map(str, SHOTS))} training-character samples (the same random "
        "ones for every base); content: the saved content reader; SSIM against the real "
        "font; CPU: process seconds of the style fit (both cores).\n",
        "| base | target | style fit steps | real | "
        + " | ".join(f"{n} samples: content, SSIM, CPU s" for n in SHOTS)
        + " |",
        "|---|---|---|---|" + "---|" * len(SHOTS),
    ]
    for base in args.bases:
        model, config, _ = load_font_model(base)
        # The script whose charset the base learned (a base of another charset: zh's).
        charset = spec_charset(config.data.spec)
        setup = next((s for s in SCRIPTS.values() if s["charset"] == charset), SCRIPTS["zh"])
        chars = parse_charset(setup["charset"])
        train, held = split_chars(chars, "train"), split_chars(chars, "heldout")
        source = source_style(source_token(base, config.data.spec), chars, 64)
        for label, name in setup["targets"].items():
            target = face_style(select_fonts([name])[0], chars, 64)
            held_chars = [
                c for c in held if c in target.glyphs and c in source.glyphs and c in reader.labels
            ]
            real = np.stack([target.glyphs[c] for c in held_chars])
            ids = np.asarray([reader.labels.index(c) for c in held_chars])
            real_content = evaluate.accuracy(reader, real, ids)
            drawn_from = np.stack([source.glyphs[c] for c in held_chars])
            pool = np.random.default_rng(0).permutation(
                [c for c in train if c in target.glyphs and c in source.glyphs]
            )
            for steps in lengths:
                cells = []
                for shots in SHOTS:
                    samples = dataclasses.replace(
                        target, glyphs={c: target.glyphs[c] for c in pool[:shots]}
                    )
                    start = time.process_time()
                    vector = like_style(model, source, samples, lambda _: None, steps)
                    seconds = time.process_time() - start
                    generated = translate(model, drawn_from, vector)
                    content = evaluate.accuracy(reader, generated, ids)
                    similarity = float(evaluate.ssim(generated, real).mean())
                    cells.append(f"{content:.2f}, {similarity:.3f}, {seconds:.0f}")
                row = f"| {base} | {label} ({name}) | {steps} | {real_content:.2f} | "
                lines.append(row + " | ".join(cells) + " |")
                print(lines[-1], flush=True)
    publish(lines)


if __name__ == "__main__":
    main()
