"""Unpaired translation (CycleGAN, DiscoGAN) on glyphs whose right answer is known,
at equal CPU time.

Domain A is the default characters (120 hanzi + A-Z a-z) in one face (`--source`),
domain B the same characters in another (`--target`); each model trains on them as
two unpaired domains (shuffled apart, as `pairs:A,B?unpaired=1` does) for
`--cpu-seconds` of the process's CPU time (all its threads: fair when another job
shares the machine) at 32 px, batch 16, CPU-sized widths, its own loss and weights.
Since the true B glyph of every A glyph is known, every translation is scored against it: L1
and SSIM to the real B glyph, and the glyph classifier's accuracy on the translations
(does the character survive?) next to its accuracy on the real B glyphs. "copy A" is
not translating at all. Models run one after another in one process. Appends to
bench/RESULTS.md.

    .venv/bin/python bench/translation_quality.py [--cpu-seconds 600] [--models cyclegan,discogan]
"""

import argparse
import time
from pathlib import Path

import numpy as np
from results import machine
from results import publish
from zoo_quality import TimeBudget

from keras_gan import runs
from keras_gan.config import RunConfig
from keras_gan.data import ImageData
from keras_gan.data import load_dataset
from keras_gan.data.pipeline import make_dataset
from keras_gan.fonts.evaluate import l1
from keras_gan.fonts.evaluate import ssim
from keras_gan.images import from_uint8
from keras_gan.images import to_uint8
from keras_gan.metrics.extractors import GlyphClassifier

ROOT = Path(__file__).parents[1]
SIZE, BATCH = 32, 16
MODELS = {
    "cyclegan": {"filters": 16, "max_filters": 128},
    "discogan": {"filters": 16, "max_filters": 128},
}


def face_glyphs(face: str) -> dict[str, np.ndarray]:
    data = load_dataset(f"glyphs:default?fonts={face}", SIZE, 1)
    return {data.label_names[label]: image for image, label in zip(data.images, data.labels)}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--cpu-seconds", type=float, default=600.0)
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--source", default="WenQuanYi Zen Hei")
    parser.add_argument("--target", default="AR PL UKai CN")
    args = parser.parse_args()
    a, b = face_glyphs(args.source), face_glyphs(args.target)
    chars = [c for c in a if c in b]
    sources, targets = np.stack([a[c] for c in chars]), np.stack([b[c] for c in chars])
    data = ImageData(images=targets, sources=sources, paired=False, label_names=chars)
    reader = GlyphClassifier.load(ROOT / "saved_models" / "glyph_classifier")
    truth = np.array([reader.labels.index(c) for c in chars])

    def scores(images):
        _, probs = reader.features_and_probabilities(images)
        return {
            "l1": l1(images[..., 0], targets[..., 0]).mean(),
            "ssim": ssim(images, targets).mean(),
            "read": float(np.mean(probs.argmax(axis=1) == truth)),
        }

    rows = [
        ("real B glyphs", "-", scores(targets)),
        ("copy A (no translation)", "-", scores(sources)),
    ]
    for name in args.models.split(","):
        model, _ = runs.build_for_data(RunConfig(model=name, model_kwargs=MODELS[name]), data)
        dataset = make_dataset(data, BATCH, (model.noise_draws, model.latent_dim), 0, 0, False)
        budget = TimeBudget(args.cpu_seconds, clock=time.process_time)
        model.fit(
            dataset, epochs=1, steps_per_epoch=10**6, verbose=0, shuffle=False, callbacks=[budget]
        )
        translated = to_uint8(model.generate(from_uint8(sources))).numpy()
        rows.append((name, budget.steps, scores(translated)))
        print(name, budget.steps, rows[-1][2], flush=True)
    lines = [
        f"\n## Unpaired glyph translation, {args.cpu_seconds:.0f} CPU-seconds of training each "
        f"(bench/translation_quality.py, {time.strftime('%Y-%m-%d')})\n",
        f"{machine()}. A: {args.source}, B: {args.target}, the {len(chars)} default "
        f"characters both have, at {SIZE} px, trained as two unpaired domains, batch {BATCH}, "
        "filters 16 (at most 128) for both; every A glyph's translation scored against its "
        "real B glyph; 'read': the glyph classifier names the character.\n",
        "| model | steps in budget | L1 to real B | SSIM to real B | read |",
        "| --- | --- | --- | --- | --- |",
    ]
    for name, steps, score in rows:
        lines.append(
            f"| {name} | {steps} | {score['l1']:.3f} | {score['ssim']:.3f} | {score['read']:.2f} |"
        )
    publish(lines)


if __name__ == "__main__":
    main()
