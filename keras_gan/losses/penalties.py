"""Penalties as pure functions: of a critic (a callable images -> logits) for D, of a
synthesis network (a callable w -> images) for G.

Each returns a per-example value of shape `(batch,)`; weighting, lazy intervals and the
reduction over the global batch are the model's job (`keras_gan.models.GAN`).
"""

from __future__ import annotations

import tensorflow as tf
from keras import ops


def input_gradient_norm(critic, images):
    """Per-example `|d critic(x) / d x|_2`; differentiable (for penalties on it)."""
    images = ops.convert_to_tensor(images, "float32")
    with tf.GradientTape() as tape:
        tape.watch(images)
        total = ops.sum(critic(images))
    grads = tape.gradient(total, images)
    axes = tuple(range(1, len(grads.shape)))  # every axis but the batch (images, text)
    return ops.sqrt(ops.sum(ops.square(grads), axis=axes) + 1e-12)


def gradient_penalty(critic, real, fake, mix):
    """WGAN-GP (Gulrajani et al. 2017): `(|grad critic(x_hat)| - 1)^2` at the interpolates
    `x_hat = mix * real + (1 - mix) * fake`, `mix` in [0, 1] per example `(batch, 1)`."""
    mix = ops.reshape(mix, (-1,) + (1,) * (len(real.shape) - 1))
    return ops.square(input_gradient_norm(critic, mix * real + (1 - mix) * fake) - 1)


def zero_centred_penalty(critic, images):
    """`|grad critic(x)|^2` (Mescheder et al. 2018): R1 on real images, R2 on fakes."""
    return ops.square(input_gradient_norm(critic, images))


def path_lengths(synthesis, ws, noise):
    """StyleGAN2's path lengths (Karras et al. 2020): per example `|J_w^T y|`, J the
    Jacobian of `synthesis(ws)` in `ws` (B, layers, w_dim), y = `noise` (images' shape),
    the squared norm summed over w's size and averaged over the layers, as the paper's
    code does; differentiable (for the regulariser on it)."""
    ws = ops.convert_to_tensor(ws, "float32")
    with tf.GradientTape() as tape:
        tape.watch(ws)
        total = ops.sum(synthesis(ws) * noise)
    grads = tape.gradient(total, ws)
    return ops.sqrt(ops.mean(ops.sum(ops.square(grads), axis=2), axis=1) + 1e-12)
