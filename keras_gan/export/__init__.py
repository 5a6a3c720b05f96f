"""Exporting generators: SavedModel in TF Serving's layout, TFLite, publishing versions."""

from keras_gan.export.saved_model import export_generator
from keras_gan.export.saved_model import export_run
from keras_gan.export.saved_model import publish
from keras_gan.export.saved_model import write_generator

__all__ = ["export_generator", "export_run", "publish", "write_generator"]
