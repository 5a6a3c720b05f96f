"""TF Serving's REST API over a `ModelRepository`.

    GET  /v1/models/NAME[/versions/N]            model status
    GET  /v1/models/NAME[/versions/N]/metadata   signature defs (+ kgan metadata)
    POST /v1/models/NAME[/versions/N]:predict    {"instances": [...]} or {"inputs": ...}

Row format ("instances") answers {"predictions": [...]}, columnar ("inputs") answers
{"outputs": ...}, as TF Serving does; errors answer {"error": "..."}. String outputs
follow its `_bytes` rule: those named `*_bytes` (the `png_bytes` of `generate`) come as
{"b64": "..."}, others (a text model's `text`) as JSON strings.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import math
import re
import socket
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer

import grpc
from google.protobuf import json_format

from keras_gan_serving import tensors
from keras_gan_serving.access import UNAUTHENTICATED_MESSAGE
from keras_gan_serving.access import authorized
from keras_gan_serving.repository import DEFAULT_SIGNATURE
from keras_gan_serving.repository import ModelRepository
from keras_gan_serving.tensors import RequestError
from keras_gan_serving.tensors import invalid

log = logging.getLogger("keras_gan_serving")

_PATH = re.compile(
    r"/v1/models/(?P<name>[^/:]+)"
    r"(?:/versions/(?P<version>\d+)|/labels/(?P<label>[^/:]+))?"
    r"(?P<action>/metadata|:predict)?"
)
# Hostile or broken clients (tests/serving/test_hostile.py): every request (line, headers,
# body) must arrive whole within REQUEST_SECONDS, which also ends a kept-alive
# connection that idles that long, so a client sending a byte at a time cannot hold a
# thread; beyond MAX_CONNECTIONS open at once, a new one is refused at once (503).
REQUEST_SECONDS = 10.0
MAX_CONNECTIONS = 1024
_BUSY_BODY = b'{"error": "server busy: too many open connections"}'
BUSY = (
    b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
    b"Connection: close\r\nContent-Length: %d\r\n\r\n%s" % (len(_BUSY_BODY), _BUSY_BODY)
)

HTTP_STATUS = {
    grpc.StatusCode.INVALID_ARGUMENT: 400,
    grpc.StatusCode.UNAUTHENTICATED: 401,
    grpc.StatusCode.NOT_FOUND: 404,
    grpc.StatusCode.RESOURCE_EXHAUSTED: 429,
    grpc.StatusCode.UNIMPLEMENTED: 501,
    grpc.StatusCode.UNAVAILABLE: 503,
}


class RestServer(ThreadingHTTPServer):
    daemon_threads = True
    # socketserver's listen backlog is 5: a burst of connections beyond it waits for
    # SYN retransmits (1 s, then 3 s...) before the accepting loop even sees them.
    request_queue_size = 1024

    def __init__(
        self,
        address,
        repository: ModelRepository,
        max_batch: int,
        max_body_bytes: int,
        max_concurrent: int,
        token: str | None = None,
        tls: ssl.SSLContext | None = None,
        max_connections: int = MAX_CONNECTIONS,
        request_seconds: float = REQUEST_SECONDS,
    ):
        super().__init__(address, RestHandler)
        self.repository, self.max_batch, self.max_body_bytes = repository, max_batch, max_body_bytes
        self.token, self.request_seconds = token, request_seconds
        self.slots = threading.BoundedSemaphore(max_concurrent)
        self.connections = threading.BoundedSemaphore(max_connections)
        if tls is not None:  # the handshake runs in the request's thread, not the accepting one
            self.socket = tls.wrap_socket(
                self.socket, server_side=True, do_handshake_on_connect=False
            )

    def process_request(self, request, client_address):
        """A thread per connection, up to `max_connections`; beyond, 503 and close."""
        if not self.connections.acquire(blocking=False):
            if not isinstance(request, ssl.SSLSocket):  # no handshake yet: no TLS answer
                with contextlib.suppress(OSError):
                    request.settimeout(1.0)
                    request.sendall(BUSY)
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self.connections.release()
            raise

    def process_request_thread(self, request, client_address):
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.connections.release()

    def handle_error(self, request, client_address):
        """A client that fails the TLS handshake or hangs up is its own problem: logged
        (debug), not a traceback on stderr."""
        log.debug("REST connection from %s failed", client_address[0], exc_info=True)


class RestHandler(BaseHTTPRequestHandler):
    server: RestServer
    timeout = 30  # a client that stops sending mid-body does not hold a thread forever
    protocol_version = "HTTP/1.1"
    # Headers and body leave as two writes: with Nagle's algorithm the second waits for
    # the client's delayed ACK of the first (40 ms on Linux).
    disable_nagle_algorithm = True

    def setup(self):
        super().setup()  # sets the timeout, which bounds the handshake too
        if isinstance(self.connection, ssl.SSLSocket):
            self.connection.do_handshake()
        self.arrival = _DeadlineReader(self.connection, self.timeout)
        self.rfile = io.BufferedReader(self.arrival)

    def handle_one_request(self):
        self.arrival.deadline = time.monotonic() + self.server.request_seconds
        super().handle_one_request()  # a late request: TimeoutError, caught there

    def _request_read(self) -> None:
        """The request is in: answering it is not under its deadline."""
        self.arrival.deadline = math.inf
        self.connection.settimeout(self.timeout)

    def log_message(self, format, *args):  # noqa: A002  (BaseHTTPRequestHandler's signature)
        log.debug("rest %s", format % args)

    def do_GET(self):
        self._answer(self._get)

    def do_POST(self):
        self._answer(self._post)

    def _answer(self, handler) -> None:
        if not authorized(self.headers.get("Authorization"), self.server.token):
            self._send(401, {"error": UNAUTHENTICATED_MESSAGE})
            return
        if not self.server.slots.acquire(blocking=False):
            self._send(429, {"error": "server busy: too many concurrent requests, retry later"})
            return
        try:
            code, body = handler()
        except RequestError as e:
            code, body = HTTP_STATUS.get(e.code, 500), {"error": e.message}
        except TimeoutError:
            code = 408
            body = {"error": f"the request did not arrive within {self.server.request_seconds:g} s"}
        except Exception:  # noqa: BLE001  (the server stays up and leaks nothing)
            log.exception("REST %s %s failed", self.command, self.path)
            code, body = 500, {"error": "the request failed on the server"}
        finally:
            self.server.slots.release()
        self._send(code, body)

    def _send(self, code: int, body: dict) -> None:
        self._request_read()  # also when it was cut short: the answer gets the usual timeout
        data = tensors.json_bytes(body)
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        if code == 401:
            self.send_header("WWW-Authenticate", "Bearer")
        if code != 200:  # an unread or bad body must not bleed into a next request
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(data)

    def _route(self):
        match = _PATH.fullmatch(self.path.split("?", 1)[0])
        if not match:
            raise RequestError(
                grpc.StatusCode.NOT_FOUND,
                "unknown path; expected /v1/models/NAME[/versions/N][/metadata|:predict]",
            )
        if match["label"]:
            raise RequestError(
                grpc.StatusCode.NOT_FOUND,
                f"version label {match['label']!r}: this server has no version labels",
            )
        version = int(match["version"]) if match["version"] else None
        return match["name"], version, match["action"]

    def _get(self):
        name, version, action = self._route()
        repository = self.server.repository
        if action == ":predict":
            raise RequestError(grpc.StatusCode.UNIMPLEMENTED, "predict takes POST")
        if action == "/metadata":
            servable = repository.get(name, version)
            metadata = {
                "signature_def": json_format.MessageToDict(
                    servable.signature_def_map(), preserving_proto_field_name=True
                )
            }
            if servable.metadata is not None:
                metadata["kgan"] = servable.metadata
            spec = {"name": servable.name, "signature_name": "", "version": str(servable.version)}
            return 200, {"model_spec": spec, "metadata": metadata}
        states = repository.status(name, version)
        return 200, {
            "model_version_status": [
                {
                    "version": str(v),
                    "state": s.state,
                    "status": {
                        "error_code": "UNKNOWN" if s.error else "OK",
                        "error_message": s.error,
                    },
                }
                for v, s in sorted(states.items())
            ]
        }

    def _post(self):
        name, version, action = self._route()
        if action != ":predict":
            raise RequestError(grpc.StatusCode.UNIMPLEMENTED, "POST serves only :predict")
        body = self._json_body()
        servable = self.server.repository.get(name, version)
        signature = body.get("signature_name") or DEFAULT_SIGNATURE
        if not isinstance(signature, str):
            raise invalid("signature_name must be a string")
        specs = servable.input_specs.get(signature, {})
        if ("instances" in body) == ("inputs" in body):
            raise invalid(
                'the request needs exactly one of "instances" (rows) or "inputs" (columns)'
            )
        row_format = "instances" in body
        inputs = (
            _columns_from_rows(body["instances"], specs)
            if row_format
            else _named_inputs(body["inputs"], specs)
        )
        outputs = servable.predict(
            signature,
            inputs,
            lambda value, spec: tensors.from_json(value, spec, self.server.max_batch),
        )
        if row_format:
            return 200, {"predictions": _rows(outputs)}
        columns = {k: tensors.to_json(v, k) for k, v in outputs.items()}
        return 200, {"outputs": next(iter(columns.values())) if len(columns) == 1 else columns}

    def _json_body(self) -> dict:
        length = self.headers.get("Content-Length")
        if length is None or not length.isdigit():
            raise invalid("the request needs a Content-Length header")
        if int(length) > self.server.max_body_bytes:
            raise invalid(
                f"request body of {int(length)} bytes is over this server's limit of "
                f"{self.server.max_body_bytes}"
            )
        raw = self.rfile.read(int(length))
        if len(raw) < int(length):
            raise invalid(f"the request body ended after {len(raw)} of {int(length)} bytes")
        try:
            body = json.loads(raw)
        except (ValueError, RecursionError):
            raise invalid("the request body is not valid JSON") from None
        if not isinstance(body, dict):
            raise invalid("the request body must be a JSON object")
        return body


class _DeadlineReader(io.RawIOBase):
    """A socket's bytes, each read waiting only until `deadline` (monotonic seconds):
    a per-read timeout alone lets a client that sends a byte now and then hold a
    connection for ever."""

    def __init__(self, connection: socket.socket, timeout: float):
        self.connection, self.timeout, self.deadline = connection, timeout, math.inf

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("the request did not arrive in time")
        self.connection.settimeout(min(remaining, self.timeout))
        return self.connection.recv_into(buffer)


def _named_inputs(value, specs: dict) -> dict:
    """Columnar `inputs`: an object by input name, or the bare value of a one-input signature."""
    if isinstance(value, dict) and not (set(value) == {"b64"}):
        return value
    if len(specs) != 1:
        raise invalid(f'"inputs" must name the inputs: {", ".join(sorted(specs))}')
    return {next(iter(specs)): value}


def _columns_from_rows(instances, specs: dict) -> dict:
    """Row format: a list of objects (one key per input) or bare values (one input)."""
    if not isinstance(instances, list) or not instances:
        raise invalid('"instances" must be a non-empty list of rows')
    if all(isinstance(row, dict) and set(row) != {"b64"} for row in instances):
        keys = set(instances[0])
        if any(set(row) != keys for row in instances):
            raise invalid("every instance must name the same inputs")
        return {k: [row[k] for row in instances] for k in keys}
    if len(specs) != 1:
        raise invalid(f"each instance must be an object with inputs {', '.join(sorted(specs))}")
    return {next(iter(specs)): instances}


def _rows(outputs: dict) -> list:
    columns = {k: tensors.to_json(v, k) for k, v in outputs.items()}
    if len(columns) == 1:
        return next(iter(columns.values()))
    count = len(next(iter(columns.values())))
    return [{k: v[i] for k, v in columns.items()} for i in range(count)]
