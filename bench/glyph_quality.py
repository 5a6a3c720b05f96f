"""Glyph quality of character generators (issue #18): legibility, specks, style.

For each SOURCE (a run folder, a SavedModel or saved_models/NAME of a conditional glyph
model), with the same readers for all:

- content accuracy: a character classifier trained on real glyphs of the model's
  characters in every installed font (`keras_gan.fonts.evaluate.train_content_reader`;
  one face in five held out; `--reader-fonts DIR` adds DIR's faces to what it learns
  from) reads `--seeds` samples of every character; "real" is its accuracy on the
  held-out faces' real glyphs (faces it never saw). Hanzi and Latin separately, and
  their ratio generated / real.
- specks: connected ink components (8-connected, ink = value < 128) of at most
  `size / 16` pixels, per glyph; and all components per glyph (broken strokes add
  components), next to the real glyphs of the same characters at the same size.
  Every character weighs the same on both sides: samples come `--seeds` per
  character, while the real set holds each Latin letter in about four times as many faces
  as each hanzi (61 against 16), and a hanzi has more components (2.4 against 1.05).
- style spread: per character, the mean pixel distance between two samples over the
  mean distance between two real faces' glyphs (1 = as varied as the fonts).
- style coverage: a font classifier (real glyphs, no augmentation) names the face of
  64 samples of 16 characters; the distinct faces named, over the faces that have
  the character. "real" is the same count for 64 real glyphs of the character drawn
  from its faces at random: what a perfect generator that picks a training face per
  seed would score (below 1: 64 draws miss faces, and the reader cannot tell near-twin
  faces apart, e.g. AR PL UKai CN/HK/TW, whose common hanzi are the same drawings).

    .venv/bin/python bench/glyph_quality.py SOURCE [SOURCE ...] [--seeds 64] [--readers DIR]

Styles differ in quality far more than characters do, so a score is an average over
styles, and 8 seeds are too few to take it: the shipped model's specks per glyph were
0.42 over seeds 0-15 and 0.95 over seeds 0-127 (bench/RESULTS.md, 2026-12-06).

`--readers DIR` keeps the trained readers there (one folder per data set and size) and
reuses them on the next run: training them is most of the bench's time. They are not
keyed by the installed fonts: empty DIR when fonts change.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from results import machine
from results import publish
from scipy import ndimage

from keras_gan.callbacks.samples import mean_pairwise_distance
from keras_gan.data import load_dataset
from keras_gan.data.base import ImageData
from keras_gan.data.glyphs import is_cjk
from keras_gan.fonts import evaluate
from keras_gan.metrics.extractors import GlyphClassifier
from keras_gan.metrics.extractors import train_glyph_classifier
from keras_gan.sampling import load_sampler

COVERAGE_CHARS = 16
COVERAGE_SEEDS = 64
SEEDS = 64  # styles per character: see the module's note on why not fewer


def components(images: np.ndarray, labels: np.ndarray, speck_area: int) -> tuple[float, float]:
    """(specks per glyph, components per glyph) of uint8 paper-white glyphs (N, S, S),
    each character's glyphs (`labels`) weighing the same."""
    counts = np.zeros((len(images), 2))
    for image, count in zip(images, counts):
        labelled, count[1] = ndimage.label(image < 128, structure=np.ones((3, 3)))
        count[0] = np.sum(np.bincount(labelled.ravel())[1:] <= speck_area)
    per_char = [counts[labels == label].mean(axis=0) for label in np.unique(labels)]
    specks, parts = np.mean(per_char, axis=0)
    return float(specks), float(parts)


def spread(images: np.ndarray) -> float:
    """Mean distance between two of `images` (uint8), in [0, 1] pixel units."""
    return mean_pairwise_distance(images / 255.0)


def reader_cache(root: Path | None, spec: str, size: int, also=()) -> Path | None:
    """The folder under `--readers` that holds the readers of `spec` at `size` px."""
    name = f"{spec}@{size}" + "".join(f"+{Path(p).name}" for p in also)
    return root / name.replace("/", "_") if root is not None else None


class Readers:
    """The content and style readers of one character set and size, trained once."""

    def __init__(self, chars: str, data: ImageData, cache: Path | None = None, log=print, also=()):
        self.data = data
        faces = ImageData(images=data.images, labels=data.styles, label_names=data.style_names)
        self.content = self._reader(
            cache, "content", lambda: evaluate.train_content_reader(chars, log=log, also=also)
        )
        self.style = self._reader(
            cache, "style", lambda: train_glyph_classifier(faces, 12, log=log, augment=False)
        )
        self.held_out = data.styles % 5 == 4  # the faces the content reader never saw

    @staticmethod
    def _reader(cache: Path | None, name: str, train) -> GlyphClassifier:
        if cache is not None and (cache / name).is_dir():
            return GlyphClassifier.load(cache / name)
        reader, info = train()
        if cache is not None:
            reader.save(cache / name, info)
        return reader

    def read(self, images: np.ndarray, chars: list[str]) -> np.ndarray:
        """1.0 where the content reader reads each glyph as its character."""
        ids = np.asarray([self.content.labels.index(c) for c in chars])
        _, probabilities = self.content.features_and_probabilities(images[..., None])
        return (probabilities.argmax(axis=1) == ids).astype(np.float64)


def coverage_chars(count: int) -> np.ndarray:
    """The characters whose style coverage is measured: `COVERAGE_CHARS` spread over
    the set."""
    return np.linspace(0, count - 1, COVERAGE_CHARS).round().astype(int)


def faces_named(readers: Readers, images: np.ndarray, char: int) -> float:
    """Distinct faces the style reader names among `images` of one character, over the
    faces that have it."""
    data = readers.data
    _, probabilities = readers.style.features_and_probabilities(images)
    available = len(set(data.styles[data.labels == char].tolist()))
    return len(set(probabilities.argmax(axis=1).tolist())) / max(available, 1)


def real_scores(readers: Readers) -> dict:
    data, names = readers.data, readers.data.label_names
    images = data.images[..., 0]
    chars = [names[i] for i in data.labels]
    hanzi = np.asarray([is_cjk(c) for c in chars])
    held = readers.held_out
    read = readers.read(images[held], [c for c, h in zip(chars, held) if h])
    size = images.shape[1]
    specks, parts = components(images, data.labels, size // 16)
    per_char = [spread(images[data.labels == i]) for i in range(len(names))]
    draws = np.random.default_rng(0)
    coverage = [
        faces_named(readers, draws.choice(data.images[data.labels == i], COVERAGE_SEEDS), i)
        for i in coverage_chars(len(names))
    ]
    return {
        "content_hanzi": float(read[hanzi[held]].mean()),
        "content_latin": float(read[~hanzi[held]].mean()),
        "specks": specks,
        "components": parts,
        "char_spread": float(np.mean(per_char)),
        "per_char_spread": per_char,
        "style_coverage": float(np.mean(coverage)),
    }


def generated_scores(sampler, readers: Readers, real: dict, seeds: int) -> dict:
    names = sampler.labels
    ids = np.repeat(np.arange(len(names)), seeds)
    seed_list = list(np.tile(np.arange(seeds), len(names)))
    images = sampler.generate(seed_list, ids)[..., 0]
    chars = [names[i] for i in ids]
    hanzi = np.asarray([is_cjk(c) for c in chars])
    read = readers.read(images, chars)
    specks, parts = components(images, ids, images.shape[1] // 16)
    ratios = [
        spread(images[ids == i]) / max(real["per_char_spread"][i], 1e-9) for i in range(len(names))
    ]
    coverage = [
        faces_named(
            readers,
            sampler.generate(list(range(1000, 1000 + COVERAGE_SEEDS)), [int(i)] * COVERAGE_SEEDS),
            i,
        )
        for i in coverage_chars(len(names))
    ]
    return {
        "content_hanzi": float(read[hanzi].mean()),
        "content_latin": float(read[~hanzi].mean()),
        "specks": specks,
        "components": parts,
        "char_spread": float(np.mean(ratios)),
        "style_coverage": float(np.mean(coverage)),
    }


def table(rows: dict, real: dict) -> list[str]:
    lines = [
        "| model | content hanzi (gen / real) | content Latin (gen / real) | specks / glyph "
        "(real) | components / glyph (real) | style spread vs real | style coverage (real) |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, s in rows.items():
        h = s["content_hanzi"] / real["content_hanzi"]
        latin = s["content_latin"] / real["content_latin"]
        lines.append(
            f"| {name} | {s['content_hanzi']:.3f} / {real['content_hanzi']:.3f} = {h:.2f} "
            f"| {s['content_latin']:.3f} / {real['content_latin']:.3f} = {latin:.2f} "
            f"| {s['specks']:.2f} ({real['specks']:.2f}) "
            f"| {s['components']:.2f} ({real['components']:.2f}) "
            f"| {s['char_spread']:.2f} | {s['style_coverage']:.2f} ({real['style_coverage']:.2f}) |"
        )
    return lines


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sources", nargs="+")
    parser.add_argument("--seeds", type=int, default=SEEDS, help="samples per character")
    parser.add_argument("--names", help="comma-separated row names (default: the sources)")
    parser.add_argument("--json", help="also write the scores here")
    parser.add_argument("--readers", type=Path, help="keep and reuse the trained readers here")
    parser.add_argument(
        "--reader-fonts",
        action="append",
        help="a font file or folder whose faces the content reader also learns from "
        "(e.g. scripts/base_fonts.sh's); repeatable",
    )
    parser.add_argument("--title", default="Glyph quality")
    args = parser.parse_args()
    names = args.names.split(",") if args.names else args.sources
    also = tuple(args.reader_fonts or ())  # the content reader's extra fonts
    readers, real, rows, row_key = {}, {}, {}, {}
    for name, source in zip(names, args.sources):
        sampler = load_sampler(source)
        size = sampler.image_shape[0]
        spec = sampler.training_data_spec()
        key = (spec, size)
        if key not in readers:
            data = load_dataset(spec, size, 1)
            if data.label_names != sampler.labels:
                raise SystemExit(f"{source}: its labels are not those of {spec}")
            cache = reader_cache(args.readers, spec, size, also)
            readers[key] = Readers(
                "".join(data.label_names), data, cache, log=lambda line: None, also=also
            )
            real[key] = real_scores(readers[key])
        rows[name] = generated_scores(sampler, readers[key], real[key], args.seeds)
        row_key[name] = key
        print(name, json.dumps(rows[name]), flush=True)
    lines = [
        f"\n## {args.title} ({time.strftime('%Y-%m-%d')})\n",
        f"Machine: {machine()}. Command: `.venv/bin/python bench/glyph_quality.py "
        f"{' '.join(args.sources)} --seeds {args.seeds}"
        + "".join(f" --reader-fonts {p}" for p in args.reader_fonts or ())
        + "`. Content: a character reader trained on real glyphs of every installed face"
        + (f" and of {', '.join(args.reader_fonts)}" if args.reader_fonts else "")
        + " (one installed face in five held out; "
        "'real' is its accuracy on those unseen faces); specks: ink components of at most "
        "size/16 px; style spread: mean distance between two samples of a character over "
        "that between two real faces' glyphs of it; style coverage: distinct faces a font "
        f"reader names among {COVERAGE_SEEDS} samples, over the faces that have the "
        f"character ({COVERAGE_CHARS} characters; real: {COVERAGE_SEEDS} real glyphs of "
        "it drawn from its faces at random).",
    ]
    for key in readers:
        lines += ["", f"Data `{key[0]}` at {key[1]} px:", ""]
        lines += table({n: rows[n] for n in rows if row_key[n] == key}, real[key])
    publish(lines)
    if args.json:
        payload = {"rows": rows, "real": {f"{k[0]}@{k[1]}": v for k, v in real.items()}}
        for value in payload["real"].values():
            value.pop("per_char_spread")
        Path(args.json).write_text(json.dumps(payload, indent=1))


if __name__ == "__main__":
    main()
