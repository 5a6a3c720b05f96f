"""Served models for the serving tests: the shipped glyph model and an unconditional DCGAN."""

from pathlib import Path

import grpc
import pytest
from tensorflow_serving.apis import prediction_service_pb2_grpc

from keras_gan.export import publish
from keras_gan_serving.server import Limits
from keras_gan_serving.server import ModelServer

SHIPPED = Path(__file__).parents[2] / "saved_models" / "glyphs"


@pytest.fixture(scope="session")
def model_base(tmp_path_factory):
    """saved_models/ with `glyphs` (conditional, 172 characters) and `plain` (DCGAN)."""
    from keras_gan.export import export_generator
    from keras_gan.export.layout import newest_version
    from keras_gan.models.dcgan import DCGAN

    base = tmp_path_factory.mktemp("served") / "saved_models"
    publish(newest_version(SHIPPED), base / "glyphs", 1)
    plain = DCGAN(latent_dim=8, image_size=16, channels=3, filters=4)
    export_generator(plain, base / "plain", config={"model": "dcgan"})
    return base


@pytest.fixture(scope="module")
def server(model_base):
    """`model_base` served over gRPC and REST on free ports, at most 16 rows a request."""
    with ModelServer(model_base, port=0, rest_port=0, limits=Limits(max_batch=16)) as running:
        yield running


@pytest.fixture(scope="module")
def stub(server):
    channel = grpc.insecure_channel(f"127.0.0.1:{server.port}")
    yield prediction_service_pb2_grpc.PredictionServiceStub(channel)
    channel.close()
