"""TF Serving's gRPC API: `PredictionService` (Predict, GetModelMetadata) and `ModelService`
(GetModelStatus), over a `ModelRepository`.

Unsupported methods (Classify, Regress, MultiInference, HandleReloadConfigRequest)
answer UNIMPLEMENTED through the generated base classes. An unexpected error answers
INTERNAL with a fixed message (the details go to the server log, never to the client).
"""

from __future__ import annotations

import functools
import json
import logging
import threading
import time

import grpc
from google.protobuf import wrappers_pb2
from tensorflow_serving.apis import get_model_metadata_pb2
from tensorflow_serving.apis import get_model_status_pb2
from tensorflow_serving.apis import model_service_pb2_grpc
from tensorflow_serving.apis import predict_pb2
from tensorflow_serving.apis import prediction_service_pb2_grpc
from tensorflow_serving.apis import status_pb2

from keras_gan_serving import tensors
from keras_gan_serving.repository import DEFAULT_SIGNATURE
from keras_gan_serving.repository import ModelRepository
from keras_gan_serving.tensors import RequestError
from keras_gan_serving.tensors import invalid

log = logging.getLogger("keras_gan_serving")

# GetModelMetadata fields: TF Serving's one, plus the kgan.json metadata (labels,
# latent size...) as a JSON `google.protobuf.StringValue`, which the real server lacks.
SIGNATURE_DEF_FIELD = "signature_def"
KGAN_FIELD = "kgan"


def answers_errors(method):
    """Turns RequestError into its status and anything else into a path-free INTERNAL."""

    @functools.wraps(method)
    def wrapper(self, request, context):
        try:
            return method(self, request, context)
        except RequestError as e:
            context.abort(e.code, e.message)
        except Exception:  # noqa: BLE001  (the server stays up and leaks nothing)
            log.exception("%s failed", method.__name__)
            context.abort(grpc.StatusCode.INTERNAL, f"{method.__name__} failed on the server")

    return wrapper


class RequestDecoding(grpc.ServerInterceptor):
    """Request bytes that are not the method's message answer INVALID_ARGUMENT.

    grpc-python decodes a request before any handler runs, and answers a failed decode
    with INTERNAL ("Exception deserializing request!"): a client's garbage would look
    like a server fault to whoever watches the error rate. So every unary method is
    handed the raw bytes and decodes them itself."""

    def __init__(self):
        self._handlers = {}  # method name -> its decoding handler, built once

    def intercept_service(self, continuation, handler_call_details):
        handler = continuation(handler_call_details)
        if handler is None or handler.unary_unary is None or handler.request_deserializer is None:
            return handler
        method = handler_call_details.method
        if method not in self._handlers:
            decode, behavior = handler.request_deserializer, handler.unary_unary

            def decoding(raw, context):
                try:
                    request = decode(raw)
                except Exception:  # noqa: BLE001  (protobuf's DecodeError, and kin)
                    context.abort(
                        grpc.StatusCode.INVALID_ARGUMENT,
                        f"{method}: the request is not a serialized message of its type",
                    )
                return behavior(request, context)

            self._handlers[method] = grpc.unary_unary_rpc_method_handler(
                decoding, response_serializer=handler.response_serializer
            )
        return self._handlers[method]


class UnreadAnswers(grpc.ServerInterceptor):
    """Answers that a client leaves unread are dropped after `seconds`, and at most
    `max_bytes` of them wait at once (beyond that, new calls get RESOURCE_EXHAUSTED).

    grpc-python frees a handler's thread and its `maximum_concurrent_rpcs` slot when
    the handler returns, not once the answer is sent. A client that never reads (an
    HTTP/2 window of 0) would otherwise pin every answer it asked for in server memory
    until its connection ends, up to `grpc.max_connection_age_ms` later."""

    def __init__(self, seconds: float, max_bytes: int):
        self.seconds, self.max_bytes = seconds, max_bytes
        self._waiting: dict[object, tuple[float, grpc.ServicerContext, int]] = {}
        self._bytes = 0
        self._lock = threading.Lock()
        self._handlers = {}  # method name -> its guarded handler, built once
        self._stopped = threading.Event()

    def intercept_service(self, continuation, handler_call_details):
        handler = continuation(handler_call_details)
        if handler is None or handler.unary_unary is None:
            return handler
        method = handler_call_details.method
        if method not in self._handlers:
            behavior = handler.unary_unary

            def guarded(request, context):
                if self.waiting()[1] >= self.max_bytes:
                    context.abort(
                        grpc.StatusCode.RESOURCE_EXHAUSTED,
                        "too many answers wait for their clients to read them; retry later",
                    )
                answer = behavior(request, context)
                self._watch(context, answer.ByteSize())
                return answer

            self._handlers[method] = grpc.unary_unary_rpc_method_handler(
                guarded,
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        return self._handlers[method]

    def waiting(self) -> tuple[int, int]:
        """(answers, bytes) handed to gRPC that their clients have not yet taken."""
        with self._lock:
            return len(self._waiting), self._bytes

    def start(self) -> None:
        threading.Thread(target=self._drop_late, name="unread-answers", daemon=True).start()

    def stop(self) -> None:
        self._stopped.set()

    def _watch(self, context, size: int) -> None:
        key = object()
        with self._lock:
            self._waiting[key] = (time.monotonic() + self.seconds, context, size)
            self._bytes += size
        if not context.add_callback(lambda: self._forget(key)):  # already over
            self._forget(key)

    def _forget(self, key) -> None:
        with self._lock:
            entry = self._waiting.pop(key, None)
            if entry is not None:
                self._bytes -= entry[2]

    def _drop_late(self) -> None:
        while not self._stopped.wait(min(1.0, self.seconds / 4)):
            now = time.monotonic()
            with self._lock:
                late = [(k, c) for k, (deadline, c, _) in self._waiting.items() if deadline <= now]
            for key, context in late:
                context.cancel()  # the RPC ends: gRPC drops the answer it holds
                self._forget(key)


def requested_version(model_spec) -> int | None:
    if model_spec.version_label:
        raise RequestError(
            grpc.StatusCode.NOT_FOUND,
            f"version label {model_spec.version_label!r}: this server has no version labels; "
            "ask for a version number",
        )
    return model_spec.version.value if model_spec.HasField("version") else None


class PredictionService(prediction_service_pb2_grpc.PredictionServiceServicer):
    def __init__(self, repository: ModelRepository, max_batch: int):
        self.repository, self.max_batch = repository, max_batch

    @answers_errors
    def Predict(self, request, context):
        spec = request.model_spec
        servable = self.repository.get(spec.name, requested_version(spec))
        signature = spec.signature_name or DEFAULT_SIGNATURE
        outputs = servable.predict(
            signature,
            dict(request.inputs),
            lambda proto, input_spec: tensors.from_proto(proto, input_spec, self.max_batch),
            list(request.output_filter),
        )
        response = predict_pb2.PredictResponse()
        response.model_spec.name = servable.name
        response.model_spec.version.value = servable.version
        response.model_spec.signature_name = signature
        for key, array in outputs.items():
            response.outputs[key].CopyFrom(tensors.to_proto(array))
        return response

    @answers_errors
    def GetModelMetadata(self, request, context):
        fields = list(request.metadata_field)
        if not fields:
            raise invalid("metadata_field is empty; ask for 'signature_def'")
        unknown = [f for f in fields if f not in (SIGNATURE_DEF_FIELD, KGAN_FIELD)]
        if unknown:
            raise invalid(
                f"metadata field(s) {', '.join(unknown)} not supported; "
                f"supported: {SIGNATURE_DEF_FIELD}, {KGAN_FIELD}"
            )
        servable = self.repository.get(
            request.model_spec.name, requested_version(request.model_spec)
        )
        response = get_model_metadata_pb2.GetModelMetadataResponse()
        response.model_spec.name = servable.name
        response.model_spec.version.value = servable.version
        if SIGNATURE_DEF_FIELD in fields:
            response.metadata[SIGNATURE_DEF_FIELD].Pack(servable.signature_def_map())
        if KGAN_FIELD in fields:
            if servable.metadata is None:
                raise RequestError(
                    grpc.StatusCode.NOT_FOUND, f"model {servable.name!r} carries no kgan metadata"
                )
            text = json.dumps(servable.metadata, ensure_ascii=False)
            response.metadata[KGAN_FIELD].Pack(wrappers_pb2.StringValue(value=text))
        return response


class ModelService(model_service_pb2_grpc.ModelServiceServicer):
    def __init__(self, repository: ModelRepository):
        self.repository = repository

    @answers_errors
    def GetModelStatus(self, request, context):
        spec = request.model_spec
        states = self.repository.status(spec.name, requested_version(spec))
        response = get_model_status_pb2.GetModelStatusResponse()
        for version, state in sorted(states.items()):
            status = response.model_version_status.add(
                version=version,
                state=get_model_status_pb2.ModelVersionStatus.State.Value(state.state),
            )
            if state.error:
                status.status.CopyFrom(
                    status_pb2.StatusProto(
                        error_code=grpc.StatusCode.UNKNOWN.value[0], error_message=state.error
                    )
                )
        return response


def add_services(server: grpc.Server, repository: ModelRepository, max_batch: int) -> None:
    prediction_service_pb2_grpc.add_PredictionServiceServicer_to_server(
        PredictionService(repository, max_batch), server
    )
    model_service_pb2_grpc.add_ModelServiceServicer_to_server(ModelService(repository), server)
