"""StyleGAN2 (Karras et al. 2020) at 32-64 px: mapping network, modulated convolutions,
noise inputs, style mixing, truncation, equalized learning rate, FIR resampling; R1 and
path-length regularisation, both lazy, and a G EMA."""

import keras
import numpy as np
import tensorflow as tf
from keras import layers
from keras import ops

from keras_gan.losses import penalties
from keras_gan.models import style
from keras_gan.models.base import GAN
from keras_gan.models.step import across_replicas
from keras_gan.models.step import replicated_scalar
from keras_gan.registry import MODELS

# What a model saved before the published parts existed was (`from_config`).
LITE = {
    "equalized_lr": False,
    "resample": "bilinear",
    "mapping_lr_multiplier": 1.0,
    "path_length_weight": 0.0,
}


@MODELS.register("stylegan2")
@keras.saving.register_keras_serializable("keras_gan")
class StyleGAN2(GAN):
    """Style-based generator with a residual discriminator, as published: equalized
    learning rate, FIR resampling, mapping network at a learning-rate multiplier, style
    mixing, path-length regularisation (lazy, with its moving average), R1 with lazy
    regularisation and the paper's Adam correction for it, a G EMA. `LITE` settings
    (the `stylegan2-lite-*` presets) drop the first four for speed on CPUs.

    Training defaults follow config-f: non-saturating loss, Adam 2e-3 betas (0, 0.99)
    (corrected for lazy regularisation: lr and betas to the power N/(N+1) for
    interval N), R1 every 16 D steps, path length weight 2 every 4 G steps, EMA
    half-life 10k images, style mixing with probability 0.9. R1's gamma here (0.01)
    is StyleGAN2-ADA's for small images; config-f's 10 is for 1024 px.

    Args:
        latent_dim: size of z (and of w).
        image_size: 16, 32 or 64 (any 4 * 2^k works).
        channels: 1 or 3.
        filters: width of every synthesis and discriminator layer.
        mapping_layers: dense layers of the mapping network (8 in the paper).
        num_classes: > 0 for a class-conditional mapping (and projection D).
        mixing_prob: probability that a training image mixes the styles of two z.
        truncation_psi: pull of sampled w towards the average w (1 = none), used by
            sampling and export.
        equalized_lr: N(0, 1) weights scaled at run time (`style.EqualizedDense`).
        resample: G's upsampling, "fir" (the [1, 3, 3, 1] filter) or "bilinear". D
            halves sizes as published (the filter, then stride-2 convolutions) when
            `equalized_lr`, else by 2x2 average pooling.
        mapping_lr_multiplier: learning-rate multiplier of the mapping network
            (equalized only; 0.01 in the paper).
        path_length_weight: weight of `(|J_w^T y| - a)^2` (0 = off), J the Jacobian of
            the image in w, y image-shaped N(0, 1/(H W)), a the moving average of
            the lengths.
        path_length_interval: G steps between path-length terms (weighted by it).
        path_length_decay: the moving average's rate.
        path_length_batch_shrink: the term uses every N-th example of the batch.
        seed: seeds noise drawn when the data carries none.
    """

    default_compile = {"r1_gamma": 0.01, "r1_interval": 16, "ema_kimg": 10.0}
    default_adam = {"learning_rate": 2e-3, "beta_1": 0.0, "beta_2": 0.99, "epsilon": 1e-8}

    def __init__(
        self,
        latent_dim=64,
        image_size=32,
        channels=1,
        filters=64,
        mapping_layers=8,
        num_classes=0,
        mixing_prob=0.9,
        truncation_psi=1.0,
        equalized_lr=True,
        resample="fir",
        mapping_lr_multiplier=0.01,
        path_length_weight=2.0,
        path_length_interval=4,
        path_length_decay=0.01,
        path_length_batch_shrink=2,
        seed=None,
        **kwargs,
    ):
        if resample not in style.RESAMPLE:
            raise ValueError(f"resample must be one of {style.RESAMPLE}, got {resample!r}")
        if path_length_weight and latent_dim < 6:
            raise ValueError("path-length noise reads z[:, 4:6]: latent_dim must be >= 6")
        self.image_size, self.channels, self.filters = image_size, channels, filters
        self.mapping_layers, self.mixing_prob = mapping_layers, float(mixing_prob)
        self.truncation_psi = float(truncation_psi)
        self.equalized_lr, self.resample = bool(equalized_lr), resample
        self.mapping_lr_multiplier = float(mapping_lr_multiplier)
        self.path_length_weight = float(path_length_weight)
        self.path_length_interval = int(path_length_interval)
        self.path_length_decay = float(path_length_decay)
        self.path_length_batch_shrink = int(path_length_batch_shrink)
        z = keras.Input((latent_dim,), name="z")
        label = keras.Input((), dtype="int32", name="labels") if num_classes else None
        mapping = style.mapping_network(
            latent_dim,
            latent_dim,
            mapping_layers,
            num_classes,
            equalized=self.equalized_lr,
            lr_multiplier=self.mapping_lr_multiplier,
        )
        w = mapping([z, label] if num_classes else z)
        w = style.Truncation(truncation_psi, name="truncation")(w)
        ws = layers.RepeatVector(style.num_styles(image_size), name="broadcast")(w)
        seeds = style.NoiseSeeds(name="noise_seeds")(z)
        synthesis = style.synthesis_network(
            latent_dim, image_size, channels, filters, self.equalized_lr, resample
        )
        generator = keras.Model(
            [z, label] if num_classes else z, synthesis([ws, seeds]), name="generator"
        )
        super().__init__(
            generator=generator,
            discriminator=style.style_discriminator(
                image_size, channels, filters, num_classes, self.equalized_lr, resample
            ),
            latent_dim=latent_dim,
            num_classes=num_classes,
            seed=seed,
            **kwargs,
        )
        self.path_length_mean = None
        if self.path_length_weight:
            self.base_loss_names = (*GAN.base_loss_names, "path_length")
            self.term_weights = {"path_length": self.path_length_weight * self.path_length_interval}
            self.path_length_mean = replicated_scalar("path_length_mean")

    @classmethod
    def from_config(cls, config):
        return super().from_config(config if "resample" in config else {**LITE, **config})

    def default_optimizers(self):
        """Adam at `default_adam`, corrected for lazy regularisation as the paper does:
        a network regularised every N > 1 steps takes N/(N+1) of the learning rate and
        betas to the power N/(N+1) (its regularised steps count as extra minibatches);
        regularised every step, or not at all, none."""
        reg = self.regularization
        intervals = {
            "d_adam": reg.r1_interval if reg.r1_gamma or reg.r2_gamma else 1,
            "g_adam": self.path_length_interval if self.path_length_weight else 1,
        }
        adam = self.default_adam
        return tuple(
            keras.optimizers.Adam(
                learning_rate=adam["learning_rate"] * ratio,
                beta_1=adam["beta_1"] ** ratio,
                beta_2=adam["beta_2"] ** ratio,
                epsilon=adam["epsilon"],
                name=name,
            )
            for name, ratio in ((n, i / (i + 1) if i > 1 else 1.0) for n, i in intervals.items())
        )

    def checkpointed(self) -> dict:
        parts = super().checkpointed()
        if self.path_length_mean is not None:
            parts["path_length_mean"] = self.path_length_mean
        return parts

    def generator_terms(self, batch, fake) -> dict:
        logs = super().generator_terms(batch, fake)
        if self.path_length_weight:
            logs["path_length"] = self.path_length_penalty(batch)
        return logs

    def path_length_penalty(self, batch):
        """Per example, on every `path_length_interval`-th G step (else 0): `(length -
        a)^2` for every N-th example (`path_length_batch_shrink`; repeated N times so
        the term is per example), with a updated first from the batch's mean length,
        over all replicas. Every N-th, not the first B/N: replicas then hold the same
        examples as one device does."""
        shrink = self.path_length_batch_shrink
        z = batch.noise[::shrink, 0]
        labels = None if batch.labels is None else batch.labels[::shrink]

        def lengths():
            ws, seeds = self.mixed_styles(ops.convert_to_tensor(z, "float32"), labels, False)
            noise = (
                tf.map_fn(
                    lambda bits: tf.random.stateless_normal(self.image_shape, bits),
                    tf.bitcast(z[:, 4:6], tf.int32),
                    fn_output_signature=tf.float32,
                )
                / (self.image_size**2) ** 0.5
            )
            synthesis = self.generator.get_layer("synthesis")
            return penalties.path_lengths(lambda w: synthesis([w, seeds], training=True), ws, noise)

        due = ops.equal(self.g_optimizer.iterations % self.path_length_interval, 0)
        length = tf.cond(due, lengths, lambda: tf.zeros(ops.shape(z)[:1]))
        total, count = across_replicas(ops.sum(length), ops.cast(ops.shape(length)[0], "float32"))
        average = self.path_length_mean.value
        average = ops.where(
            due, average + self.path_length_decay * (total / count - average), average
        )
        self.path_length_mean.assign(ops.stop_gradient(average))
        penalty = ops.where(due, ops.square(length - average), 0.0)
        return ops.repeat(penalty, shrink, axis=0)[: ops.shape(batch.noise)[0]]  # odd batches

    def generate(self, z, labels=None, training=False):
        if not training or not self.mixing_prob:
            return super().generate(z, labels, training)
        return self.mixed(ops.convert_to_tensor(z, "float32"), labels)

    def mixed(self, z, labels):
        """Training images with style mixing (`mixed_styles`)."""
        ws, seeds = self.mixed_styles(z, labels)
        return self.generator.get_layer("synthesis")([ws, seeds], training=True)

    def mixed_styles(self, z, labels, track_average=True):
        """(ws, noise seeds) of training images with style mixing: from a random layer
        on, the styles of a second z (drawn per example from z's bits, so still a
        function of the batch). `track_average` updates the average w (truncation's)."""
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

        w1 = mapped(z)
        if track_average:
            w1 = get("truncation")(w1, training=True)  # returns w1, updates the average w
        w2 = mapped(z2)
        cut = ops.where(u[:, 0] < self.mixing_prob, 1 + ops.floor(u[:, 1] * (count - 1)), count)
        first = ops.arange(count, dtype="float32")[None] < cut[:, None]  # (B, count)
        ws = ops.where(first[..., None], w1[:, None], w2[:, None])
        return ws, get("noise_seeds")(z)

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
