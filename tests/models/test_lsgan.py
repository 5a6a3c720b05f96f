"""LSGAN under the shared contract (with an EMA generator)."""

from keras_gan.models import LSGAN
from tests.models.gan_contract import GANContract


class TestLSGAN(GANContract):
    name = "lsgan"
    model_cls = LSGAN
    init_kwargs = {"latent_dim": 8, "image_size": 16, "channels": 3, "filters": 4, "seed": 3}
    compile_kwargs = {"ema_kimg": 0.01}
