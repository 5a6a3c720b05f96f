"""Image-to-image GANs: the generator maps a source image (and a style id) to a target.

Training data carries `images` (targets in [-1, 1]), `sources` (same shape) and,
for style-conditioned models, `labels` (style ids); see `ImageData.sources`.
The step is one D update then one G update, like every GAN here (but a font2font
fine-tuning that D cannot teach: `Font2Font.learns_from_discriminator`); the generator
has no noise input (pix2pix found it ignored), so a translation is deterministic.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from keras_gan.images import from_uint8
from keras_gan.models import unet
from keras_gan.models.base import GAN
from keras_gan.models.step import Batch
from keras_gan.models.step import gradient_step
from keras_gan.registry import MODELS

# Regularization fields a translation model runs with; the others need noise draws.
SUPPORTED = ("n_critic", "ema_kimg")


def per_example_l1(a, b):
    return ops.mean(ops.abs(a - b), axis=tuple(range(1, len(a.shape))))


def _tensors(*images):
    return [ops.convert_to_tensor(x, "float32") for x in images]


class TranslationGAN(GAN):
    """Base class: the GAN step template with G's fakes made from the batch's sources,
    and D judging (image, source) pairs. `term_weights` weighs the logged L1 terms."""

    translates = True
    measures_diversity = False  # no noise input

    def __init__(self, generator, discriminator, num_classes=0, seed=None, **kwargs):
        super().__init__(
            generator, discriminator, latent_dim=0, num_classes=num_classes, seed=seed, **kwargs
        )

    @property
    def noise_draws(self) -> int:
        return 0

    def compile(self, *args, **kwargs):
        super().compile(*args, **kwargs)
        unsupported = [name for name in self.regularization.changed() if name not in SUPPORTED]
        if self.adversarial_loss.relativistic:
            unsupported.append(f"the {self.adversarial_loss.name} loss")
        if unsupported:
            raise ValueError(
                f"{type(self).__name__} does not support {', '.join(unsupported)} "
                f"(translation models support {', '.join(SUPPORTED)})"
            )

    def check_outputs(self, export: bool, evaluate: bool) -> None:
        if export or evaluate:
            raise ValueError(
                "translates images: --export and train.eval_every need a noise-to-image "
                "model (complete fonts with `kgan font complete`)"
            )

    def prepare(self, data) -> None:
        super().prepare(data)
        if data.sources is None:
            raise ValueError(
                f"{type(self).__name__} translates images: the data needs source images "
                "(pairs:A_DIR,B_DIR or fontpairs:...)"
            )
        if data.sources.shape[1:] != data.images.shape[1:]:
            raise ValueError(
                f"source images are {data.sources.shape[1:]} but targets are "
                f"{data.images.shape[1:]}"
            )

    def fakes(self, batch: Batch):
        return self.generate(batch.sources, batch.labels, training=True)

    def discriminate(self, images, labels=None, training=False, sources=None):
        """PatchGAN logits of (image, source) pairs."""
        if sources is None:
            raise ValueError(f"{type(self).__name__}'s discriminator judges pairs: pass sources")
        return self.discriminator(_tensors(images, sources), training=training)

    def generator_terms(self, batch: Batch, fake) -> dict:
        return {**super().generator_terms(batch, fake), "l1": per_example_l1(fake, batch.images)}


@MODELS.register("pix2pix")
@keras.saving.register_keras_serializable("keras_gan")
class Pix2Pix(TranslationGAN):
    """pix2pix (Isola et al. 2017): U-Net generator, PatchGAN discriminator that sees
    the source too, non-saturating loss plus `l1_weight` * L1 to the target.

    Args:
        image_size: side of the square images (a power of two, at least 16).
        channels: 1 or 3 (source and target).
        filters: width of the first encoder and discriminator layer.
        max_filters: cap on any layer's width.
        l1_weight: weight of the L1 distance to the paired target (paper: 100).
        seed: unused by the networks (kept for the common constructor).

    Example:
    >>> gan = Pix2Pix(image_size=32, channels=1, filters=8)
    >>> gan.compile()
    >>> gan(keras.ops.zeros((2, 32, 32, 1))).shape
    TensorShape([2, 32, 32, 1])
    """

    base_loss_names = ("d_loss", "g_loss", "l1")

    def __init__(
        self,
        image_size=64,
        channels=1,
        filters=32,
        max_filters=256,
        l1_weight=100.0,
        seed=None,
        **kwargs,
    ):
        self.image_size, self.channels = image_size, channels
        self.filters, self.max_filters, self.l1_weight = filters, max_filters, l1_weight
        self.term_weights = {"l1": float(l1_weight)}
        super().__init__(
            generator=unet.unet_generator(image_size, channels, filters, max_filters),
            discriminator=unet.patch_discriminator(image_size, channels, filters, max_filters),
            seed=seed,
            **kwargs,
        )


@MODELS.register("font2font")
@keras.saving.register_keras_serializable("keras_gan")
class Font2Font(TranslationGAN):
    """Font-to-font translation, many target styles in one model (zi2zi, Tian 2017).

    pix2pix plus: a learned style embedding joins the U-Net bottleneck; the
    discriminator also classifies the style of what it sees (the category loss, on
    real and fake); the constant loss keeps the encoding of the generated glyph
    equal to that of the source glyph (what the character is survives the style).

    Args:
        num_classes: number of target styles (fonts); labels are style ids.
        image_size, channels, filters, max_filters, l1_weight: as in `Pix2Pix`.
        style_dim: size of the style embedding.
        const_weight: weight of the constant loss (zi2zi: 15).
        category_weight: weight of the style-classification losses.
        adversarial_weight: weight of G's adversarial loss; 0 fine-tunes on L1 and the
            constant loss alone (what `kgan font fit` does: a discriminator that sees a
            few dozen real glyphs learns them by heart, and its gradients then distort
            the held-out characters; measured in bench/RESULTS.md).
        frozen_norm: G's batch normalisation runs in inference mode with the statistics
            it has (Keras' advice for fine-tuning): a few glyphs of one font would
            otherwise replace statistics learned over many.
    """

    base_loss_names = ("d_loss", "g_loss", "l1", "const", "d_category", "g_category")

    def __init__(
        self,
        num_classes=2,
        image_size=64,
        channels=1,
        filters=32,
        max_filters=256,
        style_dim=64,
        l1_weight=100.0,
        const_weight=15.0,
        category_weight=1.0,
        adversarial_weight=1.0,
        frozen_norm=False,
        seed=None,
        **kwargs,
    ):
        if int(num_classes) < 1:
            raise ValueError(
                f"font2font needs at least one target style, got num_classes={num_classes}"
            )
        self.image_size, self.channels, self.style_dim = image_size, channels, style_dim
        self.filters, self.max_filters = filters, max_filters
        self.l1_weight, self.const_weight, self.category_weight = (
            l1_weight,
            const_weight,
            category_weight,
        )
        self.adversarial_weight, self.frozen_norm = adversarial_weight, frozen_norm
        self.term_weights = {
            "g_loss": float(adversarial_weight),
            "l1": float(l1_weight),
            "const": float(const_weight),
            "d_category": float(category_weight),
            "g_category": float(category_weight),
        }
        super().__init__(
            generator=unet.unet_generator(
                image_size, channels, filters, max_filters, num_classes, style_dim
            ),
            discriminator=unet.patch_discriminator(
                image_size, channels, filters, max_filters, aux_classes=num_classes
            ),
            num_classes=num_classes,
            seed=seed,
            **kwargs,
        )
        self.encoder = self.generator.get_layer("encoder")
        if frozen_norm:
            for network in (self.encoder, self.generator.get_layer("decoder")):
                for layer in network.layers:
                    if isinstance(layer, keras.layers.BatchNormalization):
                        layer.trainable = False

    @property
    def style_table(self):
        """The learned style vectors, (num_classes, style_dim)."""
        return self.generator.get_layer("style_embedding").embeddings

    def translate_in_style(self, sources, style, training=False):
        """`sources` (in [-1, 1]) drawn in an explicit style vector (style_dim,): one the
        table does not hold, e.g. fitted to a new font's samples by `fit_style`."""
        (sources,) = _tensors(sources)
        return self.decode(self.encoder(sources, training=training), style, training)

    def decode(self, codes, style, training=False):
        """G's second half: the encoder's `codes` of sources drawn in a style vector
        (style_dim,) or one per source. The codes do not depend on the style: fitting a
        style encodes the samples once."""
        codes = _tensors(*codes)
        batch = ops.shape(codes[0])[0]
        style = ops.broadcast_to(ops.cast(style, "float32"), (batch, self.style_dim))
        # Not an attribute: a tracked `decoder` would change the saved files' layout.
        decoder = self.generator.get_layer("decoder")
        return decoder([*codes, style], training=training)

    def draw_in_styles(self, codes, styles, pixels_per_call=1 << 20) -> np.ndarray:
        """The encoder's `codes` of N sources drawn in each of K style vectors `styles`
        (K, style_dim): (K, N, S, S, C) in [-1, 1]. Several styles go through the decoder
        in one batch of up to `pixels_per_call` output pixels: one small batch per style
        leaves the CPU waiting on each op (bench/style_drawing.py: 2.9x slower for 16
        glyphs, 1.2-1.4x for 64)."""
        codes = [ops.convert_to_numpy(c) for c in codes]
        styles = ops.convert_to_numpy(styles).astype(np.float32)
        n = len(codes[0])
        per_call = max(1, pixels_per_call // (n * self.image_size**2))
        drawn = []
        for start in range(0, len(styles), per_call):
            chunk = styles[start : start + per_call]
            tiled = [np.tile(c, (len(chunk),) + (1,) * (c.ndim - 1)) for c in codes]
            images = self.decode(tiled, np.repeat(chunk, n, axis=0))
            drawn.append(ops.convert_to_numpy(images).reshape(len(chunk), n, *images.shape[1:]))
        return np.concatenate(drawn)

    def nearest_style(self, sources, targets, candidates=None) -> int:
        """The known style whose drawing of `sources` is closest (L1) to `targets`:
        among the table's rows `candidates` (ids; default all of them)."""
        return self._nearest_style(self.encoder(_tensors(sources)[0]), targets, candidates)

    def _nearest_style(self, codes, targets, candidates=None) -> int:
        table = ops.convert_to_numpy(self.style_table)
        ids = list(range(len(table)) if candidates is None else candidates)
        drawn = self.draw_in_styles(codes, table[ids])
        errors = np.abs(drawn - np.asarray(targets, np.float32)).mean(
            axis=tuple(range(1, drawn.ndim))
        )
        return ids[int(np.argmin(errors))]

    def fit_style(
        self, sources, targets, steps=200, learning_rate=0.05, batch_size=64, seed=0,
        candidates=None, start_samples=32,
    ):  # fmt: skip
        """A style vector (style_dim,) under which G redraws `sources` as `targets` (L1;
        both in [-1, 1]) with every weight frozen: a new font's style from a few of its
        glyphs without fine-tuning (G's style input inverted, as GAN inversion does for
        z). Starts at the nearest known style (of `candidates`, as `nearest_style`) judged
        on `start_samples` of the samples at random: drawing 32 glyphs in every style
        instead of 256 costs an eighth and starts the fit as well (bench/RESULTS.md,
        "Placing a new style row"). Adam on minibatches of the samples."""
        sources, targets = (np.asarray(x, np.float32) for x in (sources, targets))
        codes = [ops.convert_to_numpy(c) for c in self.encoder(sources)]
        order = np.random.default_rng(seed)
        judged = order.choice(len(sources), min(start_samples, len(sources)), replace=False)
        nearest = self._nearest_style([c[judged] for c in codes], targets[judged], candidates)
        start = ops.convert_to_numpy(self.style_table)[nearest]
        style = tf.Variable(start, dtype=tf.float32, name="fitted_style")
        optimizer = keras.optimizers.Adam(learning_rate)

        @tf.function
        def update(codes, target):
            with tf.GradientTape() as tape:
                loss = ops.mean(ops.abs(self.decode(codes, style) - target))
            optimizer.apply_gradients([(tape.gradient(loss, style), style)])

        for _ in range(steps):
            pick = order.choice(len(sources), min(batch_size, len(sources)), replace=False)
            update([c[pick] for c in codes], targets[pick])
        return style.numpy()

    def start_new_classes(
        self, data, new_ids: list[int], given: dict | None = None, progress=None
    ) -> None:
        """New styles of a fine-tuning start from their `given` vector (class id ->
        vector), else from the vector fitted to their glyphs (`fit_style`), not the
        mean of the known ones."""
        rows = ops.convert_to_numpy(self.style_table)
        given = given or {}
        for style_id, vector in given.items():
            if np.shape(vector) != rows.shape[1:]:
                raise ValueError(
                    f"a style vector has {np.size(vector)} numbers; "
                    f"this model's styles have {rows.shape[1]}"
                )
            rows[style_id] = vector
        # Each starts from the nearest trained style: the other new rows are placeholders
        # (the mean), and with many new styles (a base grown by dozens of fonts) trying
        # them all would cost more than the fits. 50 steps of 16 place a row within 0.0015
        # held-out L1 of 100 or 200 steps of 64, in 15 s instead of 90-130 (bench/RESULTS.md,
        # "Placing a new style row"); the training that follows refines it.
        known = sorted(set(range(len(rows))) - set(new_ids)) or None
        fitting = [i for i in new_ids if i not in given]
        for k, style_id in enumerate(fitting):
            if progress is not None:
                progress(k, len(fitting), style_id)
            mine = np.flatnonzero(data.labels == style_id)[:256]
            rows[style_id] = self.fit_style(
                from_uint8(data.sources[mine]), from_uint8(data.images[mine]), steps=50,
                batch_size=16, candidates=known,
            )  # fmt: skip
        self.style_table.assign(rows)

    def judge(self, images, batch: Batch):
        """(patch logits, style logits) of (image, source) pairs."""
        return self.discriminator(_tensors(images, batch.sources), training=True)

    def discriminate(self, images, labels=None, training=False, sources=None):
        return super().discriminate(images, labels, training, sources)[0]

    def category_loss(self, class_logits, labels):
        return keras.losses.sparse_categorical_crossentropy(labels, class_logits, from_logits=True)

    def discriminator_terms(self, batch: Batch, fake):
        real_logits, real_classes = self.judge(batch.images, batch)
        fake_logits, fake_classes = self.judge(fake, batch)
        terms = {
            "d_loss": self.adversarial_loss.discriminator_loss(real_logits, fake_logits),
            "d_category": 0.5
            * (
                self.category_loss(real_classes, batch.labels)
                + self.category_loss(fake_classes, batch.labels)
            ),
        }
        return terms, real_logits

    def generator_terms(self, batch: Batch, fake) -> dict:
        fake_logits, fake_classes = self.judge(fake, batch)
        return {
            "g_loss": self.adversarial_loss.generator_loss(fake_logits),
            **self.reconstruction_terms(batch, fake),
            "g_category": self.category_loss(fake_classes, batch.labels),
        }

    def reconstruction_terms(self, batch: Batch, fake, encoded_source=None) -> dict:
        """G's terms that D has no part in: L1 to the target, and the constant loss
        (`encoded_source`: the sources' innermost code, if G's pass made it already)."""
        if encoded_source is None:
            encoded_source = self.encoder(batch.sources, training=True)[-1]
        encoded_fake = self.encoder(fake, training=True)[-1]
        return {
            "l1": per_example_l1(fake, batch.images),
            "const": ops.mean(ops.square(encoded_fake - encoded_source), axis=(1, 2, 3)),
        }

    @property
    def learns_from_discriminator(self) -> bool:
        """Whether D's judgement reaches G: through the adversarial loss, or through the
        style classification when there are styles to tell apart. Fine-tuning one style
        without the adversarial loss (`kgan font fit`) does not, so it trains G alone:
        the same G, without D's three passes and update (kai from the zh base: 25-30
        images/s -> 50-54 on 2 AMD EPYC cores; bench/RESULTS.md)."""
        return self.adversarial_weight > 0 or (self.category_weight > 0 and self.num_classes > 1)

    @property
    def loss_names(self) -> tuple[str, ...]:
        return super().loss_names if self.learns_from_discriminator else ("l1", "const")

    def train_step(self, data):
        if self.learns_from_discriminator:
            return super().train_step(data)
        batch = self.unpack(data)
        with gradient_step(self.g_trainable(), self.g_optimizer) as step:
            # G's pass in two halves, so that its encoding of the sources serves the
            # constant loss too (`fakes` would encode them twice).
            codes = self.encoder(batch.sources, training=True)
            styles = self.generator.get_layer("style_embedding")(batch.labels)
            fake = self.decode(codes, styles, training=True)
            logs = self.reconstruction_terms(batch, fake, codes[-1])
            step.loss = self.weighted_sum(logs)
        return self.finish_step(logs, batch.size, total=ops.mean(step.loss))
