"""`evaluate(sampler, data, extractor, ...)`: scores of a generator with their protocol."""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass

import numpy as np

from keras_gan.files import atomic_write_bytes
from keras_gan.files import cache_root
from keras_gan.metrics.distances import frechet_distance
from keras_gan.metrics.distances import inception_score
from keras_gan.metrics.distances import kernel_distance
from keras_gan.metrics.distances import precision_recall
from keras_gan.registry import METRICS

MIN_PER_CLASS = 5  # intra-class FID skips classes with fewer real or generated images


@dataclass
class Judged:
    """What every metric reads: the extractor's features of the real and generated
    images, its class probabilities of the generated ones, and the label names each
    real image has and each generated image was asked for (`None`: unconditional)."""

    real_features: np.ndarray
    fake_features: np.ndarray
    fake_probs: np.ndarray
    real_names: list[str] | None
    fake_names: list[str] | None
    extractor: object
    seed: int


def metric(name: str, scores: tuple[str, ...] = (), higher_is_better: tuple[str, ...] = ()):
    """Registers `fn(judged) -> {score: value}` in `METRICS` as `name`; `scores` are the
    keys it reports (default: its name), `higher_is_better` those where more is better."""

    def register(fn):
        fn.scores = scores or (name,)
        fn.higher_is_better = frozenset(higher_is_better)
        return METRICS.register(name)(fn)

    return register


def score_names(metrics) -> set[str]:
    """The score keys that `metrics` produce (pr gives four)."""
    return {score for name in metrics for score in METRICS.get(name).scores}


def higher_is_better(score: str) -> bool:
    return any(score in METRICS.get(name).higher_is_better for name in METRICS.names())


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
    unknown = sorted(set(metrics) - set(METRICS.names()))
    if unknown:
        raise ValueError(
            f"unknown metric {unknown[0]!r}; valid metrics: {', '.join(METRICS.names())}"
        )
    if num_samples < 2:
        raise ValueError(f"num_samples must be at least 2, got {num_samples}")
    rng = np.random.default_rng(seed)
    real_index = rng.permutation(len(data))[: min(num_samples, len(data))]
    real = data.images[real_index]
    label_ids = real_names = wanted = None
    if sampler.labels is not None:
        if data.labels is None:
            raise ValueError("the model is conditional but the real data has no labels")
        wanted = [data.label_names[i] for i in data.labels[rng.choice(real_index, num_samples)]]
        known = {label: i for i, label in enumerate(sampler.labels)}
        missing = sorted(set(wanted) - set(known))
        if missing:
            raise ValueError(f"the model does not know labels of the data, e.g. {missing[:5]}")
        label_ids = [known[label] for label in wanted]
        real_names = [data.label_names[i] for i in data.labels[real_index]]
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
    judged = Judged(
        real_features=real_features,
        fake_features=fake_features,
        fake_probs=fake_probs,
        real_names=real_names,
        fake_names=wanted,  # the label each generated image was asked for
        extractor=extractor,
        seed=seed,
    )
    scores: dict[str, float] = {}
    for name in METRICS.names():  # a report lists scores in the registry's order
        if name in metrics:
            scores.update(METRICS.get(name)(judged))
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


@metric("fid")
def fid(judged: Judged) -> dict:
    return {"fid": frechet_distance(judged.real_features, judged.fake_features)}


@metric("kid")
def kid(judged: Judged) -> dict:
    real, fake = judged.real_features, judged.fake_features
    value, std = kernel_distance(
        real, fake, subset_size=min(1000, len(real), len(fake)), seed=judged.seed
    )
    return {"kid": value, "kid_std": std}


@metric("is", higher_is_better=("is",))
def inception(judged: Judged) -> dict:
    probs = judged.fake_probs
    if probs.shape[1] == 0:
        raise ValueError("is needs class probabilities, which this extractor does not give")
    value, std = inception_score(probs, splits=min(10, len(probs)))
    return {"is": value, "is_std": std}


PR_SCORES = ("precision", "recall", "density", "coverage")


@metric("pr", scores=PR_SCORES, higher_is_better=PR_SCORES)
def pr(judged: Judged) -> dict:
    return precision_recall(judged.real_features, judged.fake_features, k=3)


@metric("cas", higher_is_better=("cas",))
def cas(judged: Judged) -> dict:
    """Classification accuracy score: the extractor reads each generated image as the
    label it was generated for."""
    if judged.fake_names is None:
        raise ValueError("cas needs a conditional model (labels to check against)")
    labels = judged.extractor.labels
    if not labels:
        raise ValueError("cas needs a glyph classifier as extractor (it reads the characters)")
    classifier_ids = {label: i for i, label in enumerate(labels)}
    expected = np.array([classifier_ids.get(name, -1) for name in judged.fake_names])
    return {"cas": float((judged.fake_probs.argmax(axis=1) == expected).mean())}


@metric("ifid")
def ifid(judged: Judged) -> dict:
    """Intra-class FID: the mean FID over classes with enough real and generated images."""
    if judged.fake_names is None:
        raise ValueError("ifid needs a conditional model")
    real_names, fake_names = np.array(judged.real_names), np.array(judged.fake_names)
    per_class = [
        frechet_distance(
            judged.real_features[real_names == name], judged.fake_features[fake_names == name]
        )
        for name in sorted(set(fake_names))
        if min((real_names == name).sum(), (fake_names == name).sum()) >= MIN_PER_CLASS
    ]
    if not per_class:
        raise ValueError(
            f"ifid needs at least {MIN_PER_CLASS} images per class: raise --num-samples"
        )
    return {"ifid": float(np.mean(per_class)), "ifid_classes": len(per_class)}
