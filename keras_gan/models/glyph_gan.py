"""Glyph GAN: class-conditional, the class given as a rendered reference image.

A plain class-conditional DCGAN trained on hundreds of hanzi ignores the label
for a long time (see the foundation issue's measurement). Here the label's
embedding *is* the character rendered in a reference font, so G redraws a known
shape in a style chosen by z, and D judges (image, reference) pairs plus a
projection term. It learns recognisable characters in minutes on a CPU.

Conditioned that strongly, G tends to ignore z (one style per character, as
pix2pix does). The generator step therefore adds the diversity-sensitive term of
Yang et al. 2019 (DSGAN): two z per example, reward |G(z1)-G(z2)| / |z1-z2|, clipped.
"""

import keras
from keras import ops

from keras_gan.models import networks
from keras_gan.models.base import GAN
from keras_gan.models.step import Batch
from keras_gan.models.step import gradient_step
from keras_gan.registry import MODELS


class ReferenceConditioned:
    """A glyph model whose label embedding is the class's reference image: a weight of
    G and D (`networks.ReferenceImages`), filled from the data before training."""

    def set_reference_images(self, images):
        """`images`: uint8 `(num_classes, H, W, C)`, dark ink on white, like the data."""
        for network in (self.generator, self.discriminator):
            network.get_layer("reference").set_images(images)

    def prepare(self, data):
        super().prepare(data)
        if data.reference_images is None:
            raise ValueError(
                f"{type(self).__name__} needs data with reference images (e.g. glyphs:...)"
            )
        self.set_reference_images(data.reference_images)


@MODELS.register("glyph_gan")
@keras.saving.register_keras_serializable("keras_gan")
class GlyphGAN(ReferenceConditioned, GAN):
    """Conditional GAN whose label embedding is a fixed reference image per class.

    Args:
        num_classes: number of classes (characters).
        latent_dim: size of z (the style).
        image_size: side of the square images (16, 32, 64 or 128).
        channels: 1 (grayscale) or 3 (RGB).
        filters: base width of both networks.
        diversity_weight: weight of the DSGAN diversity reward (0 turns it off).
        diversity_clip: the reward's cap, so G does not buy diversity with noise.
        seed: seeds noise drawn when the data carries none.

    The reference images are weights, filled by `prepare(data)` from
    `data.reference_images` (or `set_reference_images`), and saved with the model.

    Example:
    >>> gan = GlyphGAN(num_classes=4, latent_dim=16, image_size=32, filters=16)
    >>> gan.set_reference_images(np.full((4, 32, 32, 1), 255, np.uint8))
    """

    base_loss_names = ("d_loss", "g_loss", "diversity")
    g_noise_draws = 2

    def __init__(
        self,
        num_classes=10,
        latent_dim=32,
        image_size=32,
        channels=1,
        filters=32,
        diversity_weight=5.0,
        diversity_clip=0.3,
        seed=None,
        **kwargs,
    ):
        self.image_size, self.channels, self.filters = image_size, channels, filters
        self.diversity_weight, self.diversity_clip = float(diversity_weight), float(diversity_clip)
        super().__init__(
            generator=networks.glyph_generator(
                latent_dim, image_size, channels, filters, num_classes
            ),
            discriminator=networks.reference_discriminator(
                image_size, channels, filters, num_classes
            ),
            latent_dim=latent_dim,
            num_classes=num_classes,
            seed=seed,
            **kwargs,
        )

    def generator_step(self, batch: Batch):
        """The template's G step with two z per example (`g_noise_draws`) and the
        clipped diversity reward in the loss (logged unclipped)."""
        z1, z2, labels = batch.noise[:, 0], batch.noise[:, 1], batch.labels
        with gradient_step(self.generator, self.g_optimizer) as step:
            # One batched pass for both draws: the same FLOPs, better use of the cores.
            both = self.generate(ops.concatenate([z1, z2]), ops.concatenate([labels, labels]), True)
            fake1, fake2 = ops.split(both, 2)
            batch, seen = self.as_critic_sees(batch, fake1)
            adversarial = self.generator_adversarial_loss(self.critic(batch)(seen), batch)
            image_distance = ops.mean(ops.abs(fake1 - fake2), axis=(1, 2, 3))
            diversity = image_distance / (ops.mean(ops.abs(z1 - z2), axis=1) + 1e-8)
            step.loss = adversarial - self.diversity_weight * ops.minimum(
                diversity, self.diversity_clip
            )
        return {"g_loss": adversarial, "diversity": diversity}
