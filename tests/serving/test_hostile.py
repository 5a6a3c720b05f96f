"""A served generator under hostile traffic: fuzzed requests, path tricks, tokens, load,
new versions published under load."""

import json
import logging
import os
import socket
import struct
import threading
import time
import urllib.request

import grpc
import numpy as np
import pytest
import tensorflow as tf
from hypothesis import HealthCheck
from hypothesis import event
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from tensorflow.core.framework import tensor_pb2
from tensorflow.core.framework import types_pb2
from tensorflow_serving.apis import get_model_status_pb2
from tensorflow_serving.apis import model_service_pb2_grpc
from tensorflow_serving.apis import predict_pb2
from tensorflow_serving.apis import prediction_service_pb2_grpc

from keras_gan.export import publish
from keras_gan_serving.client import GeneratorClient
from keras_gan_serving.client import ServingError
from keras_gan_serving.client import load
from keras_gan_serving.server import Limits
from keras_gan_serving.server import ModelServer
from tests.serving.test_server import predict_request
from tests.serving.test_server import rest

# What a malformed request may be answered with; INTERNAL or UNKNOWN would be a server bug.
REFUSALS = {
    grpc.StatusCode.INVALID_ARGUMENT,
    grpc.StatusCode.NOT_FOUND,
    grpc.StatusCode.RESOURCE_EXHAUSTED,
}
SECRET = "s3cret-token-0123456789"


def assert_leaks_nothing(details, model_base):
    assert str(model_base) not in details and "Traceback" not in details, details


# ----------------------------------------------------------------------------- fuzz

DTYPES = [
    types_pb2.DT_FLOAT,
    types_pb2.DT_DOUBLE,
    types_pb2.DT_HALF,
    types_pb2.DT_INT32,
    types_pb2.DT_INT64,
    types_pb2.DT_UINT8,
    types_pb2.DT_BOOL,
    types_pb2.DT_STRING,
    types_pb2.DT_INVALID,
    77,  # no such dtype
]


@st.composite
def tensor_protos(draw):
    proto = tensor_pb2.TensorProto(dtype=draw(st.sampled_from(DTYPES)))
    if draw(st.booleans()):
        proto.tensor_shape.unknown_rank = True
    for size in draw(st.lists(st.integers(-2, 2**40) | st.integers(0, 40), max_size=4)):
        proto.tensor_shape.dim.add(size=size)
    content = draw(st.integers(0, 4))
    if content == 1:
        proto.tensor_content = draw(st.binary(max_size=512))
    elif content == 2:
        proto.float_val.extend(draw(st.lists(st.floats(width=32), max_size=80)))
    elif content == 3:
        proto.int_val.extend(draw(st.lists(st.integers(-(2**31), 2**31 - 1), max_size=40)))
    elif content == 4:
        proto.string_val.extend(draw(st.lists(st.binary(max_size=16), max_size=4)))
    return proto


@st.composite
def valid_inputs(draw):
    """Well-formed inputs of the glyph model with fuzzed values (some out of range)."""
    batch = draw(st.integers(0, 17))
    z = np.random.default_rng(draw(st.integers(0, 2**32))).normal(size=(batch, 16))
    if batch and draw(st.integers(0, 9)) == 0:  # poisoned
        z[draw(st.integers(0, batch - 1)), 3] = draw(st.sampled_from([np.nan, np.inf, -np.inf]))
    labels = draw(st.lists(st.integers(-1, 172), min_size=batch, max_size=batch))
    return {
        "z": tf.make_tensor_proto(np.float32(z)),
        "labels": tf.make_tensor_proto(np.int32(labels).reshape(batch)),
    }


@st.composite
def predict_requests(draw):
    request = predict_pb2.PredictRequest()
    odd_names = ["plain", "", "..", "../glyphs", "glyphs/1", "a\\b", "nope"]
    common = st.sampled_from(["glyphs"] * 8 + odd_names)
    name = st.text() if draw(st.integers(0, 9)) == 0 else common
    request.model_spec.name = draw(name)
    request.model_spec.signature_name = draw(
        st.sampled_from(["", "", "", "serving_default", "generate", "nope"])
    )
    version = draw(st.sampled_from([None] * 6 + [0, 1, 2, 2**40]))
    if version is not None:
        request.model_spec.version.value = version
    if draw(st.integers(0, 2)):
        inputs = draw(valid_inputs())
    else:
        names = st.sampled_from(["z", "labels", "seed", "images", "x"])
        inputs = draw(st.dictionaries(names, tensor_protos(), max_size=3))
    for key, proto in inputs.items():
        request.inputs[key].CopyFrom(proto)
    request.output_filter.extend(
        draw(st.sampled_from([[], [], [], ["images"], ["nope"], ["images", "png_bytes"]]))
    )
    return request


@settings(
    max_examples=int(os.environ.get("KGAN_FUZZ_EXAMPLES", 300)),  # bench/reliability.py: more
    deadline=None,
    derandomize=True,  # the same requests in every CI run
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(request=predict_requests())
def test_fuzzed_grpc_requests_are_answered_or_refused_never_crash(stub, model_base, request):
    try:
        response = stub.Predict(request, timeout=30)
    except grpc.RpcError as error:
        event(error.code().name)  # pytest --hypothesis-show-statistics: the mix of answers
        assert error.code() in REFUSALS, (error.code(), error.details())
        assert_leaks_nothing(error.details(), model_base)
        return
    event("OK")
    batches = {tf.make_ndarray(t).shape[0] for t in request.inputs.values()}
    for output in response.outputs.values():
        assert tf.make_ndarray(output).shape[0] in batches


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from(["z", "labels", "seed", "b64"]), children, max_size=3)
    ),
    max_leaves=40,
)


@settings(
    max_examples=100,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    path=st.sampled_from(["glyphs", "plain", "..", "glyphs/versions/1", "nope"]),
    body=st.fixed_dictionaries(
        {},
        optional={
            "signature_name": st.sampled_from(["generate", "", "nope"]) | JSON_VALUES,
            "instances": JSON_VALUES,
            "inputs": JSON_VALUES,
        },
    ),
)
def test_fuzzed_rest_bodies_are_answered_or_refused_never_crash(server, model_base, path, body):
    status, answer = rest(server, f"/v1/models/{path}:predict", body)
    event(str(status))
    assert status in (200, 400, 404, 429), (status, answer)
    assert_leaks_nothing(json.dumps(answer), model_base)


def test_bytes_that_are_no_request_are_refused_as_invalid_not_internal(server, model_base):
    """Random bytes to every method: refused as the client's fault (before: 165 of 200
    got INTERNAL "Exception deserializing request!", grpc-python's own answer)."""
    rng = np.random.default_rng(0)
    methods = [
        "/tensorflow.serving.PredictionService/Predict",
        "/tensorflow.serving.PredictionService/GetModelMetadata",
        "/tensorflow.serving.ModelService/GetModelStatus",
    ]
    codes = {}
    with grpc.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        for i in range(200):
            call = channel.unary_unary(methods[i % len(methods)])  # raw bytes both ways
            payload = rng.integers(0, 256, rng.integers(1, 300), dtype=np.uint8).tobytes()
            try:
                call(payload, timeout=30)
                codes["OK"] = codes.get("OK", 0) + 1
            except grpc.RpcError as error:
                codes[error.code().name] = codes.get(error.code().name, 0) + 1
                assert error.code() in REFUSALS, (error.code(), error.details())
                assert_leaks_nothing(error.details(), model_base)
    assert codes.get("INVALID_ARGUMENT", 0) >= 100, codes


def test_the_server_still_serves_after_the_fuzz(stub):
    response = stub.Predict(predict_request(z=np.zeros((2, 16), np.float32), labels=[0, 1]))
    assert tf.make_ndarray(response.outputs["images"]).shape == (2, 64, 64, 1)


# ----------------------------------------------------------------------------- slow clients


def open_connections(port: int, count: int) -> list:
    return [socket.create_connection(("127.0.0.1", port), timeout=30) for _ in range(count)]


def closed_by_server(sock, within: float) -> bool:
    """Whether the server hangs up on `sock` within `within` seconds (EOF or reset)."""
    sock.settimeout(within)
    try:
        while sock.recv(4096):
            pass
        return True
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False


def test_idle_and_byte_at_a_time_clients_do_not_stop_the_others(model_base):
    """500 idle connections and 50 slowloris clients (a byte every 0.2 s, never finishing
    the headers) while a normal client is answered; the server cuts both kinds off once
    a request has had `request_seconds`, and its threads come back down."""
    limits = Limits(max_batch=16, request_seconds=2.0)
    with ModelServer(model_base, port=0, rest_port=0, limits=limits) as server:
        threads_before = threading.active_count()
        idle = open_connections(server.rest_port, 500)
        slow = open_connections(server.rest_port, 50)
        line = b"POST /v1/models/plain:predict HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"a" * 100
        stop = threading.Event()
        cut = []

        def drip(sock):
            for byte in line:
                if stop.is_set():
                    return
                try:
                    sock.sendall(bytes([byte]))
                except OSError:  # the server hung up
                    cut.append(sock)
                    return
                time.sleep(0.2)

        drippers = [threading.Thread(target=drip, args=(s,), daemon=True) for s in slow]
        for thread in drippers:
            thread.start()
        body = {"instances": [{"z": [0.0] * 8}]}
        started = time.monotonic()
        for _ in range(5):  # served while the others hold their connections
            status, answer = rest(server, "/v1/models/plain:predict", body)
            assert status == 200 and len(answer["predictions"]) == 1
        assert time.monotonic() - started < 20
        assert all(closed_by_server(s, 10.0) for s in idle[:20])  # cut at about 2 s
        for thread in drippers:
            thread.join(timeout=30)
        stop.set()
        assert len(cut) + sum(closed_by_server(s, 5.0) for s in slow if s not in cut) == 50
        for sock in idle + slow:
            sock.close()
        wait_until(lambda: threading.active_count() <= threads_before + 2, "threads released")


def http2_frame(kind: int, flags: int, stream: int, payload: bytes) -> bytes:
    header = struct.pack(">I", len(payload))[1:] + bytes([kind, flags]) + struct.pack(">I", stream)
    return header + payload


def never_reading_predict(port: int, request) -> socket.socket:
    """A gRPC Predict call from a client that never reads its answer: HTTP/2 by hand,
    with a stream window of 0 (SETTINGS_INITIAL_WINDOW_SIZE), so the server may send
    headers but no byte of the answer."""
    headers = b"".join(
        b"\x00" + bytes([len(name)]) + name + bytes([len(value)]) + value  # HPACK literal
        for name, value in [
            (b":method", b"POST"),
            (b":scheme", b"http"),
            (b":path", b"/tensorflow.serving.PredictionService/Predict"),
            (b":authority", b"localhost"),
            (b"content-type", b"application/grpc"),
            (b"te", b"trailers"),
        ]
    )
    message = request.SerializeToString()
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    sock.sendall(
        b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
        + http2_frame(0x4, 0, 0, struct.pack(">HI", 0x4, 0))  # SETTINGS: window 0
        + http2_frame(0x1, 0x4, 1, headers)  # HEADERS, END_HEADERS
        + http2_frame(0x0, 0x1, 1, b"\x00" + struct.pack(">I", len(message)) + message)
    )
    return sock


def test_answers_a_client_never_reads_are_dropped_and_bounded(model_base):
    """Unread answers wait at most `request_seconds`, and at most `max_unread_bytes` of
    them at once: beyond, calls are refused (RESOURCE_EXHAUSTED) rather than pinning
    more memory; once the unread ones are dropped, clients are served again."""
    request = predict_request(z=np.zeros((16, 16), np.float32), labels=list(range(16)))
    size = None
    with ModelServer(model_base, port=0, rest_port=None, limits=Limits(max_batch=16)) as server:
        with grpc.insecure_channel(f"127.0.0.1:{server.port}") as channel:
            size = (
                prediction_service_pb2_grpc.PredictionServiceStub(channel)
                .Predict(request, timeout=60)
                .ByteSize()
            )
    limits = Limits(max_batch=16, request_seconds=3.0, max_unread_bytes=int(3.5 * size))
    with ModelServer(model_base, port=0, rest_port=None, limits=limits) as server:
        channel = grpc.insecure_channel(f"127.0.0.1:{server.port}")
        stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
        stalled = []
        for count in range(1, 5):
            stalled.append(never_reading_predict(server.port, request))
            wait_until(lambda: server.unread.waiting()[0] == count, f"{count} unread", 10)
        assert server.unread.waiting() == (4, 4 * size)
        full = time.monotonic()
        with pytest.raises(grpc.RpcError) as refused:
            stub.Predict(request, timeout=10)
        assert refused.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert "wait for their clients to read them" in refused.value.details()
        wait_until(lambda: server.unread.waiting() == (0, 0), "unread answers dropped", 10)
        assert time.monotonic() - full > 2.5  # the last one waited its request_seconds
        assert stub.Predict(request, timeout=10).ByteSize() == size  # served again
        for sock in stalled:
            sock.close()
        channel.close()


def test_beyond_the_connection_cap_a_client_is_refused_at_once(model_base):
    limits = Limits(max_batch=16, max_connections=4)
    with ModelServer(model_base, port=0, rest_port=0, limits=limits) as server:
        held = open_connections(server.rest_port, 4)
        time.sleep(0.5)  # the server has taken them
        with socket.create_connection(("127.0.0.1", server.rest_port), timeout=10) as extra:
            answer = extra.recv(4096)
        assert answer.startswith(b"HTTP/1.1 503 ") and b"too many open connections" in answer
        for sock in held:
            sock.close()
        wait_until(lambda: rest(server, "/v1/models/plain", None)[0] == 200, "served again")


# ----------------------------------------------------------------------------- access


@pytest.mark.parametrize("name", ["..", "../glyphs", "glyphs/1", "a\\b", "x\x00y", "."])
def test_model_names_with_path_components_are_refused(stub, server, name):
    with pytest.raises(grpc.RpcError) as error:
        stub.Predict(predict_request(model=name, z=np.zeros((1, 16), np.float32), labels=[0]))
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error.value.details() == "model name must be a plain folder name (no path components)"
    status_stub = model_service_pb2_grpc.ModelServiceStub(
        grpc.insecure_channel(f"127.0.0.1:{server.port}")
    )
    request = get_model_status_pb2.GetModelStatusRequest()
    request.model_spec.name = name
    with pytest.raises(grpc.RpcError) as error:
        status_stub.GetModelStatus(request)
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert rest(server, "/v1/models/..:predict", {"instances": [1]})[0] == 400


def test_links_out_of_the_model_base_path_are_never_read(model_base, tmp_path, caplog):
    base = tmp_path / "saved_models"
    publish(model_base / "plain" / "1", base / "plain", 1)
    os.symlink(model_base / "glyphs", base / "outside")  # a whole model elsewhere
    os.symlink(model_base / "glyphs" / "1", base / "plain" / "2")  # a version elsewhere
    with caplog.at_level(logging.WARNING, "keras_gan_serving"):
        with ModelServer(base, port=0, rest_port=None) as running:
            assert running.repository.models() == ["plain"]
            assert sorted(running.repository.status("plain")) == [1]
    assert f"ignoring outside: it leads out of {base}\n" in caplog.text
    assert f"ignoring 2: it leads out of {base / 'plain'}\n" in caplog.text


def test_a_token_guards_every_call(model_base, caplog):
    with caplog.at_level(logging.WARNING, "keras_gan_serving"):
        with ModelServer(model_base, "0.0.0.0", port=0, rest_port=None):
            pass
    assert "serving on 0.0.0.0 without a token" in caplog.text
    with pytest.raises(ValueError, match="at least 16 characters"):
        ModelServer(model_base, port=0, rest_port=None, token="short")
    with ModelServer(model_base, port=0, rest_port=0, token=SECRET) as guarded:
        target = f"127.0.0.1:{guarded.port}"
        for token in (None, "wrong-token-0123456789"):
            with GeneratorClient(target, "glyphs", token=token) as client:
                with pytest.raises(ServingError, match="UNAUTHENTICATED: this server needs"):
                    client.generate([0], [0])
            rest_target = f"127.0.0.1:{guarded.rest_port}"
            with GeneratorClient(rest_target, "glyphs", protocol="rest", token=token) as client:
                with pytest.raises(ServingError, match="UNAUTHENTICATED"):
                    client.status()
        for protocol, port in (("grpc", guarded.port), ("rest", guarded.rest_port)):
            with GeneratorClient(f"127.0.0.1:{port}", "glyphs", None, protocol, token=SECRET) as c:
                assert c.generate([0], [0]).shape == (1, 64, 64, 1)
        request = urllib.request.Request(f"http://127.0.0.1:{guarded.rest_port}/v1/models/glyphs")
        with pytest.raises(urllib.error.HTTPError) as error:
            urllib.request.urlopen(request, timeout=30)
        assert error.value.code == 401 and error.value.headers["WWW-Authenticate"] == "Bearer"


# ----------------------------------------------------------------------------- load


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def hammer(port, clients, seconds, on_response=None, stop=None):
    """Load on the glyph model (172 labels) from `clients` threads for `seconds` (or
    until `stop` is set)."""
    return load(f"127.0.0.1:{port}", "glyphs", clients, seconds, 172, 8, on_response, stop)


def wait_until(condition, what: str, deadline: float = 120.0):
    """Returns once `condition()` holds; AssertionError naming `what` after `deadline`."""
    start = time.monotonic()
    while not condition():
        if time.monotonic() - start > deadline:
            raise AssertionError(f"{what}: not within {deadline:.0f} s")
        time.sleep(0.01)


def hammer_until_each_answered(port, clients, answers):
    """Load from `clients` threads until every one got `answers` answers (or 10 min)."""
    counts, done = [0] * clients, threading.Event()

    def counted(client, _version):
        counts[client] += 1
        if min(counts) >= answers:
            done.set()

    latencies, failures = hammer(port, clients, 600.0, counted, done)
    assert done.is_set(), f"answers per client after 10 min: {counts}"
    return latencies, failures


def test_8_and_32_clients_get_answers_and_memory_stays_bounded(model_base):
    with ModelServer(model_base, port=0, rest_port=None) as running:
        hammer_until_each_answered(running.port, 8, 3)  # warm up: trace and allocate
        before = rss_bytes()
        for clients in (8, 32):
            _, failures = hammer_until_each_answered(running.port, clients, 10)
            assert not failures
        grown = rss_bytes() - before
    assert grown < 64 << 20, f"resident memory grew by {grown / 2**20:.0f} MiB"


def test_a_new_version_under_load_switches_once_and_a_corrupt_one_is_never_served(
    model_base, tmp_path
):
    base = tmp_path / "saved_models"
    publish(model_base / "glyphs" / "1", base / "glyphs", 1)
    with ModelServer(base, port=0, rest_port=None, poll_seconds=0.05) as running:
        seen = [[] for _ in range(8)]
        done, problems = threading.Event(), []

        def publish_in_phases():
            """Each phase starts when the last one is seen to be over, not after a time."""
            try:
                wait_until(lambda: all(seen), "every client answered by version 1")
                publish(model_base / "glyphs" / "1", base / "glyphs", 2)
                wait_until(lambda: all(v[-1] == 2 for v in seen), "every client on version 2")
                broken = base / "glyphs" / ".broken"
                broken.mkdir()
                (broken / "saved_model.pb").write_bytes(b"not a SavedModel")
                broken.rename(base / "glyphs" / "3")
                wait_until(
                    lambda: getattr(running.repository.status("glyphs").get(3), "error", ""),
                    "version 3 tried and refused",
                )
                counts = [len(v) for v in seen]
                wait_until(
                    lambda: all(len(v) >= n + 5 for v, n in zip(seen, counts)),
                    "5 more answers per client after version 3 was refused",
                )
            except Exception as e:  # noqa: BLE001 - reported by the test below
                problems.append(e)
            finally:
                done.set()

        publisher = threading.Thread(target=publish_in_phases, daemon=True)
        publisher.start()
        _, failures = hammer(running.port, 8, 600.0, lambda i, v: seen[i].append(v), done)
        publisher.join(timeout=30)
        assert not publisher.is_alive() and not problems, problems
        assert not failures
        for versions in seen:  # each client: version 1, then only version 2
            switches = sum(a != b for a, b in zip(versions, versions[1:]))
            assert versions[0] == 1 and versions[-1] == 2 and switches == 1, versions
        status = running.repository.status("glyphs")
        assert {v: s.state for v, s in status.items()} == {1: "END", 2: "AVAILABLE", 3: "END"}
        assert "failed to load" in status[3].error
