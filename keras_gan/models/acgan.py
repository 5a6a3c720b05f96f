"""AC-GAN (Odena et al. 2017): the discriminator also classifies, real and fake alike."""

import keras
from keras import ops

from keras_gan.models import networks
from keras_gan.models.base import GAN
from keras_gan.models.step import Batch
from keras_gan.registry import MODELS


@MODELS.register("acgan")
@keras.saving.register_keras_serializable("keras_gan")
class ACGAN(GAN):
    """Class-conditional GAN with an auxiliary classifier on D's features.

    G sees `[z, embed(label)]`. D sees only the image and outputs a real/fake logit
    and class logits. D minimises adversarial + cross-entropy on real and fake
    images; G minimises adversarial + cross-entropy of its images' intended class.

    Args:
        num_classes: number of classes.
        latent_dim: size of z.
        image_size: side of the square images (16, 32, 64 or 128).
        channels: 1 (grayscale) or 3 (RGB).
        filters: width of D's first layer and G's last.
        embedding_dim: size of the generator's class embedding.
        class_weight: weight of the classification terms.
        seed: seeds noise drawn when the data carries none.
    """

    base_loss_names = ("d_loss", "g_loss", "d_class", "g_class")

    def __init__(
        self,
        num_classes=10,
        latent_dim=100,
        image_size=32,
        channels=1,
        filters=64,
        embedding_dim=64,
        class_weight=1.0,
        seed=None,
        **kwargs,
    ):
        self.image_size, self.channels, self.filters = image_size, channels, filters
        self.embedding_dim, self.class_weight = embedding_dim, float(class_weight)
        super().__init__(
            generator=networks.dcgan_generator(
                latent_dim, image_size, channels, filters, num_classes, embedding_dim
            ),
            discriminator=networks.dcgan_discriminator(
                image_size, channels, filters, aux_classes=num_classes
            ),
            latent_dim=latent_dim,
            num_classes=num_classes,
            seed=seed,
            **kwargs,
        )

    def discriminate(self, images, labels=None, training=False, sources=None):
        """D's real/fake logits (D sees the image alone; the labels are its class target)."""
        return self.discriminator(images, training=training)[0]

    def classify(self, images, training=False):
        """Class logits `(batch, num_classes)` of D's auxiliary head."""
        return self.discriminator(images, training=training)[1]

    def _cross_entropy(self, class_logits, labels):
        return self.class_weight * keras.losses.sparse_categorical_crossentropy(
            labels, class_logits, from_logits=True
        )

    def discriminator_terms(self, batch: Batch, fake):
        real_logits, real_classes = self.discriminator(batch.images, training=True)
        fake_logits, fake_classes = self.discriminator(fake, training=True)
        terms = {
            "d_loss": self.adversarial_loss.discriminator_loss(real_logits, fake_logits),
            "d_class": self._cross_entropy(real_classes, batch.labels)
            + self._cross_entropy(fake_classes, batch.labels),
        }
        return terms, real_logits

    def generator_terms(self, batch: Batch, fake) -> dict:
        fake_logits, fake_classes = self.discriminator(fake, training=True)
        return {
            "g_loss": self.generator_adversarial_loss(fake_logits, batch),
            "g_class": self._cross_entropy(fake_classes, ops.cast(batch.labels, "int32")),
        }
