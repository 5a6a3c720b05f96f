"""LSGAN (Mao et al. 2017): the DCGAN networks trained with the least-squares loss."""

import keras

from keras_gan.models.dcgan import DCGAN
from keras_gan.registry import MODELS


@MODELS.register("lsgan")
@keras.saving.register_keras_serializable("keras_gan")
class LSGAN(DCGAN):
    """Unconditional DCGAN networks; D regresses real to 1 and fake to 0 (a, b, c = 0, 1, 1).

    The least-squares loss penalises samples far on the correct side of the decision
    boundary too, which gives G gradients where the sigmoid loss saturates. Adam 2e-4,
    beta_1 0.5, as in the paper. Arguments as `DCGAN`.
    """

    default_loss = "least_squares"
