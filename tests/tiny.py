"""A tiny training config (16 px, 4 filters, 2 steps) shared by the tests that train."""

TINY = [
    "data.image_size=16",
    "model_kwargs.latent_dim=8",
    "model_kwargs.filters=4",
    "train.batch_size=8",
    "train.steps=2",
    "train.log_every=2",
    "train.sample_every=2",
    "train.checkpoint_every=2",
    "train.sample_seeds=1",
]
