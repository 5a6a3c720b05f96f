"""The `kgan` command line (installed as `keras_gan_cli`)."""
