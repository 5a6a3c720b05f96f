"""Glyph style GAN: characters drawn from their reference glyph in a style code that an
encoder reads from real glyphs (a cVAE-GAN: Larsen et al. 2016; BicycleGAN's cVAE
part, Zhu et al. 2017).

The glyph data is paired: for every (character, face) the real glyph is known. So
besides the adversarial signal, G learns to redraw a real glyph from its character's
reference glyph and the style code that the encoder E reads from that glyph (L1), and
a KL term keeps E's codes near N(0, 1): a random z is then a style too, and
interpolating two z morphs one style into the other. D judges glyphs from random z
(sharpness); E gives `style_of(images)`, the code of a few sample glyphs of a font.
"""

import keras
from keras import ops

from keras_gan.models import networks
from keras_gan.models.base import GAN
from keras_gan.models.glyph_gan import ReferenceConditioned
from keras_gan.models.step import Batch
from keras_gan.models.step import Together
from keras_gan.models.step import gradient_step
from keras_gan.registry import MODELS


@MODELS.register("glyph_style_gan")
@keras.saving.register_keras_serializable("keras_gan")
class GlyphStyleGAN(ReferenceConditioned, GAN):
    """Conditional glyph GAN with a style encoder.

    Args:
        num_classes: number of characters.
        latent_dim: size of the style code z.
        image_size: side of the square images (16, 32, 64 or 128).
        channels: 1 (grayscale) or 3 (RGB).
        filters: base width of the three networks.
        reconstruction_weight: weight of the L1 distance between a real glyph and its
            redrawing from its own style code.
        kl_weight: weight of KL(E(x) || N(0, 1)).
        latent_weight: weight of |E(G(ref, z)) - z| for a random z (BicycleGAN's latent
            regression): the style a random z draws must be readable back, so seeds
            differ in style and E does not collapse to the prior.
        ink_weight: how much more a pixel of the real glyph's ink counts in the L1 than
            paper (1: plain L1). Plain L1 draws a pixel blank unless ink is more likely
            than not there, so thin strokes break where their position is uncertain;
            at 4, ink is drawn where it is more than 1/5 likely.
        speck_area: at inference, isolated ink of at most this many pixels is painted
            over (`networks.Despeckle`); None: image_size / 16, 0: kept.
        seed: seeds noise drawn when the data carries none.

    The reference images are weights, filled by `prepare(data)` (`ReferenceConditioned`).
    """

    base_loss_names = ("d_loss", "g_loss", "reconstruction", "kl", "latent")
    # L1 dominates G's loss, so DCGAN's Adam 2e-4 is far too slow for it: at 1e-3 (D too,
    # to keep pace) hanzi are read 0.85 of real after 500 steps instead of about 0.5, and
    # the EMA generator samples cleaner strokes (bench/RESULTS.md, "glyph_style_gan at
    # 64 px: what moved legibility"). EMA half-lives of 1k, 4k and 10k images score the
    # same over 64 seeds (the 4k default looked better over 8: "Glyph quality over 64
    # seeds").
    default_adam = {"learning_rate": 1e-3, "beta_1": 0.5}
    default_compile = {"ema_kimg": 4.0}
    g_noise_draws = 2  # the encoded style's sampling noise, then a random style z

    def __init__(
        self,
        num_classes=10,
        latent_dim=16,
        image_size=64,
        channels=1,
        filters=16,
        reconstruction_weight=100.0,
        kl_weight=0.05,
        latent_weight=0.5,
        ink_weight=4.0,
        speck_area=None,
        seed=None,
        **kwargs,
    ):
        self.image_size, self.channels, self.filters = image_size, channels, filters
        self.reconstruction_weight, self.kl_weight = reconstruction_weight, kl_weight
        self.latent_weight, self.ink_weight = latent_weight, ink_weight
        self.speck_area = speck_area
        super().__init__(
            generator=networks.styled_glyph_generator(
                latent_dim,
                image_size,
                channels,
                filters,
                num_classes,
                image_size // 16 if speck_area is None else speck_area,
            ),
            discriminator=networks.reference_discriminator(
                image_size, channels, filters, num_classes
            ),
            latent_dim=latent_dim,
            num_classes=num_classes,
            seed=seed,
            **kwargs,
        )
        self.style_encoder = networks.style_encoder(image_size, channels, filters, latent_dim)
        self.term_weights = {
            "reconstruction": float(reconstruction_weight),
            "kl": float(kl_weight),
            "latent": float(latent_weight),
        }

    @property
    def networks(self) -> dict:
        return {**super().networks, "style_encoder": self.style_encoder}

    def g_trainable(self):
        return Together(self.generator, self.style_encoder)

    @classmethod
    def from_config(cls, config):
        # Saved before ink_weight existed: plain L1, so such a run resumes as it was.
        return super().from_config({"ink_weight": 1.0, **config})

    def style_of(self, images):
        """The style code of glyph images (uint8-derived floats in [-1, 1]): the mean of
        their encoded means (a font's style from a few of its glyphs)."""
        mean, _ = self.style_encoder(ops.convert_to_tensor(images, "float32"), training=False)
        return ops.mean(mean, axis=0)

    def reconstruction(self, redrawn, images):
        """Per-example L1 between the redrawing and the real glyph, the real glyph's ink
        pixels weighted `ink_weight`, paper 1 (a weighted mean: 1 gives the plain L1)."""
        weights = 1.0 + (self.ink_weight - 1.0) * (1.0 - images) / 2.0  # ink is -1
        return ops.sum(weights * ops.abs(redrawn - images), axis=(1, 2, 3)) / ops.sum(
            weights, axis=(1, 2, 3)
        )

    def generator_step(self, batch: Batch):
        """G and E together: redraw the real glyph from its own style code (L1, KL), and
        fool D with a glyph of a random style."""
        labels = batch.labels
        with gradient_step(self.g_trainable(), self.g_optimizer) as step:
            mean, log_var = self.style_encoder(batch.images, training=True)
            encoded = mean + ops.exp(0.5 * log_var) * batch.noise[:, 0]
            # Two passes, not one batch of both: G's batch statistics for random styles
            # must be those of the D step's fakes, not a mix with encoded styles.
            redrawn = self.generate(encoded, labels, training=True)
            fake = self.generate(batch.noise[:, 1], labels, training=True)
            seen_batch, seen = self.as_critic_sees(batch, fake)
            logs = {
                "g_loss": self.generator_adversarial_loss(
                    self.critic(seen_batch)(seen), seen_batch
                ),
                "reconstruction": self.reconstruction(redrawn, batch.images),
                "kl": 0.5 * ops.sum(ops.square(mean) + ops.exp(log_var) - 1.0 - log_var, axis=1),
                "latent": ops.mean(
                    ops.abs(self.style_encoder(fake, training=True)[0] - batch.noise[:, 1]),
                    axis=1,
                ),
            }
            step.loss = self.weighted_sum(logs)
        return logs
