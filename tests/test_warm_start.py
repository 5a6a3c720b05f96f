"""`train.init_from`: fine-tuning copies weights and matches class tables by label name."""

import json

import numpy as np
import pytest

from keras_gan.config import ConfigError
from keras_gan.models import Font2Font
from keras_gan.models import Pix2Pix
from keras_gan.runs import warm_start

SMALL = {"image_size": 16, "channels": 1, "filters": 4, "max_filters": 8, "style_dim": 3}


@pytest.fixture
def trained(tmp_path):
    model = Font2Font(num_classes=3, seed=1, **SMALL)
    model.save(tmp_path / "model.keras")
    (tmp_path / "dataset.json").write_text(json.dumps({"label_names": ["kai", "song", "hei"]}))
    return model, tmp_path


def table(model, network, name):
    return next(w.numpy() for w in getattr(model, network).weights if name in w.path)


def test_known_labels_keep_their_rows_and_new_ones_start_at_the_mean(trained):
    old, folder = trained
    new = Font2Font(num_classes=2, seed=2, **SMALL)
    new.compile(ema_kimg=1.0)
    started = warm_start(new, folder, ["hei", "mine"])
    assert started == {"kept": ["hei"], "new": ["mine"]}
    old_styles, new_styles = (table(m, "generator", "style_embedding") for m in (old, new))
    np.testing.assert_array_equal(new_styles[0], old_styles[2])
    np.testing.assert_allclose(new_styles[1], old_styles.mean(axis=0), rtol=1e-6)
    old_head, new_head = (table(m, "discriminator", "classes/kernel") for m in (old, new))
    np.testing.assert_array_equal(new_head[:, 0], old_head[:, 2])
    np.testing.assert_allclose(new_head[:, 1], old_head.mean(axis=1), rtol=1e-6)
    # Everything else is copied as is; the EMA generator starts equal to the generator.
    old_kernel, new_kernel = (
        m.generator.get_layer("encoder").weights[0].numpy() for m in (old, new)
    )
    np.testing.assert_array_equal(old_kernel, new_kernel)
    for a, b in zip(new.ema_generator.weights, new.generator.weights):
        np.testing.assert_array_equal(a, b)


def test_same_labels_in_another_order_move_with_their_names(trained):
    old, folder = trained
    new = Font2Font(num_classes=3, **SMALL)
    warm_start(new, folder, ["song", "hei", "kai"])
    old_styles, new_styles = (table(m, "generator", "style_embedding") for m in (old, new))
    np.testing.assert_array_equal(new_styles, old_styles[[1, 2, 0]])


def test_another_architecture_is_a_clear_error(trained, tmp_path):
    _, folder = trained
    with pytest.raises(ConfigError, match="this model's has"):
        warm_start(Pix2Pix(**{k: v for k, v in SMALL.items() if k != "style_dim"}), folder, [])
    with pytest.raises(ConfigError, match=r"weight .* has shape .* this model needs"):
        warm_start(
            Font2Font(num_classes=3, **{**SMALL, "style_dim": 4}), folder, ["kai", "song", "hei"]
        )
    with pytest.raises(ConfigError, match="must hold a trained model.keras and its dataset.json"):
        warm_start(Font2Font(num_classes=3, **SMALL), tmp_path / "nothing", ["kai"])
