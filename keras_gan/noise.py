"""Noise by seed: the one definition of "seed -> z" (the exported `generate` signature
uses it too, so `kgan sample`, `kgan predict` and TF Serving agree), and slerp."""

from __future__ import annotations

import numpy as np


def noise_for_seeds(seeds, latent_dim: int):
    """z for each seed (int64), row i depending only on seeds[i]."""
    import tensorflow as tf

    seeds = tf.cast(tf.reshape(tf.convert_to_tensor(seeds), [-1]), tf.int64)
    return tf.map_fn(
        lambda s: tf.random.stateless_normal(
            [latent_dim], seed=tf.stack([s, tf.constant(0, tf.int64)])
        ),
        seeds,
        fn_output_signature=tf.TensorSpec([latent_dim], tf.float32),
    )


def slerp(a: np.ndarray, b: np.ndarray, t: float) -> np.ndarray:
    """Spherical interpolation: keeps |z| typical of a Gaussian, unlike a straight line."""
    cos = np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b))
    omega = np.arccos(np.clip(cos, -1.0, 1.0))
    if omega < 1e-6:
        return (1 - t) * a + t * b
    return (np.sin((1 - t) * omega) * a + np.sin(t * omega) * b) / np.sin(omega)
