from keras_gan.models import DCGAN
from tests.models.gan_contract import GANContract


class TestDCGAN(GANContract):
    name = "dcgan"
    model_cls = DCGAN
    init_kwargs = {"latent_dim": 8, "image_size": 16, "channels": 3, "filters": 4, "seed": 3}
