"""Drawing sample glyphs in every style of a shipped font base: one decoder call per
style against `Font2Font.draw_in_styles` (several styles per call). This is the work of
`nearest_style` (where every style fit starts: each `--like`, each `kgan font fit`)
and of `complete.align_samples` (a folder's placement). Side by side in one process,
alternating rounds, on 16 and 64 glyphs of each base's source font; the drawings must
be equal. Appends a section to bench/RESULTS.md.

    .venv/bin/python bench/style_drawing.py [--rounds 3]
"""

import argparse
import statistics
import time

import numpy as np
from keras import ops
from results import machine
from results import publish

from keras_gan.data.fontpairs import source_style
from keras_gan.fonts.complete import load_font_model
from keras_gan.fonts.complete import model_input
from keras_gan.fonts.complete import source_token
from keras_gan.shipped import find_model

# Each shipped base with at least 64 characters of its script.
BASES = {
    "font2font-latin": "AaBbCcDdEeFfGgHhIiJjKkLlMmNnOoPpQqRrSsTtUuVvWwXxYyZzΩλЯлДжКкПпФф",
    "font2font-zh": "永字八法天地玄黄宇宙洪荒日月盈昃辰宿列张寒来暑往秋收冬藏闰余成岁律吕调阳云腾"
    "致雨露结为霜金生丽水玉出昆冈剑号巨阙珠称夜光果珍李柰菜重芥姜海咸河淡鳞潜羽翔龙师火帝鸟",
}


def one_style_a_call(model, codes, table):
    return np.stack([ops.convert_to_numpy(model.decode(codes, row)) for row in table])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    lines = [
        "\n## Drawing glyphs in every style of a base (bench/style_drawing.py)\n",
        f"Machine: {machine()}. Median seconds of {args.rounds} alternating rounds after "
        "one untimed call of each; the drawings are compared element by element.\n",
        "| base | styles | glyphs | one style a call, s | draw_in_styles, s | speed-up | "
        "max difference |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, chars in BASES.items():
        folder = find_model(f"saved_models/{name}")
        model, config, _ = load_font_model(folder)
        source = source_style(source_token(folder, config.data.spec), chars, model.image_size)
        table = ops.convert_to_numpy(model.style_table)
        for count in (16, 64):
            shared = [c for c in chars if c in source.glyphs][:count]
            codes = model.encoder(model_input(source, shared))
            ways = {
                "loop": lambda: one_style_a_call(model, codes, table),
                "batched": lambda: model.draw_in_styles(codes, table),
            }
            drawn = {way: run() for way, run in ways.items()}  # untimed: first calls
            times = {way: [] for way in ways}
            for _ in range(args.rounds):
                for way, run in ways.items():
                    start = time.perf_counter()
                    run()
                    times[way].append(time.perf_counter() - start)
            loop, batched = (statistics.median(times[w]) for w in ways)
            difference = float(np.abs(drawn["loop"] - drawn["batched"]).max())
            lines.append(
                f"| {name} | {len(table)} | {len(shared)} | {loop:.2f} | {batched:.2f} | "
                f"{loop / batched:.2f}x | {difference:.1e} |"
            )
            print(lines[-1], flush=True)
    publish(lines)


if __name__ == "__main__":
    main()
