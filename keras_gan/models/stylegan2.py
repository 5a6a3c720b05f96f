"""StyleGAN2 (Karras et al. 2020) at 32-64 px: mapping network, modulated convolutions,
noise inputs, style mixing, truncation; R1 with lazy regularisation and a G EMA."""

import keras
import numpy as np
import tensorflow as tf
from keras import layers
from keras import ops

from keras_gan.models import style
from keras_gan.models.base import GAN
from keras_gan.registry import MODELS


@MODELS.register("stylegan2")
@keras.saving.register_keras_serializable("keras_gan")
class StyleGAN2(GAN):
    """Style-based generator with a residual discriminator (see `keras_gan.models.style`
    for what is simplified against the paper; path-length regularisation is not
    implemented).

    Training defaults follow StyleGAN2-ADA's small-resolution setting: non-saturating
    loss, Adam 2.5e-3 betas (0, 0.99), R1 gamma 0.01 every 16 D steps, EMA half-life
    10k images, style mixing with probability 0.9.

    Args:
        latent_dim: size of z (and of w).
        image_size: 16, 32 or 64 (any 4 * 2^k works).
        channels: 1 or 3.
        filters: width of every synthesis and discriminator layer.
        mapping_layers: dense layers of the mapping network (8 in the paper, 2 for CIFAR).
        num_classes: > 0 for a class-conditional mapping (and projection D).
        mixing_prob: probability that a training image mixes the styles of two z.
        truncation_psi: pull of sampled w towards the average w (1 = none), used by
            sampling and export.
        seed: seeds noise drawn when the data carries none.
    """

    default_compile = {"r1_gamma": 0.01, "r1_interval": 16, "ema_kimg": 10.0}
    default_adam = {"learning_rate": 2.5e-3, "beta_1": 0.0, "beta_2": 0.99, "epsilon": 1e-8}

    def __init__(
        self,
        latent_dim=64,
        image_size=32,
        channels=1,
        filters=64,
        mapping_layers=2,
        num_classes=0,
        mixing_prob=0.9,
        truncation_psi=1.0,
        seed=None,
        **kwargs,
    ):
        self.image_size, self.channels, self.filters = image_size, channels, filters
        self.mapping_layers, self.mixing_prob = mapping_layers, float(mixing_prob)
        self.truncation_psi = float(truncation_psi)
        z = keras.Input((latent_dim,), name="z")
        label = keras.Input((), dtype="int32", name="labels") if num_classes else None
        mapping = style.mapping_network(latent_dim, latent_dim, mapping_layers, num_classes)
        w = mapping([z, label] if num_classes else z)
        w = style.Truncation(truncation_psi, name="truncation")(w)
        ws = layers.RepeatVector(style.num_styles(image_size), name="broadcast")(w)
        seeds = style.NoiseSeeds(name="noise_seeds")(z)
        images = style.synthesis_network(latent_dim, image_size, channels, filters)([ws, seeds])
        generator = keras.Model([z, label] if num_classes else z, images, name="generator")
        super().__init__(
            generator=generator,
            discriminator=style.style_discriminator(image_size, channels, filters, num_classes),
            latent_dim=latent_dim,
            num_classes=num_classes,
            seed=seed,
            **kwargs,
        )

    def generate(self, z, labels=None, training=False):
        if not training or not self.mixing_prob:
            return super().generate(z, labels, training)
        return self.mixed(ops.convert_to_tensor(z, "float32"), labels)

    def mixed(self, z, labels):
        """Training images with style mixing: from a random layer on, the styles of a
        second z (drawn per example from z's bits, so still a function of the batch)."""
        get = self.generator.get_layer
        count = style.num_styles(self.image_size)

        def draws(bits):
            z2 = tf.random.stateless_normal((self.latent_dim,), bits)
            return z2, tf.random.stateless_uniform((2,), bits + 1)

        bits = tf.bitcast(z[:, 2:4], tf.int32)
        z2, u = tf.map_fn(
            draws,
            bits,
            fn_output_signature=(
                tf.TensorSpec((self.latent_dim,), tf.float32),
                tf.TensorSpec((2,), tf.float32),
            ),
        )

        def mapped(latent):
            inputs = (
                [latent, ops.convert_to_tensor(labels, "int32")] if self.conditional else latent
            )
            return get("mapping")(inputs, training=True)

        w1 = get("truncation")(mapped(z), training=True)  # also updates the average w
        w2 = mapped(z2)
        cut = ops.where(u[:, 0] < self.mixing_prob, 1 + ops.floor(u[:, 1] * (count - 1)), count)
        first = ops.arange(count, dtype="float32")[None] < cut[:, None]  # (B, count)
        ws = ops.where(first[..., None], w1[:, None], w2[:, None])
        seeds = get("noise_seeds")(z)
        return get("synthesis")([ws, seeds], training=True)

    def interpolate_w(self, z_a, z_b, steps, label=None):
        """Images along the straight line between the w of `z_a` and of `z_b` (the sampling
        generator's, truncation included), for one label; W is where StyleGAN lerps."""
        get = self.sampling_generator.get_layer
        z = ops.convert_to_tensor(np.stack([z_a, z_b]), "float32")
        inputs = [z, ops.convert_to_tensor([label, label], "int32")] if self.conditional else z
        w = get("truncation")(get("mapping")(inputs, training=False), training=False)
        t = ops.linspace(0.0, 1.0, steps)[:, None]
        ws = get("broadcast")(w[0] + t * (w[1] - w[0]))
        seeds = get("noise_seeds")(ops.repeat(z[:1], steps, axis=0))
        return get("synthesis")([ws, seeds], training=False)
