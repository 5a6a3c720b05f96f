"""Client for generators served by `kgan serve` or a real `tensorflow_model_server`.

    client = GeneratorClient("127.0.0.1:8500", "glyphs")
    images = client.generate(seeds=[0, 1], label_ids=[0, 0])   # uint8 (2, H, W, C)

gRPC over the tensorflow-serving-api stubs by default (receive limit raised from
gRPC's 4 MiB), REST with `protocol="rest"`. Busy or unreachable servers are retried
with exponential backoff; other errors raise `ServingError` with the server's message.
"""

from __future__ import annotations

import base64
import contextlib
import gc
import http.client
import json
import random
import threading
import time
import urllib.parse

import numpy as np

from keras_gan.sampling import Sampler
from keras_gan.sampling import TextSampler

RETRYABLE_HTTP = (429, 503)


class ServingError(RuntimeError):
    """The server answered an error; `code` is the gRPC status name (e.g. INVALID_ARGUMENT)."""

    def __init__(self, code: str, message: str):
        super().__init__(f"{code}: {message}")
        self.code, self.message = code, message


class GeneratorClient:
    """Predict, metadata and status calls for one served model.

    Args:
        target: `HOST:PORT` of the gRPC (or, with protocol="rest", the REST) endpoint.
        model: the model name (its folder under the server's base path).
        version: a version number, or `None` for the newest the server has.
        protocol: "grpc" or "rest".
        timeout: seconds per call.
        retries: retries of UNAVAILABLE / RESOURCE_EXHAUSTED (HTTP 429/503) answers.
        token: the server's bearer token, if it needs one.
        ca: PEM of the CA that signed a TLS server's certificate (then gRPC uses TLS and
            REST https); client_cert, client_key: PEM of this client's certificate and
            key, for a server that verifies clients (mutual TLS).
    """

    def __init__(
        self,
        target: str,
        model: str,
        version: int | None = None,
        protocol: str = "grpc",
        timeout: float = 30.0,
        retries: int = 4,
        max_message_bytes: int = 64 << 20,
        token: str | None = None,
        ca: bytes | None = None,
        client_cert: bytes | None = None,
        client_key: bytes | None = None,
    ):
        if protocol not in ("grpc", "rest"):
            raise ValueError(f"protocol must be grpc or rest, got {protocol!r}")
        host, sep, port = target.rpartition(":")
        if not sep or not host or not port.isdigit():
            raise ValueError(f"target {target!r} is not HOST:PORT (e.g. 127.0.0.1:8500)")
        self.target, self.model, self.version = target, model, version
        self.protocol, self.timeout, self.retries = protocol, timeout, retries
        self._auth = {"authorization": f"Bearer {token}"} if token else {}
        self._channel = None
        self._local, self._lock = threading.local(), threading.Lock()
        self._rest_connections: list[http.client.HTTPConnection] = []
        self.served_version = None  # the version that answered the last gRPC predict
        self._dtypes: dict[str, dict] = {}
        if (client_cert is None) != (client_key is None):
            raise ValueError("client_cert and client_key go together")
        if client_cert is not None and ca is None:
            raise ValueError("a client certificate needs ca (TLS)")
        self._tls = None if ca is None else _client_context(ca, client_cert, client_key)
        if protocol == "grpc":
            import grpc
            from tensorflow_serving.apis import model_service_pb2_grpc
            from tensorflow_serving.apis import prediction_service_pb2_grpc

            options = [
                ("grpc.max_receive_message_length", max_message_bytes),
                ("grpc.max_send_message_length", max_message_bytes),
            ]
            self._channel = (
                grpc.secure_channel(
                    target, grpc.ssl_channel_credentials(ca, client_key, client_cert), options
                )
                if ca is not None
                else grpc.insecure_channel(target, options)
            )
            self._predict_stub = prediction_service_pb2_grpc.PredictionServiceStub(self._channel)
            self._model_stub = model_service_pb2_grpc.ModelServiceStub(self._channel)

    def close(self) -> None:
        if self._channel is not None:
            self._channel.close()
        with self._lock:
            for connection in self._rest_connections:
                connection.close()

    def __enter__(self) -> GeneratorClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- calls

    def predict(
        self, inputs: dict, signature: str = "serving_default", outputs: list[str] | None = None
    ) -> dict[str, np.ndarray]:
        """Runs `signature` on `inputs` (name -> array); returns name -> array."""
        if self.protocol == "rest":
            body = {
                "signature_name": signature,
                "inputs": {k: np.asarray(v).tolist() for k, v in inputs.items()},
            }
            dtypes = self._output_dtypes(signature)
            with _collector_paused():
                answer = self._rest("POST", ":predict", body)["outputs"]
                if not isinstance(answer, dict):  # a single output comes back bare
                    answer = {next(iter(dtypes)): answer}
                return {
                    k: _decode_json_output(v, dtypes.get(k))
                    for k, v in answer.items()
                    if not outputs or k in outputs
                }
        from tensorflow_serving.apis import predict_pb2

        from keras_gan_serving import tensors

        request = predict_pb2.PredictRequest()
        self._fill_spec(request.model_spec)
        request.model_spec.signature_name = signature
        for key, value in inputs.items():
            request.inputs[key].CopyFrom(tensors.to_proto(value))
        request.output_filter.extend(outputs or [])
        response = self._grpc(self._predict_stub.Predict, request)
        self.served_version = response.model_spec.version.value
        return {k: tensors.to_array(v) for k, v in response.outputs.items()}

    def generate(self, seeds, label_ids=None, pngs: bool = False):
        """uint8 images for seeds (and label ids); with `pngs`, also the PNG bytes."""
        inputs = {"seed": np.asarray(seeds, np.int64)}
        if label_ids is not None:
            inputs["labels"] = np.asarray(label_ids, np.int32)
        if not pngs:
            return self.predict(inputs, "generate", ["images"])["images"]
        # `png_bytes` (TF Serving's `_bytes` rule); exports before it named it `png`.
        png = "png_bytes" if "png_bytes" in self._output_dtypes("generate") else "png"
        out = self.predict(inputs, "generate", ["images", png])
        return out["images"], list(out[png])

    def metadata(self) -> dict:
        """`{"signature_def": SignatureDefMap as a dict, "kgan": kgan.json or None}`."""
        if self.protocol == "rest":
            meta = self._rest("GET", "/metadata")["metadata"]
            return {"signature_def": meta["signature_def"], "kgan": meta.get("kgan")}
        from google.protobuf import json_format
        from google.protobuf import wrappers_pb2
        from tensorflow_serving.apis import get_model_metadata_pb2

        def ask(fields):
            request = get_model_metadata_pb2.GetModelMetadataRequest(metadata_field=fields)
            self._fill_spec(request.model_spec)
            return self._grpc(self._predict_stub.GetModelMetadata, request).metadata

        signature_map = get_model_metadata_pb2.SignatureDefMap()
        ask(["signature_def"])["signature_def"].Unpack(signature_map)
        try:
            text = wrappers_pb2.StringValue()
            ask(["kgan"])["kgan"].Unpack(text)
            kgan = json.loads(text.value)
        except ServingError as e:  # a real tensorflow_model_server has no kgan field
            if e.code not in ("INVALID_ARGUMENT", "NOT_FOUND"):
                raise
            kgan = None
        return {
            "signature_def": json_format.MessageToDict(
                signature_map, preserving_proto_field_name=True
            ),
            "kgan": kgan,
        }

    def status(self) -> list[dict]:
        """[{"version": N, "state": "AVAILABLE", "error": ""}, ...]."""
        if self.protocol == "rest":
            rows = self._rest("GET", "")["model_version_status"]
            return [
                {
                    "version": int(r["version"]),
                    "state": r["state"],
                    "error": r.get("status", {}).get("error_message", ""),
                }
                for r in rows
            ]
        from tensorflow_serving.apis import get_model_status_pb2

        request = get_model_status_pb2.GetModelStatusRequest()
        self._fill_spec(request.model_spec)
        response = self._grpc(self._model_stub.GetModelStatus, request)
        return [
            {
                "version": s.version,
                "state": get_model_status_pb2.ModelVersionStatus.State.Name(s.state),
                "error": s.status.error_message,
            }
            for s in response.model_version_status
        ]

    def _output_dtypes(self, signature: str) -> dict:
        """Output name -> numpy dtype, from the signature (JSON numbers carry no dtype)."""
        if signature not in self._dtypes:
            import tensorflow as tf
            from tensorflow.core.framework import types_pb2

            signatures = self.metadata()["signature_def"]["signature_def"]
            if signature not in signatures:
                raise ServingError(
                    "NOT_FOUND", f"model {self.model!r} has no signature {signature!r}"
                )
            self._dtypes[signature] = {
                name: tf.dtypes.as_dtype(types_pb2.DataType.Value(info["dtype"])).as_numpy_dtype
                for name, info in signatures[signature]["outputs"].items()
            }
        return self._dtypes[signature]

    # -- transport

    def _fill_spec(self, spec) -> None:
        spec.name = self.model
        if self.version is not None:
            spec.version.value = self.version

    def _grpc(self, method, request):
        import grpc

        retry = (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.RESOURCE_EXHAUSTED)
        for attempt in range(self.retries + 1):
            try:
                return method(request, timeout=self.timeout, metadata=list(self._auth.items()))
            except grpc.RpcError as e:
                if e.code() in retry and attempt < self.retries:
                    _backoff(attempt)
                    continue
                raise ServingError(e.code().name, e.details() or "") from None

    def _rest(self, method: str, action: str, body: dict | None = None) -> dict:
        path = f"/v1/models/{urllib.parse.quote(self.model)}"
        if self.version is not None:
            path += f"/versions/{self.version}"
        data = None if body is None else json.dumps(body).encode("utf-8")
        headers = {"Content-Type": "application/json", **self._auth}
        attempt = 0
        while True:
            connection = self._rest_connection()
            reused = connection.sock is not None
            try:
                connection.request(method, path + action, body=data, headers=headers)
                answer = connection.getresponse()
                payload = answer.read()
            except (OSError, http.client.HTTPException) as e:
                # Refused or dropped connections, failed TLS handshakes (ssl.SSLError is
                # an OSError), a server that answers no HTTP.
                connection.close()
                if reused and isinstance(e, ConnectionError):
                    continue  # the server closed it while it idled: at once, on a new one
                if attempt < self.retries:
                    _backoff(attempt)
                    attempt += 1
                    continue
                raise ServingError("UNAVAILABLE", f"{type(e).__name__}: {e}") from None
            if answer.will_close:
                connection.close()
            if answer.status == 200:
                return json.loads(payload)
            if answer.status in RETRYABLE_HTTP and attempt < self.retries:
                _backoff(attempt)
                attempt += 1
                continue
            try:
                message = json.loads(payload).get("error", "")
            except ValueError:
                message = answer.reason
            code = _HTTP_CODES.get(answer.status, f"HTTP {answer.status}")
            raise ServingError(code, message)

    def _rest_connection(self) -> http.client.HTTPConnection:
        """This thread's kept-alive connection: a new TCP (and TLS) connection per call
        costs more than a small model's answer (http.client's are not thread-safe)."""
        connection = getattr(self._local, "rest", None)
        if connection is None:
            host, _, port = self.target.rpartition(":")
            address = {"host": host, "port": int(port), "timeout": self.timeout}
            connection = (
                http.client.HTTPSConnection(**address, context=self._tls)
                if self._tls
                else http.client.HTTPConnection(**address)
            )
            self._local.rest = connection
            with self._lock:
                self._rest_connections.append(connection)
        return connection


def _backoff(attempt: int) -> None:
    """Exponential backoff with jitter, so clients turned away together do not return together."""
    delay = 0.05 * 2**attempt
    time.sleep(delay / 2 + random.uniform(0, delay / 2))


_HTTP_CODES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    501: "UNIMPLEMENTED",
    503: "UNAVAILABLE",
    500: "INTERNAL",
}


_paused, _paused_lock, _collector_was_on = 0, threading.Lock(), False


@contextlib.contextmanager
def _collector_paused():
    """No garbage collection while a JSON answer is parsed: its arrays arrive as
    thousands of short-lived lists (4,000 for one 64x64 glyph), enough allocations to
    start full collections, which in a process that imported TensorFlow take 100-200 ms
    every hundred calls (bench/RESULTS.md, REST p99). The lists hold no cycles: the
    collector has nothing to find in them. Counted, so threads pause it together."""
    global _paused, _collector_was_on
    with _paused_lock:
        if _paused == 0:
            _collector_was_on = gc.isenabled()
            gc.disable()
        _paused += 1
    try:
        yield
    finally:
        with _paused_lock:
            _paused -= 1
            if _paused == 0 and _collector_was_on:
                gc.enable()


def _decode_json_output(value, dtype) -> np.ndarray:
    def unwrap(v):
        if isinstance(v, list):
            return [unwrap(x) for x in v]
        if isinstance(v, dict) and "b64" in v:
            return base64.b64decode(v["b64"])
        return v

    if _is_bytes_column(value):
        return np.array(unwrap(value), dtype=object)
    return np.asarray(value, dtype)


def _is_bytes_column(value) -> bool:
    while isinstance(value, list) and value:
        value = value[0]
    return isinstance(value, dict)


class RemoteSampler(Sampler):
    """A `Sampler` over a served model, so `kgan predict` writes what `kgan sample` does.

    The label vocabulary and sizes come from the server's kgan metadata, or from a
    local `kgan.json` (`metadata`) when the server is a real tensorflow_model_server.
    """

    max_batch = 64

    def __init__(self, client: GeneratorClient, metadata: dict | None = None):
        self.client = client
        meta = metadata or client.metadata()["kgan"]
        if meta is None:
            raise ValueError(
                f"the server gives no kgan metadata for model {client.model!r} (a real "
                "tensorflow_model_server): pass the model's assets.extra/kgan.json"
            )
        self.model_name = meta["model"]
        self.latent_dim = meta["latent_dim"]
        self.image_shape = (meta["image_size"], meta["image_size"], meta["channels"])
        self.training_config = meta.get("config")
        self.labels = meta.get("labels")

    def _generate(self, seeds, label_ids) -> np.ndarray:
        return self.client.generate(seeds, label_ids)

    def _generate_from_noise(self, z, label_ids) -> np.ndarray:
        inputs = {"z": np.asarray(z, np.float32)}
        if label_ids is not None:
            inputs["labels"] = np.asarray(label_ids, np.int32)
        return self.client.predict(inputs, "serving_default", ["images"])["images"]


class RemoteTextSampler(TextSampler):
    """A `TextSampler` over a served text model: `kgan predict` prints its lines."""

    def __init__(self, client: GeneratorClient, meta: dict):
        self.client, self.vocab, self.model_name = client, meta["vocab"], meta["model"]
        self.training_config = meta.get("config")

    def _lines(self, seeds, temperature):
        inputs = {"seed": np.asarray(seeds, np.int64), "temperature": np.float32(temperature)}
        text = self.client.predict(inputs, "generate", ["text"])["text"]
        return [v.decode("utf-8") if isinstance(v, bytes) else str(v) for v in text.tolist()]


def remote_sampler(client: GeneratorClient, metadata: dict | None = None):
    """A `RemoteSampler`, or a `RemoteTextSampler` for a text model, from the server's
    kgan metadata (or a local `kgan.json`)."""
    meta = metadata or client.metadata()["kgan"]
    if meta is not None and meta.get("modality") == "text":
        return RemoteTextSampler(client, meta)
    return RemoteSampler(client, meta)


def load(target, model, clients, seconds, num_labels=None, retries=8, on_response=None, stop=None):
    """Load on a served generator: `clients` threads, each with its own client, calling
    `generate` for 4 images (label id = client % `num_labels`) until `seconds` pass or
    the `stop` event (a `threading.Event`) is set; busy answers are retried with
    backoff. `on_response(client, served version)` sees every answer. Returns
    (latencies in seconds by client, the ServingErrors raised)."""
    latencies = [[] for _ in range(clients)]
    failures = []
    stop = stop or threading.Event()

    def run(index):
        labels = None if num_labels is None else [index % num_labels] * 4
        with GeneratorClient(target, model, retries=retries) as client:
            while not stop.is_set():
                started = time.perf_counter()
                try:
                    client.generate(range(index, index + 4), labels)
                except ServingError as e:
                    failures.append(e)
                    continue
                latencies[index].append(time.perf_counter() - started)
                if on_response:
                    on_response(index, client.served_version)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    stop.wait(seconds)
    stop.set()
    for thread in threads:
        thread.join()
    return latencies, failures


def _client_context(ca: bytes, cert: bytes | None, key: bytes | None):
    """The REST client's TLS context: the server's certificate checked against `ca`
    (hostname included); this client's certificate presented if given."""
    import ssl

    from keras_gan_serving.tls import pem_file

    context = ssl.create_default_context(cadata=ca.decode("ascii"))
    if cert is not None:
        with pem_file(cert + b"\n" + key) as chain:
            context.load_cert_chain(chain)
    return context
