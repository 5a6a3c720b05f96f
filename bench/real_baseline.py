"""Scale for the glyph-classifier scores: real glyphs scored against real glyphs.

Splits the real data set in two random halves (2,000 images each at most) and
reports FID, KID and the classifier's accuracy on real glyphs, so that the scores
of a generator (kgan evaluate) can be read against a floor.

    .venv/bin/python bench/real_baseline.py [--dataset SPEC] [--extractor DIR]
"""

import argparse

import numpy as np

from keras_gan.data import load_dataset
from keras_gan.metrics import frechet_distance
from keras_gan.metrics import kernel_distance
from keras_gan.metrics.extractors import GlyphClassifier


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dataset", default="glyphs:default")
    parser.add_argument("--extractor", default="saved_models/glyph_classifier")
    args = parser.parse_args()
    classifier = GlyphClassifier.load(args.extractor)
    data = load_dataset(args.dataset, classifier.image_size, 1)
    order = np.random.default_rng(0).permutation(len(data))
    half = min(2000, len(data) // 2)
    a, b = order[:half], order[half : 2 * half]
    features_a, _ = classifier.features_and_probabilities(data.images[a])
    features_b, probs_b = classifier.features_and_probabilities(data.images[b])
    kid, kid_std = kernel_distance(features_a, features_b, subset_size=min(1000, half))
    accuracy = float((probs_b.argmax(axis=1) == data.labels[b]).mean())
    print(
        f"real vs real ({half} + {half} images of {args.dataset}, "
        f"extractor {classifier.identity}): "
        f"FID {frechet_distance(features_a, features_b):.3f}, KID {kid:.4f} +- {kid_std:.4f}, "
        f"classifier accuracy on real glyphs {accuracy:.3f}"
    )


if __name__ == "__main__":
    main()
