"""DCGAN (Radford et al. 2016): unconditional, non-saturating loss, Adam 2e-4/0.5."""

import keras

from keras_gan.models import networks
from keras_gan.models.base import GAN
from keras_gan.models.step import gradient_step
from keras_gan.registry import MODELS


@MODELS.register("dcgan")
@keras.saving.register_keras_serializable("keras_gan")
class DCGAN(GAN):
    """Unconditional DCGAN.

    Args:
        latent_dim: size of z.
        image_size: side of the square images (16, 32, 64 or 128).
        channels: 1 (grayscale) or 3 (RGB).
        filters: width of the discriminator's first layer and the generator's last.
        bias: False drops the biases the reference code has none of (the `dcgan-32`
            preset is that standard network: at filters 128 and RGB, 3,450,368
            generator and 2,638,848 discriminator weights, as PyTorch's).
        share_fake: one G forward pass per step, as the reference code (PyTorch's DCGAN
            example) does: D learns from `G(z)`, then G from D's judgement of the same
            batch. Off: G's step draws and generates a fresh batch (the zoo's default).
            Needs one critic step and no augmentation.
        seed: seeds noise drawn when the data carries none.

    Example:
    >>> gan = DCGAN(latent_dim=64, image_size=32, channels=1, filters=32)
    >>> gan.compile()
    >>> gan(keras.random.normal((2, 64))).shape
    TensorShape([2, 32, 32, 1])
    """

    def __init__(
        self,
        latent_dim=100,
        image_size=32,
        channels=3,
        filters=64,
        bias=True,
        share_fake=False,
        seed=None,
        **kwargs,
    ):
        self.image_size, self.channels, self.filters = image_size, channels, filters
        self.bias, self.share_fake = bias, share_fake
        super().__init__(
            generator=networks.dcgan_generator(
                latent_dim, image_size, channels, filters, bias=bias
            ),
            discriminator=networks.dcgan_discriminator(image_size, channels, filters, bias=bias),
            latent_dim=latent_dim,
            seed=seed,
            **kwargs,
        )

    def compile(self, *args, **kwargs):
        super().compile(*args, **kwargs)
        if self.share_fake and (self.regularization.n_critic != 1 or self.regularization.augment):
            raise ValueError("share_fake needs n_critic=1 and no augmentation")

    def train_step(self, data):
        if not self.share_fake:
            return super().train_step(data)
        batch = self.unpack(data)
        with gradient_step(self.generator, self.g_optimizer) as step:
            fake = self.fakes(batch)
            with step.tape.stop_recording():
                logs = self.discriminator_step(batch, fake=fake)
            generator_logs = self.generator_terms(batch, fake)  # D after its update
            step.loss = self.weighted_sum(generator_logs)
        return self.finish_step({**logs, **generator_logs}, batch.size)
