"""`evaluate_source`: what `kgan evaluate` does, as a library call. It picks the scores
that fit the source (images: FID and friends through a feature extractor; text: BLEU,
Self-BLEU, n-gram JSD, NLL at one or more temperatures) and the real data to score
against (by default the data the model was trained on)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

from keras_gan import sampling
from keras_gan.config import TrainConfig
from keras_gan.data import load_dataset

IMAGE_METRICS = "fid,kid,cas"
TEXT_METRICS = "bleu,selfbleu,jsd"


def evaluate_source(
    source: str | os.PathLike,
    dataset: str | None = None,
    metrics: str | None = None,
    num_samples: int = 2000,
    extractor: str | os.PathLike = TrainConfig.eval_extractor,
    inception_weights: str | None = None,
    train_extractor: bool = False,
    temperatures: tuple[float, ...] = (1.0,),
    nll_model: str | os.PathLike | None = None,
    log: Callable[[str], None] = print,
) -> list[dict]:
    """Scores a run directory or an export; one result per temperature for text models
    (one for image models), each `{"scores": ..., "protocol": {..., "dataset": spec}}`.

    Args:
        dataset: the real data spec; default: the data the model was trained on.
        metrics: comma-separated metric names (default: `IMAGE_METRICS` / `TEXT_METRICS`).
        extractor: a glyph classifier folder (its features and class probabilities).
        inception_weights: score with InceptionV3 instead: a weights file, `imagenet`
            (downloaded once unless offline), `keras-cache` or the FID graph
            `classify_image_graph_def.pb`.
        train_extractor: first train a glyph classifier on `dataset` into `extractor`.
        temperatures, nll_model: text models only (see `keras_gan.metrics.text`).
    """
    sampler = sampling.load_sampler(source)
    spec = dataset or sampler.training_data_spec()
    if sampler.modality == "text":
        results = _evaluate_text(sampler, spec, metrics, num_samples, temperatures, nll_model)
    else:
        results = [
            _evaluate_images(
                sampler, spec, metrics, num_samples, extractor, inception_weights,
                train_extractor, log,
            )
        ]  # fmt: skip
    for result in results:
        result["protocol"]["dataset"] = spec
    return results


def _names(metrics: str | None, default: str) -> list[str]:
    return [m.strip() for m in (metrics or default).split(",") if m.strip()]


def _evaluate_images(
    sampler, spec, metrics, num_samples, extractor_path, inception_weights, train_extractor, log
) -> dict:
    from keras_gan.metrics import extractors
    from keras_gan.metrics.evaluate import evaluate

    data = load_dataset(spec, sampler.image_shape[0], sampler.image_shape[2])
    if train_extractor:
        if Path(extractor_path).exists():
            raise FileExistsError(
                f"--extractor {str(extractor_path)!r} exists; pick a new folder to train into"
            )
        classifier, info = extractors.train_glyph_classifier(data, log=log)
        classifier.save(extractor_path, {"dataset": spec, **info})
    if inception_weights:
        extractor = extractors.inception_extractor(inception_weights)
    else:
        extractor = extractors.GlyphClassifier.load(extractor_path)
    return evaluate(sampler, data, extractor, _names(metrics, IMAGE_METRICS), num_samples, log=log)


def _evaluate_text(sampler, spec, metrics, num_samples, temperatures, nll_model) -> list[dict]:
    from keras_gan.metrics.text import evaluate_text
    from keras_gan.runs import load_run

    data = load_dataset(spec)
    if data.modality != "text":
        raise ValueError(f"--dataset {spec!r} is not text: a text model is scored on text:PATH")
    language_model = None
    if nll_model:
        model, config, info = load_run(nll_model)
        if config.model != "text_mle":
            raise ValueError(
                f"--nll-model {str(nll_model)!r} is a {config.model}, not a text_mle run"
            )
        language_model = (model, info["vocab"])
    names = _names(metrics, TEXT_METRICS)
    return [
        evaluate_text(sampler, data.held_out, names, num_samples, t, language_model)
        for t in temperatures
    ]
