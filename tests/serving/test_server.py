"""`kgan serve` over real gRPC and HTTP sockets, called with the tensorflow-serving-api stubs."""

import base64
import io
import json
import threading
import time
import urllib.error
import urllib.request

import grpc
import numpy as np
import pytest
import tensorflow as tf
from google.protobuf import wrappers_pb2
from PIL import Image
from tensorflow.core.framework import tensor_pb2
from tensorflow.core.framework import types_pb2
from tensorflow_serving.apis import get_model_metadata_pb2
from tensorflow_serving.apis import get_model_status_pb2
from tensorflow_serving.apis import model_service_pb2_grpc
from tensorflow_serving.apis import predict_pb2

from keras_gan import sampling
from keras_gan.export import publish
from keras_gan.noise import noise_for_seeds
from keras_gan_serving.client import GeneratorClient
from keras_gan_serving.client import RemoteSampler
from keras_gan_serving.client import ServingError
from keras_gan_serving.rest import RestServer
from keras_gan_serving.server import Limits
from keras_gan_serving.server import ModelServer

LATENT = 16  # z of the shipped glyphs model (saved_models/glyphs)


def predict_request(model="glyphs", signature="", version=None, **inputs):
    request = predict_pb2.PredictRequest()
    request.model_spec.name = model
    request.model_spec.signature_name = signature
    if version is not None:
        request.model_spec.version.value = version
    for key, value in inputs.items():
        request.inputs[key].CopyFrom(
            value if isinstance(value, tensor_pb2.TensorProto) else tf.make_tensor_proto(value)
        )
    return request


def rest(server, path, body=None, raw=None):
    """(HTTP status, JSON answer) of a REST call."""
    data = raw if raw is not None else None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(f"http://127.0.0.1:{server.rest_port}{path}", data=data)
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def test_grpc_predict_gives_the_saved_model_images(server, stub, model_base):
    local = sampling.load_sampler(model_base / "glyphs")
    z = noise_for_seeds([3, 4], LATENT).numpy()
    labels = np.array([0, 130], np.int32)
    response = stub.Predict(predict_request(z=z, labels=labels), timeout=30)
    assert response.model_spec.name == "glyphs" and response.model_spec.version.value == 1
    assert response.model_spec.signature_name == "serving_default"
    images = tf.make_ndarray(response.outputs["images"])
    assert images.dtype == np.uint8 and images.shape == (2, 64, 64, 1)
    np.testing.assert_array_equal(images, local.generate_from_noise(z, labels))

    response = stub.Predict(
        predict_request(signature="generate", seed=np.array([3, 4]), labels=labels), timeout=30
    )
    generated = tf.make_ndarray(response.outputs["images"])
    np.testing.assert_array_equal(generated, images)  # generate(seed) == serving_default(z(seed))
    png = tf.make_ndarray(response.outputs["png_bytes"])[1]
    np.testing.assert_array_equal(np.asarray(Image.open(io.BytesIO(png)))[..., None], images[1])

    request = predict_request(signature="generate", seed=np.array([3]), labels=labels[:1])
    request.output_filter.append("png_bytes")
    only_png = stub.Predict(request, timeout=30)
    assert list(only_png.outputs) == ["png_bytes"]


def test_rest_row_and_column_formats_match_grpc(server, stub):
    seeds, labels = [5, 6], [2, 3]
    expected = tf.make_ndarray(
        stub.Predict(
            predict_request(signature="generate", seed=np.array(seeds), labels=np.int32(labels)),
            timeout=30,
        ).outputs["images"]
    )
    rows = [{"seed": s, "labels": k} for s, k in zip(seeds, labels)]
    status, answer = rest(
        server, "/v1/models/glyphs:predict", {"signature_name": "generate", "instances": rows}
    )
    assert status == 200
    np.testing.assert_array_equal(np.array([p["images"] for p in answer["predictions"]]), expected)
    png = base64.b64decode(answer["predictions"][0]["png_bytes"]["b64"])
    np.testing.assert_array_equal(np.asarray(Image.open(io.BytesIO(png)))[..., None], expected[0])

    status, answer = rest(
        server,
        "/v1/models/glyphs/versions/1:predict",
        {"signature_name": "generate", "inputs": {"seed": seeds, "labels": labels}},
    )
    assert status == 200
    np.testing.assert_array_equal(np.array(answer["outputs"]["images"]), expected)

    # A one-input signature takes bare rows and answers bare predictions.
    z = noise_for_seeds([1], 8).numpy()
    status, answer = rest(server, "/v1/models/plain:predict", {"instances": z.tolist()})
    assert status == 200 and np.array(answer["predictions"]).shape == (1, 16, 16, 3)
    expected = tf.make_ndarray(stub.Predict(predict_request("plain", z=z)).outputs["images"])
    np.testing.assert_array_equal(np.array(answer["predictions"]), expected)


def test_metadata_and_status(server, stub):
    request = get_model_metadata_pb2.GetModelMetadataRequest(metadata_field=["signature_def"])
    request.model_spec.name = "glyphs"
    response = stub.GetModelMetadata(request, timeout=30)
    signatures = get_model_metadata_pb2.SignatureDefMap()
    response.metadata["signature_def"].Unpack(signatures)
    assert set(signatures.signature_def) == {"serving_default", "generate", "style"}
    generate = signatures.signature_def["generate"]
    assert generate.inputs["seed"].dtype == types_pb2.DT_INT64
    assert generate.outputs["png_bytes"].dtype == types_pb2.DT_STRING

    request = get_model_metadata_pb2.GetModelMetadataRequest(metadata_field=["kgan"])
    request.model_spec.name = "glyphs"
    text = wrappers_pb2.StringValue()
    stub.GetModelMetadata(request, timeout=30).metadata["kgan"].Unpack(text)
    assert json.loads(text.value)["labels"][:4] == list("永字八法")

    with pytest.raises(grpc.RpcError) as error:
        stub.GetModelMetadata(
            get_model_metadata_pb2.GetModelMetadataRequest(
                model_spec=request.model_spec, metadata_field=["graph"]
            ),
            timeout=30,
        )
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT

    channel = grpc.insecure_channel(f"127.0.0.1:{server.port}")
    status = model_service_pb2_grpc.ModelServiceStub(channel).GetModelStatus(
        get_model_status_pb2.GetModelStatusRequest(model_spec=request.model_spec), timeout=30
    )
    channel.close()
    [version] = status.model_version_status
    assert version.version == 1
    assert version.state == get_model_status_pb2.ModelVersionStatus.AVAILABLE

    assert rest(server, "/v1/models/glyphs") == (
        200,
        {
            "model_version_status": [
                {
                    "version": "1",
                    "state": "AVAILABLE",
                    "status": {"error_code": "OK", "error_message": ""},
                }
            ]
        },
    )
    status, answer = rest(server, "/v1/models/glyphs/metadata")
    assert status == 200 and answer["model_spec"]["version"] == "1"
    assert set(answer["metadata"]["signature_def"]["signature_def"]) == {
        "serving_default",
        "generate",
        "style",
    }
    assert answer["metadata"]["kgan"]["latent_dim"] == 16


@pytest.mark.parametrize(
    "spec, message",
    [
        ({"model": "nope"}, "model 'nope' is not served"),
        ({"version": 7}, "no available version 7"),
        ({"signature": "classify"}, "has no signature 'classify'"),
    ],
)
def test_unknown_model_version_or_signature_is_not_found(stub, spec, message):
    request = predict_request(**spec, z=np.zeros((1, LATENT), np.float32), labels=np.int32([0]))
    with pytest.raises(grpc.RpcError) as error:
        stub.Predict(request, timeout=30)
    assert error.value.code() == grpc.StatusCode.NOT_FOUND
    assert message in error.value.details()


def test_rest_not_found_answers_404(server):
    assert rest(server, "/v1/models/nope")[0] == 404
    assert rest(server, "/v1/models/glyphs/versions/9/metadata")[0] == 404
    assert rest(server, "/v1/models/glyphs/labels/stable")[0] == 404
    assert rest(server, "/v2/whatever")[0] == 404


def huge_proto():
    """22 bytes that declare a float tensor of 2**62 elements."""
    proto = tensor_pb2.TensorProto(dtype=types_pb2.DT_FLOAT)
    proto.tensor_shape.dim.add(size=2**31)
    proto.tensor_shape.dim.add(size=2**31)
    return proto


def short_proto():
    proto = tensor_pb2.TensorProto(dtype=types_pb2.DT_FLOAT)
    proto.tensor_shape.dim.add(size=2)
    proto.tensor_shape.dim.add(size=LATENT)
    proto.float_val.extend([0.5] * 7)
    return proto


Z = np.zeros((1, LATENT), np.float32)
L = np.int32([0])
Z_JSON = json.dumps(Z.tolist()).encode()


@pytest.mark.parametrize(
    "inputs, message",
    [
        (
            {"z": Z.astype(np.float64), "labels": L},
            "input 'z' is float64; the signature expects float32[None, 16]",
        ),
        ({"z": Z[0], "labels": L}, "input 'z' has shape [16]; the signature expects"),
        ({"z": np.zeros((1, 31), np.float32), "labels": L}, "has shape [1, 31]"),
        ({"z": huge_proto(), "labels": L}, "has shape [2147483648, 2147483648]"),
        (
            {"z": short_proto(), "labels": np.int32([0, 0])},
            "declares shape [2, 16] (32 values) but carries 7",
        ),
        ({"z": Z, "labels": np.int32([172])}, "ids outside 0..171"),
        ({"z": Z, "labels": np.int32([-1])}, "ids outside 0..171"),
        ({"z": np.full((1, LATENT), np.nan, np.float32), "labels": L}, "NaN or infinite"),
        ({"z": np.zeros((17, LATENT), np.float32), "labels": np.zeros(17, np.int32)}, "at most 16"),
        ({"z": np.zeros((2, LATENT), np.float32), "labels": L}, "different batch sizes"),
        ({"z": Z, "labels": L, "style": L}, "unknown input(s) style"),
        ({"z": Z}, "missing input(s) labels"),
        ({}, "missing input(s) labels, z"),
    ],
)
def test_malformed_requests_are_invalid_argument_and_the_server_stays_up(
    stub, model_base, inputs, message
):
    with pytest.raises(grpc.RpcError) as error:
        stub.Predict(predict_request(**inputs), timeout=30)
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert message in error.value.details()
    assert str(model_base) not in error.value.details() and "/" not in error.value.details()
    ok = stub.Predict(predict_request(z=Z, labels=L), timeout=30)
    assert tf.make_ndarray(ok.outputs["images"]).shape == (1, 64, 64, 1)


def test_an_empty_grpc_message_is_invalid_argument(server):
    channel = grpc.insecure_channel(f"127.0.0.1:{server.port}")
    call = channel.unary_unary("/tensorflow.serving.PredictionService/Predict")
    with pytest.raises(grpc.RpcError) as error:
        call(b"", timeout=30)
    channel.close()
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "model_spec.name is required" in error.value.details()


@pytest.mark.parametrize(
    "raw, message",
    [
        (b"{not json", "not valid JSON"),
        (b"[1, 2]", "must be a JSON object"),
        (b'{"instances": []}', "non-empty list"),
        (b'{"instances": [1], "inputs": {}}', "exactly one of"),
        (b'{"inputs": {"z": [[0.5, 0.5], [0.5]], "labels": [0, 0]}}', "ragged"),
        (b'{"inputs": {"z": [["a"]], "labels": [0]}}', "non-numbers"),
        (b'{"inputs": {"z": %s, "labels": [0.5]}}' % Z_JSON, "fractions"),
        (b'{"inputs": {"z": %s, "labels": [99999999999]}}' % Z_JSON, "outside the int32 range"),
        (b'{"signature_name": 3, "inputs": {}}', "signature_name must be a string"),
        (b"[" * 100000 + b"]" * 100000, "not valid JSON"),
    ],
)
def test_rest_bad_bodies_answer_400(server, raw, message):
    status, answer = rest(server, "/v1/models/glyphs:predict", raw=raw)
    assert status == 400 and message in answer["error"], answer


def test_rest_rejects_an_oversized_body(model_base):
    limits = Limits(max_message_bytes=1000)
    with ModelServer(model_base / "plain", port=0, rest_port=0, limits=limits) as small:
        status, answer = rest(small, "/v1/models/plain:predict", raw=b" " * 2000)
        assert status == 400 and "over this server's limit of 1000" in answer["error"]
        with GeneratorClient(f"127.0.0.1:{small.port}", "plain") as client:
            with pytest.raises(ServingError) as error:
                client.predict({"z": np.zeros((64, 8), np.float32)})
            assert error.value.code == "RESOURCE_EXHAUSTED"  # gRPC's receive limit


def test_client_over_grpc_and_rest_and_remote_sampler(server, tmp_path):
    for protocol, port in (("grpc", server.port), ("rest", server.rest_port)):
        with GeneratorClient(f"127.0.0.1:{port}", "glyphs", protocol=protocol) as client:
            images, pngs = client.generate([0, 1], [0, 1], pngs=True)
            assert images.dtype == np.uint8 and images.shape == (2, 64, 64, 1)
            assert pngs[0].startswith(b"\x89PNG")
            assert client.status() == [{"version": 1, "state": "AVAILABLE", "error": ""}]
            with pytest.raises(ServingError, match="INVALID_ARGUMENT: input 'labels' holds ids"):
                client.generate([0], [500])
            sampler = RemoteSampler(client)
            written = sampling.save_samples(sampler, [0], tmp_path / protocol, "永A")
            assert [p.name for p in written] == ["seed0000-永.png", "seed0000-A.png"]
    with pytest.raises(ValueError, match="not HOST:PORT"):
        GeneratorClient("localhost", "glyphs")


def test_the_rest_client_keeps_its_connection_and_renews_one_the_server_closed(
    model_base, monkeypatch
):
    """One TCP connection for many calls (a new one per call costs more than a small
    model's answer); when the server has closed it for idling, the next call reconnects."""
    connections = []
    original = RestServer.process_request
    monkeypatch.setattr(
        RestServer,
        "process_request",
        lambda self, *args: connections.append(1) or original(self, *args),
    )
    # Also how long a kept-alive connection may idle: long enough that a loaded machine
    # (a 0.5 s limit failed once beside a training) does not close it between calls.
    limits = Limits(request_seconds=2.0)
    with ModelServer(model_base, port=0, rest_port=0, limits=limits) as running:
        with GeneratorClient(f"127.0.0.1:{running.rest_port}", "glyphs", protocol="rest") as client:
            first = [client.generate([seed], [1]) for seed in range(3)]
            assert len(connections) == 1
            time.sleep(3.0)
            np.testing.assert_array_equal(client.generate([0], [1]), first[0])
            assert len(connections) == 2


def test_several_versions_and_a_specific_one(model_base, tmp_path):
    base = tmp_path / "glyphs"  # one model's folder as the base path
    publish(model_base / "glyphs" / "1", base, 4)
    publish(model_base / "glyphs" / "1", base, 9)
    with ModelServer(base, port=0, rest_port=None, num_versions=2) as running:
        assert running.repository.models() == ["glyphs"]
        for version in (4, 9, None):
            with GeneratorClient(f"127.0.0.1:{running.port}", "glyphs", version) as client:
                assert client.generate([1], [1]).shape == (1, 64, 64, 1)
        with GeneratorClient(f"127.0.0.1:{running.port}", "glyphs", 5) as client:
            with pytest.raises(ServingError, match="NOT_FOUND.*available: 4, 9"):
                client.generate([1], [1])


def test_busy_server_sheds_load_and_the_client_retries(model_base, monkeypatch):
    import keras_gan_serving.client as client_module

    with ModelServer(
        model_base / "plain", port=0, rest_port=None, limits=Limits(max_concurrent=1, workers=4)
    ) as running:
        target = f"127.0.0.1:{running.port}"
        # The server's only slot, held on purpose: a GetModelStatus call that waits.
        held, free = threading.Event(), threading.Event()
        status = running.repository.status

        def waiting_status(*args, **kwargs):
            held.set()
            free.wait(60)
            return status(*args, **kwargs)

        def hold_the_slot():
            with GeneratorClient(target, "plain") as client:
                client.status()

        monkeypatch.setattr(running.repository, "status", waiting_status)
        holder = threading.Thread(target=hold_the_slot)
        holder.start()
        assert held.wait(60)
        with GeneratorClient(target, "plain", retries=0) as client:
            with pytest.raises(ServingError, match="RESOURCE_EXHAUSTED"):
                client.generate(list(range(16)))
        # A retrying client is refused too, backs off, and is answered once the slot
        # frees: freed when it backs off the first time.
        backoffs = []
        backoff = client_module._backoff

        def first_backoff_frees_the_slot(attempt):
            backoffs.append(attempt)
            free.set()
            backoff(attempt)

        monkeypatch.setattr(client_module, "_backoff", first_backoff_frees_the_slot)
        with GeneratorClient(target, "plain", retries=8) as client:
            assert client.generate(list(range(16))).shape == (16, 16, 16, 3)
        holder.join(timeout=60)
        assert backoffs and backoffs[0] == 0 and not holder.is_alive()


def test_tf_servings_other_methods_answer_unimplemented(server, stub):
    """README: Predict, GetModelMetadata and GetModelStatus are served; TF Serving's
    other methods answer UNIMPLEMENTED, and the server stays up."""
    from tensorflow_serving.apis import classification_pb2
    from tensorflow_serving.apis import inference_pb2
    from tensorflow_serving.apis import model_management_pb2
    from tensorflow_serving.apis import regression_pb2

    channel = grpc.insecure_channel(f"127.0.0.1:{server.port}")
    models = model_service_pb2_grpc.ModelServiceStub(channel)
    calls = [
        (stub.Classify, classification_pb2.ClassificationRequest()),
        (stub.Regress, regression_pb2.RegressionRequest()),
        (stub.MultiInference, inference_pb2.MultiInferenceRequest()),
        (models.HandleReloadConfigRequest, model_management_pb2.ReloadConfigRequest()),
    ]
    for method, request in calls:
        with pytest.raises(grpc.RpcError) as error:
            method(request, timeout=30)
        assert error.value.code() == grpc.StatusCode.UNIMPLEMENTED, method
    channel.close()
    z = noise_for_seeds([1], LATENT).numpy()
    response = stub.Predict(predict_request(z=z, labels=np.array([0], np.int32)), timeout=30)
    assert tf.make_ndarray(response.outputs["images"]).shape == (1, 64, 64, 1)  # still up


def test_the_client_reads_the_png_of_exports_before_the_bytes_rule(tmp_path):
    """Exports before TF Serving's `_bytes` rule named the PNG output `png`; the client
    (and so `kgan predict`) still reads it, over gRPC and REST."""

    class OldExport(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([None], tf.int64, name="seed")])
        def generate(self, seed):
            shades = tf.cast(seed * 40 % 256, tf.uint8)[:, None, None, None]
            images = tf.tile(shades, [1, 16, 16, 1])
            pngs = tf.map_fn(tf.io.encode_png, images, fn_output_signature=tf.string)
            return {"images": images, "png": pngs}

    module = OldExport()
    tf.saved_model.save(
        module, str(tmp_path / "old" / "1"), signatures={"generate": module.generate}
    )
    with ModelServer(tmp_path, port=0, rest_port=0) as running:
        for protocol, port in (("grpc", running.port), ("rest", running.rest_port)):
            with GeneratorClient(f"127.0.0.1:{port}", "old", protocol=protocol) as client:
                images, pngs = client.generate([1, 2], pngs=True)
                assert images.shape == (2, 16, 16, 1) and images[1, 0, 0, 0] == 80
                decoded = np.asarray(Image.open(io.BytesIO(pngs[1])))
                np.testing.assert_array_equal(decoded, images[1, ..., 0])
