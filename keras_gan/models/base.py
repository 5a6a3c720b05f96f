"""`GAN`: a Keras model whose `train_step` is `n_critic` discriminator steps and one
generator step, with the stabilisers of `Regularization` around them.

Keras owns the loop (`fit`, callbacks, distribution); a GAN owns only its step, one
template for every family (noise to image, conditional, translation, text). Variants
subclass `GAN`, build their networks from plain hyperparameters and override at most
the step's hooks, all of them functions of a `Batch`: `fakes` (what G makes),
`discriminate` (what D sees), `discriminator_terms`/`generator_terms` (extra loss
terms, weighed by `term_weights`), and `generate`, `default_loss`, `default_compile`
or `default_adam`.
"""

from __future__ import annotations

import dataclasses
import inspect

import keras
import tensorflow as tf
from keras import ops

from keras_gan import augment as augment_lib
from keras_gan import losses as losses_lib
from keras_gan.losses import penalties
from keras_gan.models.step import Batch
from keras_gan.models.step import across_replicas
from keras_gan.models.step import gradient_step
from keras_gan.models.step import nan_unless_finite
from keras_gan.models.step import replicated_scalar
from keras_gan.regularization import Regularization


def constructor_config(model) -> dict:
    """`get_config()` of a model: its constructor's arguments (declared once, in the
    signature), read from the attributes of the same names. Keras' automatic config
    records the defaults for Model subclasses instead (KERAS_NOTES.md), and the contract
    test round-trips every registered model with non-default arguments."""
    parameters = inspect.signature(type(model).__init__).parameters.values()
    names = [p.name for p in parameters if p.name != "self" and p.kind == p.POSITIONAL_OR_KEYWORD]
    return {**keras.Model.get_config(model), **{name: getattr(model, name) for name in names}}


def checked_range(images):
    """`images`, once they are known to be floats in [-1, 1] (what every network here
    reads and G draws): uint8 pixels or [0, 255] floats would otherwise train without a
    word, on the wrong scale."""
    dtype = getattr(images, "dtype", None)
    if dtype is not None and not tf.as_dtype(dtype).is_floating:
        raise ValueError(
            f"training images are {tf.as_dtype(dtype).name}; keras-gan models take floats in "
            "[-1, 1] (keras_gan.images.from_uint8 maps uint8 pixels there)"
        )
    largest = ops.max(ops.abs(images))
    # Eager: raises here; in a tf.function the assertion is stateful, so it runs anyway.
    tf.debugging.assert_less_equal(
        largest,
        ops.cast(1.001, largest.dtype),
        message="training images must lie in [-1, 1] (keras_gan.images.from_uint8 maps "
        "uint8 pixels there); this batch goes beyond",
    )
    return images


class GAN(keras.Model):
    """Base class: two networks, two optimizers, one adversarial loss.

    Args:
        generator: maps `z` (and `labels` if conditional) to images in [-1, 1].
        discriminator: maps images (and `labels`) to one logit per image.
        latent_dim: size of `z`.
        num_classes: number of classes of a conditional model; 0 if unconditional.
        seed: seeds the noise drawn when the data carries none.

    Training data is a dict (or tuple) with `images` in [-1, 1], `labels` (int32)
    for conditional models, `sources` for translation models, and optionally
    `noise` of shape `(batch, noise_draws, latent_dim)` (z for the D steps, then for
    the G step); `unpack` makes it a `Batch`, the structure every step reads.
    `keras_gan.training` supplies the noise from the step number, so training is
    reproducible, exactly resumable and the same on any number of replicas.
    """

    default_loss = "non_saturating"
    # Adam settings of both optimizers (Radford et al. 2016 unless a variant says otherwise).
    default_adam: dict = {"learning_rate": 2e-4, "beta_1": 0.5}
    # Compile settings a variant prefers (e.g. WGAN-GP: a gradient penalty and 5 critic steps).
    default_compile: dict = {}
    base_loss_names = ("d_loss", "g_loss")
    # Independent z draws per example the generator step uses (GlyphGAN: two, for diversity).
    g_noise_draws = 1
    # Image-to-image models (keras_gan.models.translation) map images, not noise.
    translates = False
    # Samples vary with z alone: the `sample_diversity` monitor applies.
    measures_diversity = True
    modality = "image"  # or "text" (keras_gan.models.text)

    def __init__(self, generator, discriminator, latent_dim, num_classes=0, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.generator = generator
        self.discriminator = discriminator
        self.latent_dim = int(latent_dim)
        self.num_classes = int(num_classes)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.regularization = Regularization()
        self.ema_generator = None
        self.augment_p = None
        # Reads a style code from glyph images (keras_gan.models.glyph_style_gan); the
        # exported `style` signature and `kgan sample --style` need one.
        self.style_encoder = None
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
        """Images from the trained generator (`training`) or else the sampling one (EMA)."""
        generator = self.generator if training else self.sampling_generator
        if self.conditional:
            if labels is None:
                raise ValueError(f"{type(self).__name__} is conditional: pass labels")
            z, labels = ops.convert_to_tensor(z, "float32"), ops.convert_to_tensor(labels, "int32")
            return generator([z, labels], training=training)
        return generator(z, training=training)

    def discriminate(self, images, labels=None, training=False, sources=None):
        """D's logits of `images` given the `labels` of a conditional model (and the
        `sources` of a translation model; noise-to-image models take none)."""
        if self.conditional:
            images = ops.convert_to_tensor(images, "float32")
            labels = ops.convert_to_tensor(labels, "int32")
            return self.discriminator([images, labels], training=training)
        return self.discriminator(images, training=training)

    def export_labels(self, info: dict) -> list[str] | None:
        """The labels an export carries, from the run's `dataset.json` (`info`): the
        label names of a conditional model, none for an unconditional one."""
        return info.get("label_names") if self.conditional else None

    def check_outputs(self, export: bool, evaluate: bool) -> None:
        """Raises ValueError, a sentence that follows the model's name, when this model
        cannot be exported or scored on images during training."""

    def start_new_classes(
        self, data, new_ids: list[int], given: dict | None = None, progress=None
    ) -> None:
        """Fine-tuning: the class rows that the warm-start source did not know begin at
        the mean of the known ones (`runs.warm_start`); a model that can place them
        better from their data (`ImageData`), or at `given` vectors (class id ->
        vector), overrides this, calling `progress(k, n, class_id)` before placing
        the k-th of n. Raises ValueError for vectors it cannot take."""
        if given:
            raise ValueError(f"{type(self).__name__} has no style vectors to start from")

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
        """(d_optimizer, g_optimizer): two Adams with `default_adam`."""
        return (
            keras.optimizers.Adam(**self.default_adam, name="d_adam"),
            keras.optimizers.Adam(**self.default_adam, name="g_adam"),
        )

    def compile(self, d_optimizer="auto", g_optimizer="auto", loss="auto", **settings):
        """`"auto"`/`None` pick the model's defaults; optimizers may be names or instances.

        Args:
            loss: a registered adversarial loss (`kgan models`).
            **settings: `Regularization` fields (penalties, critic steps, EMA,
                augmentation) over the model's `default_compile`, and Keras' compile
                options (e.g. `jit_compile`).
        """
        regularization = {k: settings.pop(k) for k in Regularization.names() if k in settings}
        # optimizer=None: a default optimizer would be saved and then fail to load.
        super().compile(optimizer=None, **settings)
        self.regularization = Regularization.with_defaults(self.default_compile, regularization)
        default_d, default_g = self.default_optimizers()  # may read the regularization
        self.d_optimizer = default_d if d_optimizer == "auto" else keras.optimizers.get(d_optimizer)
        self.g_optimizer = default_g if g_optimizer == "auto" else keras.optimizers.get(g_optimizer)
        if self.dtype_policy.name == "mixed_float16":  # float16 gradients underflow unscaled
            self.d_optimizer, self.g_optimizer = (
                opt
                if isinstance(opt, keras.optimizers.LossScaleOptimizer)
                else keras.optimizers.LossScaleOptimizer(opt, name=f"{opt.name}_scaled")
                for opt in (self.d_optimizer, self.g_optimizer)
            )
        self.adversarial_loss = losses_lib.get(self.default_loss if loss == "auto" else loss)
        self.trackers = {name: keras.metrics.Mean(name=name) for name in self.loss_names}
        self.loss_tracker = keras.metrics.Mean(name="loss")
        # Built now, so that restoring a checkpoint restores the slots too.
        self.d_optimizer.build(self.discriminator.trainable_variables)
        self.g_optimizer.build(self.g_trainable().trainable_variables)
        if self.regularization.ema_kimg > 0 and self.ema_generator is None:
            self.ema_generator = keras.models.clone_model(self.generator)
            self.ema_generator.set_weights(self.generator.get_weights())
            self.ema_generator.trainable = False
        policy = self.regularization.policy()
        if policy.ada and not policy.multipliers:
            raise ValueError(
                "augment ada:auto is chosen from the data by `kgan fit`; give a pipeline, "
                "e.g. ada:glyphs or ada:bgc"
            )
        if policy.operations and self.latent_dim < augment_lib.UNIFORMS:
            raise ValueError(
                f"augment draws {augment_lib.UNIFORMS} numbers per image from a noise row: "
                f"latent_dim must be at least {augment_lib.UNIFORMS}, got {self.latent_dim}"
            )
        if self.regularization.ada_target and self.augment_p is None:
            self.augment_p = replicated_scalar("augment_p")

    @property
    def loss_names(self) -> tuple[str, ...]:
        """What `train_step` logs, besides `loss`: the losses, D's overfitting signal
        (noise-to-image models), then active penalties."""
        overfit = () if self.translates else ("d_overfit",)
        return self.base_loss_names + overfit + self.regularization.log_names()

    @property
    def noise_draws(self) -> int:
        """Noise rows per example and step: per critic step z (+ GP interpolation, + real
        and fake augmentation), then G's z draws (+ its augmentation)."""
        reg = self.regularization
        return reg.n_critic * reg.d_noise_draws() + self.g_noise_draws + bool(reg.augment)

    @property
    def networks(self) -> dict:
        """The trained networks by name (what warm starts copy and fingerprints read)."""
        return {"generator": self.generator, "discriminator": self.discriminator}

    @property
    def optimizers(self) -> dict:
        """The optimizers by the network they train ("D", "G"), once compiled."""
        return {"D": self.d_optimizer, "G": self.g_optimizer}

    def checkpointed(self) -> dict:
        """What a checkpoint holds, by name: networks, optimizers, the EMA generator and
        ADA's probability (the parts this model has)."""
        parts = {
            **self.networks,
            "d_optimizer": self.d_optimizer,
            "g_optimizer": self.g_optimizer,
            "ema_generator": self.ema_generator,
            "augment_p": self.augment_p,
        }
        return {name: part for name, part in parts.items() if part is not None}

    def g_trainable(self):
        """What G's optimizer trains: the generator (and networks trained with it). A
        method, not a property: Keras' saving walks properties, and one that reaches
        the generator before `generator` (by name) would move its weights' path."""
        return self.generator

    @property
    def sampling_generator(self) -> keras.Model:
        """The generator to sample and export: the EMA one when there is one."""
        return self.ema_generator if self.ema_generator is not None else self.generator

    def get_compile_config(self):
        if not self.compiled:  # e.g. a model saved for inference or fine-tuning only
            return None
        return {
            "d_optimizer": keras.optimizers.serialize(self.d_optimizer),
            "g_optimizer": keras.optimizers.serialize(self.g_optimizer),
            "loss": self.adversarial_loss.name,
            **dataclasses.asdict(self.regularization),
        }

    def compile_from_config(self, config):
        config = dict(config)
        self.compile(
            d_optimizer=keras.optimizers.deserialize(config.pop("d_optimizer")),
            g_optimizer=keras.optimizers.deserialize(config.pop("g_optimizer")),
            **config,
        )

    # ----------------------------------------------------------------- training

    @property
    def metrics(self):
        return [self.loss_tracker, *self.trackers.values()]

    def unpack(self, data) -> Batch:
        """The `Batch` of a dict (or tuple) of `images`, `labels`, `noise`, `sources`;
        noise the data does not carry is drawn from the model's seed."""
        if isinstance(data, dict):
            images, labels = data["images"], data.get("labels")
            noise, sources = data.get("noise"), data.get("sources")
        elif isinstance(data, (tuple, list)):
            images, labels, noise, sources = data[0], data[1] if len(data) > 1 else None, None, None
        else:
            images, labels, noise, sources = data, None, None, None
        images = checked_range(images)
        if noise is None and self.noise_draws:
            shape = (ops.shape(images)[0], self.noise_draws, self.latent_dim)
            noise = keras.random.normal(shape, seed=self.seed_generator)
        return Batch(images, labels if self.conditional else None, noise, sources)

    def train_step(self, data):
        """`n_critic` D steps on the same real batch with fresh noise, then one G step."""
        batch = self.unpack(data)
        reg, draws = self.regularization, self.regularization.d_noise_draws()
        for critic_step in range(reg.n_critic):
            logs = self.discriminator_step(
                batch.rows(critic_step * draws, (critic_step + 1) * draws)
            )
        logs.update(self.generator_step(batch.rows(reg.n_critic * draws)))
        return self.finish_step(logs, batch.size)

    def fakes(self, batch: Batch):
        """What G makes in one step, in training mode: images from the batch's z (row 0)."""
        return self.generate(batch.noise[:, 0], batch.labels, training=True)

    def discriminator_step(self, batch: Batch, fake=None):
        """One D update with this step's noise rows (z, the GP draw, augmentation of real
        and fake); `fake` is G's output if already made (else `fakes(batch)`)."""
        reg = self.regularization
        with gradient_step(self.discriminator, self.d_optimizer) as step:
            if fake is None:
                fake = self.fakes(batch)
            fake = keras.tree.map_structure(ops.stop_gradient, fake)  # G is not updated here
            if reg.augment:  # D sees real and fake through the same kind of transforms
                batch = batch._replace(images=self.augment_images(batch.images, batch.noise[:, -2]))
                fake = self.augment_images(fake, batch.noise[:, -1])
            logs, real_logits = self.discriminator_terms(batch, fake)
            total = self.weighted_sum(logs)
            critic = self.critic(batch)
            if reg.gradient_penalty:
                # Interpolation weights: the normal CDF of a noise draw is uniform on [0, 1],
                # so they come from (seed, step) like everything else.
                mix = augment_lib.uniforms(batch.noise[:, 1])[:, :1]
                gp = penalties.gradient_penalty(critic, batch.images, fake, mix)
                logs["gp"], total = gp, total + reg.gradient_penalty * gp
            for name, gamma, images in (
                ("r1", reg.r1_gamma, batch.images),
                ("r2", reg.r2_gamma, fake),
            ):
                if gamma:
                    penalty = self.lazy(
                        lambda x=images: penalties.zero_centred_penalty(critic, x), images
                    )
                    logs[name], total = penalty, total + 0.5 * gamma * reg.r1_interval * penalty
            step.loss = total
        if "d_overfit" in self.loss_names:
            # ADA's overfitting heuristic r_t = E[sign(D(real))]: near 0 while D cannot tell
            # training images from fakes, towards 1 as it memorises them.
            logs["d_overfit"] = ops.mean(
                ops.sign(ops.reshape(real_logits, (ops.shape(real_logits)[0], -1))), axis=1
            )
        if reg.ada_target:
            logs["augment_p"] = self.adapt_augmentation(real_logits)
        return logs

    def generator_step(self, batch: Batch):
        """One G update. A fresh forward pass through G *and then* D: G learns from D's
        judgement of generated images, never from noise fed to D, and never from D's
        loss graph."""
        with gradient_step(self.g_trainable(), self.g_optimizer) as step:
            batch, fake = self.as_critic_sees(batch, self.fakes(batch))
            logs = self.generator_terms(batch, fake)
            step.loss = self.weighted_sum(logs)
        return logs

    def as_critic_sees(self, batch: Batch, fake):
        """(batch, fake) of a G step through D's augmentation (the real images too when
        a relativistic loss judges the fakes against them)."""
        if not self.regularization.augment:
            return batch, fake
        fake = self.augment_images(fake, batch.noise[:, -1])
        if self.adversarial_loss.relativistic:
            batch = batch._replace(images=self.augment_images(batch.images, batch.noise[:, -1]))
        return batch, fake

    # Weights of the logged per-example terms in each network's loss (1 if not named),
    # so that `log.csv` shows the raw terms (e.g. L1 distances).
    term_weights: dict = {}

    def weighted_sum(self, logs: dict):
        return sum(self.term_weights.get(name, 1.0) * value for name, value in logs.items())

    def discriminator_terms(self, batch: Batch, fake):
        """(per-example terms of D's loss by log name, D's logits of the real images)."""
        critic = self.critic(batch)
        real_logits, fake_logits = critic(batch.images), critic(fake)
        loss = self.adversarial_loss.discriminator_loss(real_logits, fake_logits)
        return {"d_loss": loss}, real_logits

    def generator_terms(self, batch: Batch, fake) -> dict:
        """Per-example terms of G's loss, by log name (weighted and summed for the update)."""
        return {"g_loss": self.generator_adversarial_loss(self.critic(batch)(fake), batch)}

    def generator_adversarial_loss(self, fake_logits, batch: Batch):
        """G's per-example adversarial loss; a relativistic loss also reads D's logits of
        the batch's real images."""
        real_logits = None
        if self.adversarial_loss.relativistic:
            real_logits = self.critic(batch)(batch.images)
        return self.adversarial_loss.generator_loss(fake_logits, real_logits)

    def critic(self, batch: Batch):
        """D as a function of images alone, under the batch's labels and sources, in
        training mode (the penalties differentiate it)."""
        return lambda images: self.discriminate(
            images, batch.labels, training=True, sources=batch.sources
        )

    def augment_images(self, images, noise_row):
        probability = 1.0 if self.augment_p is None else self.augment_p.value
        return augment_lib.apply(images, noise_row, self.regularization.policy(), probability)

    def adapt_augmentation(self, real_logits):
        """ADA: p moves towards more augmentation while E[sign(D(real))] > target."""
        reg = self.regularization
        signs, count = across_replicas(  # the signal of the global batch
            ops.sum(ops.sign(ops.reshape(real_logits, (-1,)))),
            ops.cast(ops.shape(real_logits)[0], "float32"),
        )
        step = ops.sign(signs / count - reg.ada_target) * count / (reg.ada_kimg * 1000.0)
        self.augment_p.assign(ops.clip(self.augment_p.value + step, 0.0, 1.0))
        return ops.full(ops.shape(real_logits)[:1], self.augment_p.value)

    def lazy(self, penalty, batch):
        """`penalty()` on every `r1_interval`-th D step, else zeros (lazy regularisation)."""
        interval = self.regularization.r1_interval
        if interval == 1:
            return penalty()
        due = ops.equal(self.d_optimizer.iterations % interval, 0)
        return tf.cond(due, penalty, lambda: tf.zeros(ops.shape(batch)[:1]))

    def finish_step(self, logs, replica_batch, total=None):
        """EMA update, then the logged means (`logs` holds per-example terms; `total`,
        logged as "loss", defaults to d_loss + g_loss)."""
        if self.ema_generator is not None:
            self.update_ema(replica_batch)
        for name, per_example in logs.items():
            # Trackers sum over replicas, so logged values are true global means.
            self.trackers[name].update_state(per_example)
        # "loss" (for TerminateOnNaN and progress bars) is NaN once a weight of G or D is
        # NaN/Inf after this step's updates.
        if total is None:
            total = ops.mean(logs["d_loss"]) + ops.mean(logs["g_loss"])
        weights = self.g_trainable().trainable_variables + self.discriminator.trainable_variables
        self.loss_tracker.update_state(
            nan_unless_finite(total, weights), sample_weight=replica_batch
        )
        return {m.name: m.result() for m in self.metrics}

    def update_ema(self, replica_batch):
        """G_ema <- G + beta (G_ema - G), beta = 0.5 ** (global batch / half-life in images)."""
        replicas = tf.distribute.get_strategy().num_replicas_in_sync
        images_per_step = ops.cast(replica_batch * replicas, "float32")
        beta = ops.power(0.5, images_per_step / (self.regularization.ema_kimg * 1000.0))
        for average, weight in zip(self.ema_generator.weights, self.generator.weights):
            if weight.trainable:
                average.assign(weight + beta * (average - weight))
            else:  # batch-norm statistics are copied, as StyleGAN2-ADA copies buffers
                average.assign(weight)

    def test_step(self, data):
        raise NotImplementedError("use keras_gan.metrics to evaluate a GAN")

    def get_config(self):
        return constructor_config(self)
