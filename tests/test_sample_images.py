"""`SampleImages`: the public sample-grid callback for any `model.fit`."""

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from keras_gan.callbacks import SampleImages
from keras_gan.callbacks.samples import sample_grid
from keras_gan.images import from_uint8
from keras_gan.models import CDCGAN
from keras_gan.models import Pix2Pix


def labelled_data(count=24, classes=3):
    rng = np.random.default_rng(0)
    images = from_uint8(rng.integers(0, 256, (count, 16, 16, 1), np.uint8))
    labels = rng.integers(0, classes, count).astype("int32")
    return tf.data.Dataset.from_tensor_slices((images, labels)).batch(8)


def test_grids_of_fixed_seeds_as_pngs_and_tensorboard_images(tmp_path):
    model = CDCGAN(num_classes=3, latent_dim=8, image_size=16, channels=1, filters=4)
    model.compile()
    callback = SampleImages(tmp_path / "grids", tmp_path / "tb", every=2, seeds=[5, 6])
    model.fit(
        labelled_data(), epochs=2, verbose=0, shuffle=False, callbacks=[callback]
    )  # 3 steps an epoch
    names = sorted(p.name for p in (tmp_path / "grids").iterdir())
    assert names == ["step_000002.png", "step_000004.png", "step_000006.png"]
    png = Image.open(tmp_path / "grids" / "step_000006.png")
    assert "Synthetic" in png.info["Description"] and "CDCGAN, step 6" in png.info["Description"]
    # The last grid is the trained model's drawing of those seeds, a column per class.
    expected = sample_grid(model, [5, 6], [0, 1, 2])
    np.testing.assert_array_equal(np.asarray(png).reshape(expected.shape), expected)
    events = list((tmp_path / "tb").glob("events.out.tfevents.*"))
    steps = [
        e.step
        for path in events
        for e in tf.compat.v1.train.summary_iterator(str(path))
        for v in e.summary.value
        if v.tag == "samples"
    ]
    assert steps == [2, 4, 6]


def test_one_grid_per_epoch_by_default(tmp_path):
    model = CDCGAN(num_classes=3, latent_dim=8, image_size=16, channels=1, filters=4)
    model.compile()
    model.fit(
        labelled_data(), epochs=2, verbose=0, shuffle=False, callbacks=[SampleImages(tmp_path)]
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["step_000003.png", "step_000006.png"]


def test_what_it_cannot_draw_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="needs a folder, a log_dir or both"):
        SampleImages()
    model = Pix2Pix(image_size=16, channels=1, filters=4, max_filters=8)
    model.compile()
    callback = SampleImages(tmp_path)
    callback.set_model(model)
    with pytest.raises(ValueError, match="Pix2Pix is not one"):
        callback.on_train_begin()
