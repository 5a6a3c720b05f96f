"""`train.init_from`: fine-tuning copies weights and matches class tables by label name."""

import json

import keras
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


def pairs(model, style, count=48, seed=0):
    """(sources, targets) in [-1, 1]: random sources drawn by `model` in `style`."""
    sources = np.random.default_rng(seed).uniform(-1, 1, (count, 16, 16, 1)).astype("float32")
    return sources, model.translate_in_style(sources, style).numpy()


def l1(model, style, sources, targets):
    return float(np.mean(np.abs(model.translate_in_style(sources, style).numpy() - targets)))


def test_a_style_vector_draws_as_its_style_id(trained):
    model, _ = trained
    sources, _ = pairs(model, np.zeros(3))
    for style_id, row in enumerate(table(model, "generator", "style_embedding")):
        np.testing.assert_allclose(
            model.translate_in_style(sources, row).numpy(),
            model.generate(sources, np.full(len(sources), style_id)).numpy(),
            atol=1e-6,
        )


def test_drawing_in_many_styles_at_once_is_drawing_in_each(trained):
    model, _ = trained
    sources, _ = pairs(model, np.zeros(3), count=5)
    styles = np.random.default_rng(1).normal(0, 3, (7, 3)).astype("float32")
    codes = model.encoder(sources)
    for pixels in (1 << 20, 3 * 5 * 16 * 16, 1):  # all in one call, 3 styles a call, 1
        drawn = model.draw_in_styles(codes, styles, pixels_per_call=pixels)
        assert drawn.shape == (7, 5, 16, 16, 1)
        for style, images in zip(styles, drawn):
            np.testing.assert_allclose(
                images, model.translate_in_style(sources, style).numpy(), atol=1e-5
            )


@pytest.fixture
def distinct(tmp_path):
    """A saved base, the same in every run (the networks' initial weights come from
    Keras's global seed), whose styles are far apart: a fresh table's rows are near zero and
    would all draw alike; at this scale two styles' drawings differ twice as much as
    the uint8 rounding of a data set (0.002 mean L1), so fits are measured, not noise."""
    keras.utils.set_random_seed(1)
    model = Font2Font(num_classes=3, seed=1, **SMALL)
    styles = model.generator.get_layer("style_embedding").embeddings
    styles.assign(np.random.default_rng(0).normal(0, 10, styles.shape))
    model.save(tmp_path / "model.keras")
    (tmp_path / "dataset.json").write_text(json.dumps({"label_names": ["kai", "song", "hei"]}))
    return model, tmp_path


def test_fit_style_finds_a_style_the_table_does_not_hold(distinct):
    model, _ = distinct
    rows = table(model, "generator", "style_embedding")
    drawn_in_2 = pairs(model, rows[2])
    assert model.nearest_style(*drawn_in_2) == 2
    closer = int(np.argmin([l1(model, rows[i], *drawn_in_2) for i in (0, 1)]))
    assert model.nearest_style(*drawn_in_2, candidates=[0, 1]) == closer
    # No steps: the start, judged on 4 of the samples, is the row that drew them.
    np.testing.assert_array_equal(model.fit_style(*drawn_in_2, steps=0, start_samples=4), rows[2])
    unseen = rows[0] + 3.0 * (rows[1] - rows[0])  # far outside the known styles
    sources, targets = pairs(model, unseen)
    start = l1(model, rows[model.nearest_style(sources, targets)], sources, targets)
    fitted = model.fit_style(sources, targets, steps=150, learning_rate=0.05)
    assert l1(model, fitted, sources, targets) < 0.25 * start, (start, fitted)


def test_a_new_style_of_a_fine_tuning_starts_fitted_to_its_glyphs(distinct):
    from keras_gan.data.base import ImageData
    from keras_gan.images import to_uint8

    old, folder = distinct
    rows = table(old, "generator", "style_embedding")
    unseen = rows[0] + 3.0 * (rows[1] - rows[0])
    sources, targets = pairs(old, unseen)
    data = ImageData(
        images=to_uint8(targets).numpy(),
        labels=np.zeros(len(targets), np.int32),
        label_names=["mine"],
        sources=to_uint8(sources).numpy(),
    )
    new = Font2Font(num_classes=1, **SMALL)
    new.compile(ema_kimg=1.0)
    lines = []
    started = warm_start(new, folder, ["mine"], data, log=lines.append)
    assert started == {"kept": [], "new": ["mine"]}
    assert lines == ["warm start: fitting new style 1/1, 'mine'"]
    fitted = table(new, "generator", "style_embedding")[0]
    mean = rows.mean(axis=0)
    assert l1(new, fitted, sources, targets) < 0.5 * l1(new, mean, sources, targets)
    for a, b in zip(new.ema_generator.weights, new.generator.weights):
        np.testing.assert_array_equal(a, b)


def test_a_new_style_given_a_vector_starts_there_and_bad_ones_are_named(distinct):
    """`train.init_styles`: `kgan font fit` passes the style its pseudo-glyphs are
    drawn in, so the warm start does not fit the samples a second time."""
    from keras_gan.data.base import ImageData

    old, folder = distinct
    rows = table(old, "generator", "style_embedding")
    data = ImageData(
        images=np.zeros((4, 16, 16, 1), np.uint8),
        labels=np.array([0, 0, 1, 1], np.int32),
        label_names=["hei", "mine"],
        sources=np.zeros((4, 16, 16, 1), np.uint8),
    )
    given = [0.25, -2.0, 7.5]
    new = Font2Font(num_classes=2, **SMALL)
    lines = []
    started = warm_start(new, folder, ["hei", "mine"], data, {"mine": given}, lines.append)
    assert started == {"kept": ["hei"], "new": ["mine"]} and lines == []  # nothing to fit
    np.testing.assert_array_equal(table(new, "generator", "style_embedding"), [rows[2], given])
    with pytest.raises(ConfigError, match="'hei' is not a label new to .*; new labels: mine"):
        warm_start(new, folder, ["hei", "mine"], data, {"hei": given})
    with pytest.raises(ConfigError, match=r"\(mine\): a style vector has 2 numbers; .* have 3"):
        warm_start(new, folder, ["hei", "mine"], data, {"mine": [1.0, 2.0]})
