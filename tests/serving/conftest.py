"""Served models for the serving tests: the shipped glyph model and an unconditional DCGAN."""

from pathlib import Path

import pytest

from keras_gan.export import publish

SHIPPED = Path(__file__).parents[2] / "saved_models" / "glyphs"


@pytest.fixture(scope="session")
def model_base(tmp_path_factory):
    """saved_models/ with `glyphs` (conditional, 172 characters) and `plain` (DCGAN)."""
    from keras_gan.export import export_generator
    from keras_gan.models.dcgan import DCGAN

    base = tmp_path_factory.mktemp("served") / "saved_models"
    publish(SHIPPED / "1", base / "glyphs", 1)
    plain = DCGAN(latent_dim=8, image_size=16, channels=3, filters=4)
    export_generator(plain, base / "plain", config={"model": "dcgan"})
    return base
