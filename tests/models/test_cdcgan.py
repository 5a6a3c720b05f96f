from keras_gan.models import CDCGAN
from tests.models.gan_contract import GANContract


class TestCDCGAN(GANContract):
    name = "cdcgan"
    model_cls = CDCGAN
    init_kwargs = {
        "num_classes": 5,
        "latent_dim": 8,
        "image_size": 16,
        "channels": 1,
        "filters": 4,
        "embedding_dim": 6,
        "seed": 3,
    }
