"""`Regularization`: the stabilisers around a GAN's steps, declared once (no TensorFlow).

`GAN.compile(**settings)` takes these fields by name over the model's `default_compile`;
a run's config carries the settings it was given as `train.regularization` and passes
them through as they are.
"""

from __future__ import annotations

import dataclasses

# DiffAugment's operations (keras_gan.augment implements them).
OPERATIONS = ("translation", "cutout", "color")

# ADA's pipeline (Karras et al. 2020b, StyleGAN2-ADA's AugmentPipe), in the order it
# applies them: pixel blitting, general geometry, colour, image-space filtering (four
# frequency bands), corruptions. With the filter's bands and the rotation's two places
# (before and after anisotropic scaling) these are the paper's 18 transformations.
ADA_OPERATIONS = (
    "xflip", "rotate90", "xint",
    "scale", "rotate", "aniso", "xfrac",
    "brightness", "contrast", "lumaflip", "hue", "saturation",
    "imgfilter",
    "noise", "cutout",
)  # fmt: skip
_BLIT = {"xflip": 1, "rotate90": 1, "xint": 1}
_GEOM = {"scale": 1, "rotate": 1, "aniso": 1, "xfrac": 1}
_COLOR = {"brightness": 1, "contrast": 1, "lumaflip": 1, "hue": 1, "saturation": 1}
# StyleGAN2-ADA's --augpipe choices (probability multipliers per operation), and
# "glyphs": what keeps a character itself: no flips, no quarter turns, no luma flip
# (ink stays dark), rotations within +-10 degrees.
ADA_PIPELINES = {
    "blit": _BLIT,
    "geom": _GEOM,
    "color": _COLOR,
    "filter": {"imgfilter": 1},
    "noise": {"noise": 1},
    "cutout": {"cutout": 1},
    "bg": {**_BLIT, **_GEOM},
    "bgc": {**_BLIT, **_GEOM, **_COLOR},
    "bgcf": {**_BLIT, **_GEOM, **_COLOR, "imgfilter": 1},
    "bgcfn": {**_BLIT, **_GEOM, **_COLOR, "imgfilter": 1, "noise": 1},
    "bgcfnc": {**_BLIT, **_GEOM, **_COLOR, "imgfilter": 1, "noise": 1, "cutout": 1},
    "glyphs": {
        "xint": 1, **_GEOM, "brightness": 1, "contrast": 1, "imgfilter": 1, "noise": 1,
        "cutout": 1,
    },
}  # fmt: skip
GLYPH_ROTATE_MAX = 10 / 180  # of a half turn
# `ada:auto`: chosen from the data when the run is built (glyphs or any images).
AUTO = "ada:auto"


@dataclasses.dataclass(frozen=True)
class AugmentPolicy:
    """What D's augmentation does: DiffAugment's `operations`, or (`ada`) ADA's pipeline
    with a probability multiplier per operation and the rotation's range (1 = a full
    turn either way)."""

    operations: tuple[str, ...] = ()
    ada: bool = False
    multipliers: tuple[tuple[str, float], ...] = ()
    rotate_max: float = 1.0

    def multiplier(self, name: str) -> float:
        return dict(self.multipliers).get(name, 0.0)


def parse_policy(policy: str) -> AugmentPolicy:
    """`"translation,cutout,color"` (DiffAugment), `"ada:bgc"` (a pipeline of
    `ADA_PIPELINES`), `"ada:xint=1,rotate=0.5"` (ADA's operations with multipliers;
    `rotate_max=X` sets the rotation range), `"ada:auto"`; "" -> none."""
    policy = policy.replace(" ", "")
    if not policy.startswith("ada:"):
        names = tuple(p for p in policy.split(",") if p)
        unknown = [n for n in names if n not in OPERATIONS]
        if unknown:
            raise ValueError(
                f"augment policy has unknown operation(s) {', '.join(unknown)}; valid: "
                f"{', '.join(OPERATIONS)} (comma-separated), or ada:PIPELINE with PIPELINE "
                f"one of {', '.join(ADA_PIPELINES)}, auto, or ADA's operations"
            )
        return AugmentPolicy(operations=names)
    spec = policy[len("ada:") :]
    if spec == "auto":
        return AugmentPolicy(ada=True)
    if spec in ADA_PIPELINES:
        rotate_max = GLYPH_ROTATE_MAX if spec == "glyphs" else 1.0
        return AugmentPolicy(
            ada=True, multipliers=tuple(ADA_PIPELINES[spec].items()), rotate_max=rotate_max
        )
    multipliers, rotate_max = {}, 1.0
    for item in filter(None, spec.split(",")):
        name, _, value = item.partition("=")
        try:
            number = float(value) if value else 1.0
        except ValueError:
            raise ValueError(f"augment policy {policy!r}: {item!r} is not NAME=NUMBER") from None
        if name == "rotate_max":
            rotate_max = number
        elif name in ADA_OPERATIONS:
            multipliers[name] = number
        else:
            raise ValueError(
                f"augment policy {policy!r}: unknown ADA operation {name!r}; valid: "
                f"{', '.join(ADA_OPERATIONS)}, rotate_max, or a pipeline "
                f"({', '.join(ADA_PIPELINES)}, auto)"
            )
        if not number >= 0:
            raise ValueError(f"augment policy {policy!r}: {name} must be >= 0, got {number}")
    return AugmentPolicy(ada=True, multipliers=tuple(multipliers.items()), rotate_max=rotate_max)


def for_data(policy: str, glyphs: bool) -> str:
    """`ada:auto` made concrete for the data: `ada:glyphs` for characters, `ada:bgc`
    (the paper's default pipeline) for other images; any other policy as it is, but
    never flips or quarter turns of characters (a mirrored character is another one,
    or none)."""
    if policy.replace(" ", "") == AUTO:
        return "ada:glyphs" if glyphs else "ada:bgc"
    turned = [n for n in ("xflip", "rotate90") if parse_policy(policy).multiplier(n)]
    if glyphs and turned:
        raise ValueError(
            f"augment {policy!r} would {' and '.join(turned)} characters, which makes "
            "other characters or none; use ada:glyphs (or ada:auto) for glyph data"
        )
    return policy


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
        augment: augmentation of everything D sees: a DiffAugment policy, e.g.
            "translation,cutout,color", or ADA's pipeline, e.g. "ada:bgc",
            "ada:glyphs", "ada:auto" (see `parse_policy`, `keras_gan.augment`); "" = off.
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
        self.policy()  # checks it
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

    def policy(self) -> AugmentPolicy:
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
