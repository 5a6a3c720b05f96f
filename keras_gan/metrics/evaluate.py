"""`evaluate(sampler, data, extractor, ...)`: scores of a generator with their protocol."""

from __future__ import annotations

import hashlib
import io

import numpy as np

from keras_gan.files import atomic_write_bytes
from keras_gan.files import cache_root
from keras_gan.metrics.distances import frechet_distance
from keras_gan.metrics.distances import inception_score
from keras_gan.metrics.distances import kernel_distance
from keras_gan.metrics.distances import precision_recall

METRICS = ("fid", "kid", "is", "pr", "cas", "ifid")
HIGHER_IS_BETTER = {"is", "cas", "precision", "recall", "density", "coverage"}
MIN_PER_CLASS = 5  # intra-class FID skips classes with fewer real or generated images


def score_names(metrics) -> set[str]:
    """The score keys that `metrics` produce (pr gives four)."""
    names = set(metrics) - {"pr"}
    if "pr" in metrics:
        names |= {"precision", "recall", "density", "coverage"}
    return names


def real_features_cached(extractor, images: np.ndarray) -> np.ndarray:
    """Extractor features of real images, cached on disk.

    The key covers the images' bytes, the extractor's identity (name + weights hash)
    and its preprocessing, so a change of data, subset, extractor or preprocessing
    never reuses stale statistics.
    """
    key = hashlib.sha256()
    key.update(f"{extractor.identity}|{extractor.preprocessing}|{images.shape}".encode())
    key.update(np.ascontiguousarray(images).tobytes())
    path = cache_root() / "features" / f"{key.hexdigest()[:24]}.npy"
    if path.is_file():
        try:
            return np.load(path)
        except (OSError, ValueError):
            pass  # damaged cache entry: recompute and rewrite
    features, _ = extractor.features_and_probabilities(images)
    buffer = io.BytesIO()
    np.save(buffer, features)
    atomic_write_bytes(path, buffer.getvalue())
    return features


def evaluate(
    sampler,
    data,
    extractor,
    metrics=("fid", "kid", "cas"),
    num_samples: int = 2000,
    seed: int = 0,
    log=print,
) -> dict:
    """Generates `num_samples` images and scores them against `data`.

    Args:
        sampler: a `keras_gan.sampling.Sampler` (run directory or export).
        data: the real `ImageData` (same image size as the generator).
        extractor: a `GlyphClassifier` (features + class probabilities).
        metrics: any of fid, kid, is, pr, cas, ifid (intra-class FID: the mean FID
            over classes with at least 5 real and 5 generated images).
        num_samples: generated images; as many real images are drawn (all if fewer).
        seed: seeds 0..num_samples-1 of the generator and the choice of real images.

    Conditional samples take their labels from the real images drawn, so both sets
    have the same class balance. CAS is the extractor's accuracy on generated
    images, read against the label each was generated for.
    """
    unknown = sorted(set(metrics) - set(METRICS))
    if unknown:
        raise ValueError(f"unknown metric {unknown[0]!r}; valid metrics: {', '.join(METRICS)}")
    if num_samples < 2:
        raise ValueError(f"num_samples must be at least 2, got {num_samples}")
    rng = np.random.default_rng(seed)
    real_index = rng.permutation(len(data))[: min(num_samples, len(data))]
    real = data.images[real_index]
    label_ids = None
    if sampler.labels is not None:
        if data.labels is None:
            raise ValueError("the model is conditional but the real data has no labels")
        wanted = [data.label_names[i] for i in data.labels[rng.choice(real_index, num_samples)]]
        known = {label: i for i, label in enumerate(sampler.labels)}
        missing = sorted(set(wanted) - set(known))
        if missing:
            raise ValueError(f"the model does not know labels of the data, e.g. {missing[:5]}")
        label_ids = [known[label] for label in wanted]
    batches = []
    for start in range(0, num_samples, 256):
        seeds = list(range(start, min(start + 256, num_samples)))
        batches.append(
            sampler.generate(seeds, None if label_ids is None else label_ids[start : start + 256])
        )
        log(f"evaluate: generated {seeds[-1] + 1}/{num_samples}")
    fake = np.concatenate(batches)
    log(f"evaluate: scoring {len(fake)} generated against {len(real)} real images")
    real_features = real_features_cached(extractor, real)
    fake_features, fake_probs = extractor.features_and_probabilities(fake)
    scores: dict[str, float] = {}
    if "fid" in metrics:
        scores["fid"] = frechet_distance(real_features, fake_features)
    if "kid" in metrics:
        scores["kid"], scores["kid_std"] = kernel_distance(
            real_features, fake_features, subset_size=min(1000, len(real), len(fake)), seed=seed
        )
    if "is" in metrics:
        if fake_probs.shape[1] == 0:
            raise ValueError("is needs class probabilities, which this extractor does not give")
        scores["is"], scores["is_std"] = inception_score(fake_probs, splits=min(10, len(fake)))
    if "pr" in metrics:
        scores.update(precision_recall(real_features, fake_features, k=3))
    if "cas" in metrics:
        if label_ids is None:
            raise ValueError("cas needs a conditional model (labels to check against)")
        if not extractor.labels:
            raise ValueError("cas needs a glyph classifier as extractor (it reads the characters)")
        classifier_ids = {label: i for i, label in enumerate(extractor.labels)}
        expected = np.array([classifier_ids.get(sampler.labels[i], -1) for i in label_ids])
        scores["cas"] = float((fake_probs.argmax(axis=1) == expected).mean())
    if "ifid" in metrics:
        if label_ids is None:
            raise ValueError("ifid needs a conditional model")
        real_names = np.array([data.label_names[i] for i in data.labels[real_index]])
        fake_names = np.array([sampler.labels[i] for i in label_ids])
        per_class = [
            frechet_distance(real_features[real_names == name], fake_features[fake_names == name])
            for name in sorted(set(fake_names))
            if min((real_names == name).sum(), (fake_names == name).sum()) >= MIN_PER_CLASS
        ]
        if not per_class:
            raise ValueError(
                f"ifid needs at least {MIN_PER_CLASS} images per class: raise --num-samples"
            )
        scores["ifid"] = float(np.mean(per_class))
        scores["ifid_classes"] = len(per_class)
    return {
        "scores": scores,
        "protocol": {
            "real_samples": int(len(real)),
            "generated_samples": int(len(fake)),
            "generator_seeds": f"0-{num_samples - 1}",
            "real_split": "all images of the data spec, a seeded random subset if larger",
            "extractor": extractor.identity,
            "preprocessing": extractor.preprocessing,
            "kid": "unbiased MMD^2, cubic polynomial kernel, 100 subsets",
            "pr_k": 3,
            "seed": seed,
        },
    }
