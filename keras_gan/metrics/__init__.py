"""Evaluation metrics as pure functions of activations (numpy in, float64 out)."""

from keras_gan.metrics.distances import frechet_distance
from keras_gan.metrics.distances import frechet_distance_from_stats
from keras_gan.metrics.distances import inception_score
from keras_gan.metrics.distances import kernel_distance
from keras_gan.metrics.distances import precision_recall

__all__ = [
    "frechet_distance",
    "frechet_distance_from_stats",
    "inception_score",
    "kernel_distance",
    "precision_recall",
]
