"""SNGAN under the shared contract (lazy R1)."""

from keras_gan.models import SNGAN
from tests.models.gan_contract import GANContract


class TestSNGAN(GANContract):
    name = "sngan"
    model_cls = SNGAN
    init_kwargs = {"latent_dim": 8, "image_size": 16, "channels": 3, "filters": 4, "seed": 3}
    compile_kwargs = {"n_critic": 1, "r1_gamma": 1.0, "r1_interval": 2}
