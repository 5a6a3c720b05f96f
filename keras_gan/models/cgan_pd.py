"""cGAN with a projection discriminator (Miyato & Koyama 2018)."""

import keras

from keras_gan.models import resnet
from keras_gan.models.sngan import SNGAN
from keras_gan.registry import MODELS


@MODELS.register("cgan_pd")
@keras.saving.register_keras_serializable("keras_gan")
class CGANPD(SNGAN):
    """Class-conditional SNGAN: conditional batch norm in G, projection term in D.

    D's logit is `psi(phi(x)) + <embed(y), phi(x)>`: the inner product with the class
    embedding, rather than concatenating the label to the input, is what the paper
    showed to improve class-conditional ImageNet. Hinge loss, Adam 2e-4 betas (0, 0.9),
    n_dis 5, as SNGAN.

    Args:
        num_classes: number of classes.
        latent_dim, image_size, channels, filters, seed: as `SNGAN`.
    """

    def __init__(
        self,
        num_classes=10,
        latent_dim=128,
        image_size=32,
        channels=3,
        filters=128,
        seed=None,
        **kwargs,
    ):
        self.image_size, self.channels, self.filters = image_size, channels, filters
        super(SNGAN, self).__init__(
            generator=resnet.resnet_generator(
                latent_dim, image_size, channels, 2 * filters, num_classes
            ),
            discriminator=resnet.resnet_discriminator(image_size, channels, filters, num_classes),
            latent_dim=latent_dim,
            num_classes=num_classes,
            seed=seed,
            **kwargs,
        )
