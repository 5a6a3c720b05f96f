"""Serving side of keras-gan (installed as `keras_gan_serving`).

Exported generators use TF Serving's folder layout and signatures (see
`keras_gan.export`), so `tensorflow_model_server --model_base_path=saved_models/NAME`
serves them as they are.
"""
