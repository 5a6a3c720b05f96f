"""Training callbacks."""

from keras_gan.callbacks.monitor import RunMonitor

__all__ = ["RunMonitor"]
