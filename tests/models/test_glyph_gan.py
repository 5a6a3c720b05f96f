import numpy as np
import pytest

from keras_gan.data import ImageData
from keras_gan.models import GlyphGAN
from tests.models.gan_contract import ReferenceGlyphContract


class TestGlyphGAN(ReferenceGlyphContract):
    name = "glyph_gan"
    model_cls = GlyphGAN
    init_kwargs = {
        "num_classes": 3,
        "latent_dim": 6,
        "image_size": 16,
        "channels": 1,
        "filters": 4,
        "diversity_weight": 0.5,
        "diversity_clip": 0.2,
        "seed": 3,
    }

    def test_reference_images_condition_both_networks(self):
        model = self.make()
        references = np.zeros((3, 16, 16, 1), np.uint8)
        references[1] = 255
        model.set_reference_images(references)
        table = model.generator.get_layer("reference")(np.array([0, 1]))
        np.testing.assert_array_equal(table[0], -1.0)
        np.testing.assert_array_equal(table[1], 1.0)
        assert len(model.generator.trainable_variables) and not any(
            "reference" in v.path for v in model.trainable_variables
        )

    def test_prepare_checks_the_data(self):
        model = self.make()
        images = np.zeros((4, 16, 16, 1), np.uint8)
        with pytest.raises(ValueError, match="data has 2 classes but the model has num_classes=3"):
            model.prepare(ImageData(images, np.zeros(4, np.int32), ["a", "b"], images[:2]))
        with pytest.raises(ValueError, match=r"data images are \(8, 8, 1\)"):
            model.prepare(ImageData(np.zeros((4, 8, 8, 1), np.uint8), None))
        with pytest.raises(ValueError, match="reference images have shape"):
            model.set_reference_images(np.zeros((2, 16, 16, 1), np.uint8))
