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

import json
import logging
import re
import ssl
import threading
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

    def __init__(
        self,
        address,
        repository: ModelRepository,
        max_batch: int,
        max_body_bytes: int,
        max_concurrent: int,
        token: str | None = None,
        tls: ssl.SSLContext | None = None,
    ):
        super().__init__(address, RestHandler)
        self.repository, self.max_batch, self.max_body_bytes = repository, max_batch, max_body_bytes
        self.token = token
        self.slots = threading.BoundedSemaphore(max_concurrent)
        if tls is not None:  # the handshake runs in the request's thread, not the accepting one
            self.socket = tls.wrap_socket(
                self.socket, server_side=True, do_handshake_on_connect=False
            )

    def handle_error(self, request, client_address):
        """A client that fails the TLS handshake or hangs up is its own problem: logged
        (debug), not a traceback on stderr."""
        log.debug("REST connection from %s failed", client_address[0], exc_info=True)


class RestHandler(BaseHTTPRequestHandler):
    server: RestServer
    timeout = 30  # a client that stops sending mid-body does not hold a thread forever
    protocol_version = "HTTP/1.1"

    def setup(self):
        super().setup()  # sets the timeout, which bounds the handshake too
        if isinstance(self.connection, ssl.SSLSocket):
            self.connection.do_handshake()

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
        except Exception:  # noqa: BLE001  (the server stays up and leaks nothing)
            log.exception("REST %s %s failed", self.command, self.path)
            code, body = 500, {"error": "the request failed on the server"}
        finally:
            self.server.slots.release()
        self._send(code, body)

    def _send(self, code: int, body: dict) -> None:
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
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
        try:
            body = json.loads(raw)
        except (ValueError, RecursionError):
            raise invalid("the request body is not valid JSON") from None
        if not isinstance(body, dict):
            raise invalid("the request body must be a JSON object")
        return body


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
