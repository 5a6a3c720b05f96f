"""Named partial run configs (StyleGAN2-ADA's cfg_specs idea): `kgan fit --preset NAME`.

`RunConfig()` itself is the default job (`glyphs-64`): the glyph style GAN on 120
common hanzi plus A-Z a-z from every font found, 64x64 grayscale. The literature presets
carry the paper's hyperparameters (architecture, loss, optimizer, batch, critic
steps); their data stays the default glyphs unless `--dataset` says otherwise, so
the paper's numbers (CIFAR-10 unless stated) are a reference, not a prediction.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

from keras_gan.config import ConfigError


@dataclass(frozen=True)
class Preset:
    config: dict
    reference: str = ""


# The default size is 64 px: a preset named for 32 px says so.
AT_32 = {"data": {"image_size": 32}}
# The papers' batch; the default job takes 16.
PAPER_BATCH = {"batch_size": 64}

# StyleGAN2 config-f (StyleGAN2-ADA's `--cfg=stylegan2`): z and w 512, 8 mapping layers at
# learning-rate multiplier 0.01, 512 channels at every resolution up to 64 px, minibatch
# std groups of 4, batch 32, Adam 2e-3 betas (0, 0.99), EMA 10k images, mixing 0.9,
# path length 2 every 4 G steps, R1 every 16 D steps; the model's defaults hold the rest.
CONFIG_F = {"model_kwargs": {"latent_dim": 512, "filters": 512, "mapping_layers": 8}}
CONFIG_F_REFERENCE = (
    "Karras et al. 2020, arXiv:1912.04958, config-f as StyleGAN2-ADA's --cfg=stylegan2: "
    "equalized learning rate, FIR resampling, mapping 8 layers at lr x 0.01, 512 channels, "
    "path length 2 lazy every 4, R1 lazy every 16 with gamma 0.0002 res^2 / batch "
    "(StyleGAN2-ADA's rule for scaling gamma 10 at 1024 px down), Adam 2e-3 betas (0, "
    "0.99), EMA 10k images, mixing 0.9, batch 32"
)


def config_f_train(size: int) -> dict:
    return {"batch_size": 32, "r1_gamma": 0.0002 * size**2 / 32, "ema_kimg": 10.0}


def lite(**model_kwargs) -> dict:
    """StyleGAN2's CPU variant (`keras_gan.models.stylegan2.LITE`) with 2 mapping layers."""
    return {
        "mapping_layers": 2,
        "equalized_lr": False,
        "resample": "bilinear",
        "mapping_lr_multiplier": 1.0,
        "path_length_weight": 0.0,
        **model_kwargs,
    }


LITE_TRAIN = {"d_learning_rate": 2.5e-3, "g_learning_rate": 2.5e-3}

PRESETS: dict[str, Preset] = {
    "glyphs-32": Preset(
        AT_32,
        "keras-gan: the default glyph model at 32 px, for quick runs",
    ),
    "glyphs-64": Preset({}, "keras-gan default: glyph_style_gan, 64 px"),
    "latin-cdcgan-32": Preset(
        {
            "model": "cdcgan",
            "data": {"spec": "glyphs:letters", "image_size": 32},
            "model_kwargs": {"latent_dim": 64, "filters": 32},
        },
        "keras-gan: class-conditional DCGAN on A-Z a-z",
    ),
    "dcgan-synthetic-32": Preset(
        {
            "model": "dcgan",
            "data": {"spec": "synthetic:32x32x3", "image_size": 32, "channels": 3},
            "train": {"steps": 100},
        },
        "keras-gan: compute-only run on random images",
    ),
    "dcgan-32": Preset(
        {
            "model": "dcgan",
            **AT_32,
            "model_kwargs": {"latent_dim": 100, "filters": 128, "bias": False, "share_fake": True},
            "train": {"batch_size": 128},
        },
        "Radford et al. 2016, arXiv:1511.06434, as PyTorch's DCGAN example at 32 px: G "
        "100-512-256-128-C, D C-128-256-512-1, no biases, one G pass per step, BCE, Adam 2e-4 "
        "beta_1 0.5, batch 128",
    ),
    "lsgan-32": Preset(
        {
            "model": "lsgan",
            **AT_32,
            "model_kwargs": {"latent_dim": 100, "filters": 64},
            "train": PAPER_BATCH,
        },
        "Mao et al. 2017, arXiv:1611.04076: least squares (a=0, b=c=1), Adam 2e-4 beta_1 0.5, "
        "batch 64",
    ),
    "wgan-gp-32": Preset(
        {
            "model": "wgan_gp",
            **AT_32,
            "model_kwargs": {"latent_dim": 128, "filters": 64},
            "train": PAPER_BATCH,
        },
        "Gulrajani et al. 2017, arXiv:1704.00028: lambda 10, n_critic 5, Adam 1e-4 betas "
        "(0, 0.9), batch 64; reported CIFAR-10 Inception score 7.86 (ResNet)",
    ),
    "sngan-32": Preset(
        {
            "model": "sngan",
            **AT_32,
            "model_kwargs": {"latent_dim": 128, "filters": 128},
            "train": PAPER_BATCH,
        },
        "Miyato et al. 2018, arXiv:1802.05957: ResNet, hinge, n_dis 5, Adam 2e-4 betas "
        "(0, 0.9), batch 64; reported CIFAR-10 FID 21.7, Inception score 8.22",
    ),
    "cgan-pd-32": Preset(
        {
            "model": "cgan_pd",
            **AT_32,
            "model_kwargs": {"latent_dim": 128, "filters": 128},
            "train": PAPER_BATCH,
        },
        "Miyato & Koyama 2018, arXiv:1802.05637: projection D, conditional BN, hinge, "
        "n_dis 5, Adam 2e-4 betas (0, 0.9), batch 64 (paper: ImageNet 128 px)",
    ),
    "acgan-32": Preset(
        {
            "model": "acgan",
            **AT_32,
            "model_kwargs": {"latent_dim": 110, "filters": 64},
            "train": {"batch_size": 100},
        },
        "Odena et al. 2017, arXiv:1610.09585: auxiliary classifier, z 110, batch 100; "
        "reported CIFAR-10 Inception score 8.25",
    ),
    "stylegan2-32": Preset(
        {"model": "stylegan2", **AT_32, **CONFIG_F, "train": config_f_train(32)},
        CONFIG_F_REFERENCE + ", at 32 px",
    ),
    "stylegan2-64": Preset(
        {"model": "stylegan2", "data": {"image_size": 64}, **CONFIG_F, "train": config_f_train(64)},
        CONFIG_F_REFERENCE + ", at 64 px",
    ),
    "stylegan2-lite-32": Preset(
        {
            "model": "stylegan2",
            **AT_32,
            "model_kwargs": lite(latent_dim=128, filters=128),
            "train": {**LITE_TRAIN, **PAPER_BATCH},
        },
        "Karras et al. 2020, arXiv:2006.06676 (StyleGAN2-ADA's cifar setting, what "
        "stylegan2-32 was before the published parts): mapping 2 layers, Keras "
        "initialisers, bilinear resampling, no path-length term, R1 gamma 0.01 lazy every "
        "16, Adam 2.5e-3 betas (0, 0.99), EMA 10k images, style mixing 0.9, batch 64",
    ),
    "stylegan2-lite-64": Preset(
        {
            "model": "stylegan2",
            "data": {"image_size": 64},
            "model_kwargs": lite(latent_dim=128, filters=64),
            "train": {**LITE_TRAIN, "batch_size": 32},
        },
        "as stylegan2-lite-32 at 64 px (narrower, batch 32)",
    ),
    "glyphs-stylegan2-64": Preset(
        {
            "model": "stylegan2",
            "data": {"image_size": 64},
            "model_kwargs": lite(latent_dim=64, filters=32),
            "train": {
                **LITE_TRAIN,
                "batch_size": 32,
                "augment": "translation,cutout",
                "ada_target": 0.6,
            },
        },
        "keras-gan: class-conditional StyleGAN2 (lite) on the default glyphs at 64 px with "
        "ADA (translation and cutout only: glyph-safe)",
    ),
}


def get(name: str) -> dict:
    try:
        return copy.deepcopy(PRESETS[name].config)  # presets share parts (AT_32)
    except KeyError:
        raise ConfigError(f"unknown preset {name!r}; valid presets: {', '.join(PRESETS)}") from None
