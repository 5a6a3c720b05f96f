"""keras-gan: train, evaluate and ship GANs with Keras 3 on TensorFlow.

Public API:
    keras_gan.training.fit(config)          train from a RunConfig
    keras_gan.sampling.load_sampler(source) sample a run or an export by seed
    keras_gan.export.export_generator(...)  SavedModel in TF Serving's layout
"""

import os

# Keras 3 picks its backend at import; this package is built on TensorFlow.
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

__version__ = "0.1.0"
