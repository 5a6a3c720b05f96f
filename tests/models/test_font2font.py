"""font2font (zi2zi) under the shared contract, and its style, constant and category terms."""

import numpy as np
import pytest

from keras_gan.models import Font2Font
from tests.models.gan_contract import GANContract

SMALL = {"image_size": 16, "channels": 1, "filters": 4, "max_filters": 8, "seed": 3}


class TestFont2Font(GANContract):
    name = "font2font"
    model_cls = Font2Font
    init_kwargs = {**SMALL, "num_classes": 3, "style_dim": 5, "const_weight": 7.0}
    bad_size = ({"image_size": 24}, "image_size must be a power of two, at least 16")

    def test_style_changes_the_output(self):
        model = self.make()
        sources = self.inputs(model)[0]
        a = model.generate(sources, np.array([0, 0], np.int32))
        b = model.generate(sources, np.array([1, 1], np.int32))
        assert not np.allclose(a, b)

    def test_constant_and_category_losses(self):
        model = self.make()
        batch = model.unpack(self.data(model))
        sources, labels = batch.sources, np.asarray(batch.labels)
        fake = model.generate(sources, labels, training=True)
        logs = model.generator_terms(batch, fake)
        encode = model.generator.get_layer("encoder")
        expected = (
            (
                np.asarray(encode(fake, training=True)[-1])
                - np.asarray(encode(sources, training=True)[-1])
            )
            ** 2
        ).mean(axis=(1, 2, 3))
        np.testing.assert_allclose(logs["const"], expected, rtol=1e-5, atol=1e-8)
        class_logits = np.asarray(model.judge(fake, batch)[1], np.float64)
        log_softmax = class_logits - np.log(np.exp(class_logits).sum(axis=1, keepdims=True))
        np.testing.assert_allclose(
            logs["g_category"], -log_softmax[np.arange(len(labels)), labels], rtol=1e-5
        )
        assert model.term_weights["const"] == 7.0

    def test_needs_a_style(self):
        with pytest.raises(ValueError, match="at least one target style"):
            Font2Font(num_classes=0, **SMALL)
