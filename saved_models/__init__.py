"""The models keras-gan ships, installed as package data (see keras_gan.shipped)."""
