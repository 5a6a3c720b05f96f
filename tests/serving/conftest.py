"""Served models for the serving tests: the shipped glyph model and an unconditional DCGAN."""

import shutil
from pathlib import Path

import pytest

SHIPPED = Path(__file__).parents[2] / "saved_models" / "glyphs"


def publish(version_dir: Path, model_dir: Path, version: int) -> Path:
    """Copies a version in the way exports appear: a hidden folder, then one rename."""
    staging = model_dir / f".staging-{version}"
    shutil.copytree(version_dir, staging)
    return staging.rename(model_dir / str(version))


@pytest.fixture(scope="session")
def model_base(tmp_path_factory):
    """saved_models/ with `glyphs` (conditional, 172 characters) and `plain` (DCGAN)."""
    from keras_gan.export import export_generator
    from keras_gan.models.dcgan import DCGAN

    base = tmp_path_factory.mktemp("served") / "saved_models"
    (base / "glyphs").mkdir(parents=True)
    publish(SHIPPED / "1", base / "glyphs", 1)
    plain = DCGAN(latent_dim=8, image_size=16, channels=3, filters=4)
    export_generator(plain, base / "plain", config={"model": "dcgan"})
    return base
