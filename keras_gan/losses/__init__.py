"""Adversarial losses, registered by name in `LOSSES`."""

from keras_gan.losses.adversarial import AdversarialLoss
from keras_gan.losses.adversarial import get

__all__ = ["AdversarialLoss", "get"]
