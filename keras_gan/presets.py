"""Named partial run configs (StyleGAN2-ADA's cfg_specs idea): `kgan fit --preset NAME`.

`RunConfig()` itself is the default job (`glyphs-32`): the glyph GAN on 120 common
hanzi plus A-Z a-z from every font found, 32x32 grayscale.
"""

from __future__ import annotations

from keras_gan.config import ConfigError

PRESETS: dict[str, dict] = {
    "glyphs-32": {},
    "glyphs-64": {
        "data": {"image_size": 64},
        "train": {"batch_size": 32},
        "model_kwargs": {"filters": 32},
    },
    "latin-cdcgan-32": {
        "model": "cdcgan",
        "data": {"spec": "glyphs:letters"},
        "model_kwargs": {"latent_dim": 64, "filters": 32},
    },
    "dcgan-synthetic-32": {
        "model": "dcgan",
        "data": {"spec": "synthetic:32x32x3", "channels": 3},
        "train": {"steps": 100},
    },
}


def get(name: str) -> dict:
    try:
        return PRESETS[name]
    except KeyError:
        raise ConfigError(f"unknown preset {name!r}; valid presets: {', '.join(PRESETS)}") from None
