"""WGAN-GP under the shared contract (gradient penalty, two critic steps)."""

from keras_gan.models import WGANGP
from tests.models.gan_contract import GANContract


class TestWGANGP(GANContract):
    name = "wgan_gp"
    model_cls = WGANGP
    init_kwargs = {"latent_dim": 8, "image_size": 16, "channels": 3, "filters": 4, "seed": 3}
    compile_kwargs = {"n_critic": 2}
