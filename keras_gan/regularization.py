"""`Regularization`: the stabilisers around a GAN's steps, declared once (no TensorFlow).

`GAN.compile(**settings)` takes these fields by name over the model's `default_compile`;
a run's config carries the settings it was given as `train.regularization` and passes
them through as they are.
"""

from __future__ import annotations

import dataclasses

# DiffAugment's operations (keras_gan.augment implements them).
OPERATIONS = ("translation", "cutout", "color")


def parse_policy(policy: str) -> tuple[str, ...]:
    """`"translation,cutout,color"` -> the operations, checked; "" -> none."""
    names = tuple(p for p in policy.replace(" ", "").split(",") if p)
    unknown = [n for n in names if n not in OPERATIONS]
    if unknown:
        raise ValueError(
            f"augment policy has unknown operation(s) {', '.join(unknown)}; "
            f"valid: {', '.join(OPERATIONS)} (comma-separated)"
        )
    return names


@dataclasses.dataclass(frozen=True)
class Regularization:
    """Stabilisers of the discriminator step and the generator average.

    Args:
        gradient_penalty: WGAN-GP weight of `(|grad D(x_hat)| - 1)^2` on random
            interpolates of real and fake images (Gulrajani et al. 2017); 0 = off.
        r1_gamma, r2_gamma: weights of the zero-centred penalties `gamma/2 |grad D|^2`
            on real (R1) and fake (R2) images (Mescheder et al. 2018); 0 = off.
        r1_interval: lazy regularisation (Karras et al. 2020): the R1/R2 terms are
            computed every N discriminator steps, weighted by N.
        n_critic: discriminator steps per generator step.
        ema_kimg: half-life, in thousands of images, of an exponential moving
            average of the generator's weights (StyleGAN2-ADA's G_ema), used for
            sampling and export; 0 = off.
        augment: DiffAugment policy for everything D sees, e.g.
            "translation,cutout,color" (see `keras_gan.augment`); "" = off.
        ada_target: with `augment`, adapt the probability of each operation so
            that `E[sign(D(real))]` stays near this target (ADA uses 0.6); 0 = always.
        ada_kimg: images (in thousands) for the probability to move from 0 to 1.
    """

    gradient_penalty: float = 0.0
    r1_gamma: float = 0.0
    r2_gamma: float = 0.0
    r1_interval: int = 1
    n_critic: int = 1
    ema_kimg: float = 0.0
    augment: str = ""
    ada_target: float = 0.0
    ada_kimg: float = 100.0

    def __post_init__(self):
        for name in ("gradient_penalty", "r1_gamma", "r2_gamma", "ema_kimg"):
            if not float(getattr(self, name)) >= 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")
        for name in ("r1_interval", "n_critic"):
            value = getattr(self, name)
            if int(value) != value or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value}")
        self.operations()  # checks the policy
        if not 0 <= self.ada_target < 1:
            raise ValueError(f"ada_target must be in [0, 1) (0: no ADA), got {self.ada_target}")
        if self.ada_target and not self.augment:
            raise ValueError("ada_target needs an augment policy, e.g. translation,cutout,color")
        if not self.ada_kimg > 0:
            raise ValueError(f"ada_kimg must be > 0, got {self.ada_kimg}")

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in dataclasses.fields(cls))

    @classmethod
    def with_defaults(cls, defaults: dict, settings: dict) -> Regularization:
        """`settings` (names of this class; `None` = not given) over a model's `defaults`."""
        unknown = sorted(set(settings) - set(cls.names()))
        if unknown:
            raise ValueError(
                f"unknown regularisation setting(s) {', '.join(unknown)}; "
                f"valid: {', '.join(cls.names())}"
            )
        given = {name: value for name, value in settings.items() if value is not None}
        return cls(**{**defaults, **given})

    def changed(self) -> list[str]:
        """The settings that differ from the defaults (what is switched on)."""
        default = type(self)()
        return [
            f.name
            for f in dataclasses.fields(self)
            if getattr(self, f.name) != getattr(default, f.name)
        ]

    def operations(self) -> tuple[str, ...]:
        return parse_policy(self.augment)

    def log_names(self) -> tuple[str, ...]:
        active = {
            "gp": self.gradient_penalty,
            "r1": self.r1_gamma,
            "r2": self.r2_gamma,
            "augment_p": self.ada_target,
        }
        return tuple(name for name, weight in active.items() if weight)

    def d_noise_draws(self) -> int:
        """Per critic step: z, the WGAN-GP interpolation draw, augmentation of real and fake."""
        return 1 + bool(self.gradient_penalty) + 2 * bool(self.augment)
