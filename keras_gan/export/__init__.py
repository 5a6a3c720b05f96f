"""Export trained generators (SavedModel in TF Serving's layout)."""

from keras_gan.export.saved_model import export_generator

__all__ = ["export_generator"]
