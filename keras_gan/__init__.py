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
# oneDNN kernels: TensorFlow turns them on by itself only on CPUs with AVX-512 VNNI,
# BF16 or AMX; on AVX2 CPUs they still train the DCGAN 2x faster (bench/RESULTS.md).
# Read when TensorFlow loads, so import keras_gan first; TF_ENABLE_ONEDNN_OPTS=0 wins.
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")

__version__ = "0.1.0"
