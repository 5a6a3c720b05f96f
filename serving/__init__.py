"""Serving side of keras-gan (installed as `keras_gan_serving`).

Exported generators follow TF Serving's layout and signatures (see
`keras_gan.export`); the gRPC/REST server and client live here.
"""
