"""`GAN`: a Keras model whose `train_step` is one discriminator and one generator step.

Keras owns the loop (`fit`, callbacks, distribution); a GAN owns only its step.
Variants subclass `GAN`, build their networks from plain hyperparameters and
override at most `discriminator_step`, `generator_step`, `default_loss` or
`default_optimizers`.
"""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import ops

from keras_gan import losses as losses_lib


class GAN(keras.Model):
    """Base class: two networks, two optimizers, one adversarial loss.

    Args:
        generator: maps `z` (and `labels` if conditional) to images in [-1, 1].
        discriminator: maps images (and `labels`) to one logit per image.
        latent_dim: size of `z`.
        num_classes: number of classes of a conditional model; 0 if unconditional.
        seed: seeds the noise drawn when the data carries none.

    Training data is a dict (or tuple) with `images` in [-1, 1], `labels` (int32)
    for conditional models, and optionally `noise` of shape
    `(batch, noise_draws, latent_dim)` (z for the D step, then for the G step).
    `keras_gan.training` supplies the noise from the step number, so training is
    reproducible, exactly resumable and the same on any number of replicas.
    """

    default_loss = "non_saturating"
    loss_names = ("d_loss", "g_loss")
    # Independent z draws per example and step: one for the D step, the rest for the G step.
    noise_draws = 2

    def __init__(self, generator, discriminator, latent_dim, num_classes=0, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.generator = generator
        self.discriminator = discriminator
        self.latent_dim = int(latent_dim)
        self.num_classes = int(num_classes)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.trackers = {name: keras.metrics.Mean(name=name) for name in self.loss_names}
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self._check_shapes()
        # The networks are built at construction. Marking the GAN built stops Keras
        # from calling self(images) on it under tf.distribute (KERAS_NOTES.md).
        self.built = True

    def _check_shapes(self):
        g_shape = tuple(self.generator.outputs[0].shape[1:])
        d_shape = tuple(self.discriminator.inputs[0].shape[1:])
        if g_shape != d_shape:
            raise ValueError(
                f"generator output shape {g_shape} != discriminator input shape {d_shape}"
            )

    @property
    def conditional(self) -> bool:
        return self.num_classes > 0

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return tuple(self.generator.outputs[0].shape[1:])

    # ----------------------------------------------------------------- inference

    def call(self, inputs, training=False):
        """`inputs` is z, or `(z, labels)` for a conditional model."""
        if self.conditional:
            z, labels = inputs
            return self.generate(z, labels, training=training)
        return self.generate(inputs, training=training)

    def generate(self, z, labels=None, training=False):
        if self.conditional:
            if labels is None:
                raise ValueError(f"{type(self).__name__} is conditional: pass labels")
            z, labels = ops.convert_to_tensor(z, "float32"), ops.convert_to_tensor(labels, "int32")
            return self.generator([z, labels], training=training)
        return self.generator(z, training=training)

    def discriminate(self, images, labels=None, training=False):
        if self.conditional:
            images = ops.convert_to_tensor(images, "float32")
            labels = ops.convert_to_tensor(labels, "int32")
            return self.discriminator([images, labels], training=training)
        return self.discriminator(images, training=training)

    def prepare(self, data) -> None:
        """Checks that `data` (an `ImageData`) fits this model, before training."""
        shape = tuple(data.images.shape[1:])
        if shape != self.image_shape:
            raise ValueError(
                f"data images are {shape} but the model makes {self.image_shape}; "
                "set data.image_size/data.channels to match"
            )
        if self.conditional and data.num_classes != self.num_classes:
            raise ValueError(
                f"data has {data.num_classes} classes but the model has num_classes="
                f"{self.num_classes}"
            )
        if self.conditional and data.labels is None:
            raise ValueError(f"{type(self).__name__} is conditional but the data has no labels")

    # ----------------------------------------------------------------- compile

    def default_optimizers(self):
        """(d_optimizer, g_optimizer): Adam 2e-4, beta_1 0.5 (Radford et al. 2016)."""
        return (
            keras.optimizers.Adam(2e-4, beta_1=0.5, name="d_adam"),
            keras.optimizers.Adam(2e-4, beta_1=0.5, name="g_adam"),
        )

    def compile(self, d_optimizer="auto", g_optimizer="auto", loss="auto", **kwargs):
        """`"auto"` picks the model's defaults; optimizers may be names or instances."""
        # optimizer=None: a default optimizer would be saved and then fail to load.
        super().compile(optimizer=None, **kwargs)
        default_d, default_g = self.default_optimizers()
        self.d_optimizer = default_d if d_optimizer == "auto" else keras.optimizers.get(d_optimizer)
        self.g_optimizer = default_g if g_optimizer == "auto" else keras.optimizers.get(g_optimizer)
        self.adversarial_loss = losses_lib.get(self.default_loss if loss == "auto" else loss)
        # Built now, so that restoring a checkpoint restores the slots too.
        self.d_optimizer.build(self.discriminator.trainable_variables)
        self.g_optimizer.build(self.generator.trainable_variables)

    def get_compile_config(self):
        return {
            "d_optimizer": keras.optimizers.serialize(self.d_optimizer),
            "g_optimizer": keras.optimizers.serialize(self.g_optimizer),
            "loss": self.adversarial_loss.name,
        }

    def compile_from_config(self, config):
        self.compile(
            d_optimizer=keras.optimizers.deserialize(config["d_optimizer"]),
            g_optimizer=keras.optimizers.deserialize(config["g_optimizer"]),
            loss=config["loss"],
        )

    # ----------------------------------------------------------------- training

    @property
    def metrics(self):
        return [self.loss_tracker, *self.trackers.values()]

    def unpack(self, data):
        """(images, labels or None, noise (batch, noise_draws, latent_dim)) from a batch."""
        if isinstance(data, dict):
            images, labels, noise = data["images"], data.get("labels"), data.get("noise")
        elif isinstance(data, (tuple, list)):
            images, labels, noise = data[0], data[1] if len(data) > 1 else None, None
        else:
            images, labels, noise = data, None, None
        if noise is None:
            batch = ops.shape(images)[0]
            shape = (batch, self.noise_draws, self.latent_dim)
            noise = keras.random.normal(shape, seed=self.seed_generator)
        return images, (labels if self.conditional else None), noise

    def global_mean(self, per_example):
        """Mean over the global batch: per-replica sums add up across replicas."""
        replicas = tf.distribute.get_strategy().num_replicas_in_sync
        batch = ops.cast(ops.shape(per_example)[0], "float32")
        return ops.sum(per_example) / (batch * replicas)

    def discriminator_step(self, images, labels, z):
        with tf.GradientTape() as tape:
            fake = self.generate(z, labels, training=True)
            real_logits = self.discriminate(images, labels, training=True)
            # G is not updated here: only D's variables are watched by this update.
            fake_logits = self.discriminate(ops.stop_gradient(fake), labels, training=True)
            per_example = self.adversarial_loss.discriminator_loss(real_logits, fake_logits)
            loss = self.global_mean(per_example)
        variables = self.discriminator.trainable_variables
        self.d_optimizer.apply(tape.gradient(loss, variables), variables)
        return {"d_loss": per_example}

    def generator_step(self, labels, noise):
        z = noise[:, 0]
        # A fresh forward pass through G *and then* D: G learns from D's judgement of
        # generated images, never from noise fed to D, and never from D's loss graph.
        with tf.GradientTape() as tape:
            fake = self.generate(z, labels, training=True)
            fake_logits = self.discriminate(fake, labels, training=True)
            per_example = self.adversarial_loss.generator_loss(fake_logits)
            loss = self.global_mean(per_example)
        variables = self.generator.trainable_variables
        self.g_optimizer.apply(tape.gradient(loss, variables), variables)
        return {"g_loss": per_example}

    def train_step(self, data):
        images, labels, noise = self.unpack(data)
        logs = self.discriminator_step(images, labels, noise[:, 0])
        logs.update(self.generator_step(labels, noise[:, 1:]))
        for name, per_example in logs.items():
            # Trackers sum over replicas, so logged values are true global means.
            self.trackers[name].update_state(per_example)
        # "loss" (for TerminateOnNaN and progress bars) is d_loss + g_loss.
        total = ops.mean(logs["d_loss"]) + ops.mean(logs["g_loss"])
        self.loss_tracker.update_state(total, sample_weight=ops.shape(images)[0])
        return {m.name: m.result() for m in self.metrics}

    def test_step(self, data):
        raise NotImplementedError("use keras_gan.metrics to evaluate a GAN")

    def get_config(self):
        raise NotImplementedError(
            f"{type(self).__name__} must write get_config() listing its constructor arguments"
        )
