"""The glyph style GAN under the shared contract, its terms exactly, and style codes."""

import numpy as np
import pytest
from scipy import ndimage

from keras_gan.models import GlyphStyleGAN
from keras_gan.models.networks import Despeckle
from tests.models.gan_contract import ReferenceGlyphContract


class TestGlyphStyleGAN(ReferenceGlyphContract):
    name = "glyph_style_gan"
    model_cls = GlyphStyleGAN
    init_kwargs = {
        "num_classes": 3,
        "latent_dim": 6,
        "image_size": 16,
        "channels": 1,
        "filters": 4,
        "reconstruction_weight": 3.0,
        "kl_weight": 0.5,
        "latent_weight": 0.25,
        "ink_weight": 3.0,
        "speck_area": 2,
        "seed": 3,
    }

    def test_generator_step_terms_are_reconstruction_and_kl_of_the_encoded_style(self):
        model = self.make()
        batch = model.unpack(self.data(model)).rows(1)  # G's rows: eps, then z
        generator_before = [w.numpy() for w in model.generator.weights]
        encoder_before = [w.numpy() for w in model.style_encoder.weights]
        mean, log_var = (np.asarray(t, np.float64) for t in model.style_encoder(batch.images))
        encoded = mean + np.exp(0.5 * log_var) * np.asarray(batch.noise[:, 0])
        redrawn = np.asarray(model.generate(encoded.astype("float32"), batch.labels, training=True))
        fake = np.asarray(model.generate(batch.noise[:, 1], batch.labels, training=True))
        fake_mean = np.asarray(model.style_encoder(fake)[0], np.float64)
        logs = model.generator_step(batch)
        real = np.asarray(batch.images, np.float64)
        weights = 1 + 2 * (1 - real) / 2  # ink (-1) counts 3, paper (1) counts 1
        expected_l1 = (weights * np.abs(redrawn - real)).sum(axis=(1, 2, 3)) / weights.sum(
            axis=(1, 2, 3)
        )
        expected_kl = 0.5 * (mean**2 + np.exp(log_var) - 1 - log_var).sum(axis=1)
        np.testing.assert_allclose(logs["reconstruction"], expected_l1, rtol=1e-4)
        np.testing.assert_allclose(logs["kl"], expected_kl, rtol=1e-4)
        expected_latent = np.abs(fake_mean - np.asarray(batch.noise[:, 1])).mean(axis=1)
        np.testing.assert_allclose(logs["latent"], expected_latent, rtol=1e-4)
        # One optimizer trains G and E together.
        assert any(
            not np.array_equal(a, b.numpy())
            for a, b in zip(generator_before, model.generator.weights)
        )
        assert any(
            not np.array_equal(a, b.numpy())
            for a, b in zip(encoder_before, model.style_encoder.weights)
        )

    def test_ink_weight_one_is_the_plain_l1_and_older_models_load_with_it(self):
        model = self.make()
        model.ink_weight = 1.0
        rng = np.random.default_rng(0)
        a, b = (rng.uniform(-1, 1, (2, 16, 16, 1)).astype("float32") for _ in range(2))
        np.testing.assert_allclose(
            model.reconstruction(a, b), np.abs(a - b).mean(axis=(1, 2, 3)), rtol=1e-5
        )
        saved_before = {k: v for k, v in self.make().get_config().items() if k != "ink_weight"}
        assert GlyphStyleGAN.from_config(saved_before).ink_weight == 1.0
        assert GlyphStyleGAN(num_classes=3).ink_weight == 4.0

    def test_style_of_a_few_glyphs_is_their_mean_code(self):
        model = self.make()
        images = np.random.default_rng(0).uniform(-1, 1, (4, 16, 16, 1)).astype("float32")
        mean, _ = model.style_encoder(images)
        np.testing.assert_allclose(model.style_of(images), np.mean(mean, axis=0), rtol=1e-6)
        assert model.style_of(images).shape == (6,)

    def test_samples_have_no_specks_and_training_sees_what_g_draws(self):
        model = self.make()
        z = np.random.default_rng(1).normal(size=(64, 6)).astype("float32")
        labels = np.arange(64) % 3
        generator = model.sampling_generator
        drawn = np.asarray(generator([z, labels], training=True))
        sampled = np.asarray(model.generate(z, labels))
        # The ink of every component above 2 px is kept as drawn, no smaller one is
        # left, and what changed became paper (a speck's gray halo too).
        np.testing.assert_array_equal(sampled < 0, despeckled(drawn, 2) < 0)
        assert ((sampled == drawn) | (sampled == 1.0)).all() and (sampled != drawn).any()
        assert GlyphStyleGAN(num_classes=3, image_size=64).generator.get_layer("images").area == 4


def despeckled(images, area):
    """`images` with every 8-connected ink component of at most `area` pixels white."""
    out = images.copy()
    for image in out[..., 0]:
        labelled, _ = ndimage.label(image < 0, structure=np.ones((3, 3)))
        small = np.bincount(labelled.ravel()) <= area
        small[0] = False
        image[small[labelled]] = 1.0
    return out


def test_despeckle_paints_over_small_components_and_keeps_strokes():
    rng = np.random.default_rng(0)
    images = np.ones((64, 32, 32, 1), np.float32)
    for image in images[..., 0]:
        for _ in range(3):  # strokes, 1 to 3 px wide
            row, col = rng.integers(0, 28, 2)
            image[row : row + rng.integers(5, 20), col : col + rng.integers(1, 4)] = -1.0
        for _ in range(4):  # specks of 1 to 6 px, some touching strokes
            row, col = rng.integers(0, 31, 2)
            image[row : row + rng.integers(1, 3), col : col + rng.integers(1, 4)] = -0.4
    layer = Despeckle(4)
    cleaned = np.asarray(layer(images))
    assert not np.array_equal(cleaned, images)
    np.testing.assert_array_equal(cleaned, despeckled(images, 4))
    np.testing.assert_array_equal(np.asarray(layer(images, training=True)), images)
    np.testing.assert_array_equal(np.asarray(Despeckle(0)(images)), images)
    # A speck's halo (gray, not ink) goes with it; a stroke's stays.
    halo = np.ones((1, 12, 24, 1), np.float32)
    halo[0, 4:7, 4:7, 0], halo[0, 5, 5, 0] = 0.5, -0.8
    halo[0, 2:11, 14:19, 0], halo[0, 3:10, 15:18, 0] = 0.5, -0.9
    cleaned = np.asarray(layer(halo))
    assert (cleaned[0, :, :12] == 1.0).all()
    np.testing.assert_array_equal(cleaned[0, :, 12:], halo[0, :, 12:])


LABELS = ["永", "A", "b"]


def style_model():
    model = TestGlyphStyleGAN().make()
    return model


def paper_glyphs(count, seed=0):
    """uint8 (count, 16, 16, 1) glyph-like images: white paper, dark strokes."""
    rng = np.random.default_rng(seed)
    images = np.full((count, 16, 16, 1), 255, np.uint8)
    for image in images:
        row, col = rng.integers(2, 10, 2)
        image[row : row + 5, col : col + 2] = rng.integers(0, 60)
    return images


def test_the_style_signature_round_trips_and_is_served(tmp_path):
    import grpc
    import tensorflow as tf
    from tensorflow_serving.apis import prediction_service_pb2_grpc

    from keras_gan.export import export_generator
    from keras_gan.sampling import ModelSampler
    from keras_gan.sampling import load_sampler
    from keras_gan_serving.server import ModelServer
    from tests.serving.test_server import predict_request

    model = style_model()
    base = tmp_path / "saved_models"
    export_generator(model, base / "styled", labels=LABELS, config={"model": "glyph_style_gan"})
    glyphs, labels = paper_glyphs(4), [0, 2, 2]
    local = ModelSampler(model, LABELS, "glyph_style_gan").generate_in_style(glyphs, labels)
    exported = load_sampler(base / "styled")
    assert exported.meta["signatures"]["style"] == ["style_images", "labels"]
    np.testing.assert_array_equal(exported.generate_in_style(glyphs, labels), local)
    # One style for every label: the code is the mean over the glyphs, whatever their order.
    np.testing.assert_array_equal(exported.generate_in_style(glyphs[::-1], labels)[0], local[0])
    assert not np.array_equal(exported.generate_in_style(paper_glyphs(4, 1), labels), local)
    with ModelServer(base, port=0, rest_port=0) as server:
        channel = grpc.insecure_channel(f"127.0.0.1:{server.port}")
        stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
        request = predict_request(
            model="styled", signature="style", style_images=glyphs, labels=np.int32(labels)
        )
        answer = stub.Predict(request, timeout=60)
        np.testing.assert_array_equal(tf.make_ndarray(answer.outputs["images"]), local)
        empty = predict_request(
            model="styled",
            signature="style",
            style_images=np.zeros((0, 16, 16, 1), np.uint8),
            labels=np.int32([0]),
        )
        with pytest.raises(grpc.RpcError) as error:
            stub.Predict(empty, timeout=60)
        assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "style_images holds no glyph" in error.value.details()
        again = stub.Predict(request, timeout=60)  # the server stays up
        np.testing.assert_array_equal(tf.make_ndarray(again.outputs["images"]), local)
        channel.close()


def test_style_glyphs_from_a_named_face_or_a_folder_with_named_errors(tmp_path, installed):
    from PIL import Image

    from keras_gan.data.base import DataError
    from keras_gan.sampling import ModelSampler
    from keras_gan.sampling import save_styled
    from keras_gan.sampling import style_glyphs
    from tests.installed_fonts import KAI

    sampler = ModelSampler(style_model(), LABELS, "glyph_style_gan")
    kai = style_glyphs(sampler, style=KAI)
    assert kai.shape == (3, 16, 16, 1) and kai.dtype == np.uint8 and kai.min() < 128
    with pytest.raises(DataError, match="no font face matches 'No Such Face'"):
        style_glyphs(sampler, style="No Such Face")
    with pytest.raises(ValueError, match="give one of --style NAME and --style-from DIR"):
        style_glyphs(sampler)
    folder = tmp_path / "mine"
    folder.mkdir()
    with pytest.raises(DataError, match="holds no usable glyph image"):
        style_glyphs(sampler, style_from=folder)
    Image.fromarray(np.full((8, 8), 0, np.uint8)).save(folder / "永.png")  # too small
    with pytest.raises(DataError, match="smaller than 16 px"):
        style_glyphs(sampler, style_from=folder)
    Image.fromarray(paper_glyphs(1)[0, ..., 0]).convert("RGB").resize((48, 40)).save(
        folder / "A.png"
    )
    mine = style_glyphs(sampler, style_from=folder)
    assert mine.shape == (1, 16, 16, 1)  # any size and mode, fitted to the model's cell
    written = save_styled(sampler, mine, tmp_path / "out", labels="永b")
    assert [p.name for p in written] == ["style-永.png", "style-b.png"]
    grid = save_styled(sampler, kai, tmp_path / "row.png", labels="Ab", as_grid=True)
    assert Image.open(grid[0]).size[0] > Image.open(grid[0]).size[1]  # one row
