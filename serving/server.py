"""`kgan serve`: TF Serving's gRPC and REST APIs over a `saved_models/` folder."""

from __future__ import annotations

import logging
import threading
from concurrent import futures
from dataclasses import dataclass

import grpc

from keras_gan_serving.access import TokenInterceptor
from keras_gan_serving.access import is_loopback
from keras_gan_serving.batching import BatchingParameters
from keras_gan_serving.grpc_service import RequestDecoding
from keras_gan_serving.grpc_service import UnreadAnswers
from keras_gan_serving.grpc_service import add_services
from keras_gan_serving.repository import ModelRepository
from keras_gan_serving.rest import RestServer
from keras_gan_serving.tls import TLSConfig

log = logging.getLogger("keras_gan_serving")


@dataclass(frozen=True)
class Limits:
    """What one request may ask for; beyond it the server answers an error, not a crash."""

    max_batch: int = 256  # rows per request
    max_message_bytes: int = 4 << 20  # request size (gRPC message, REST body)
    max_response_bytes: int = 64 << 20
    max_concurrent: int = 32  # more in flight -> RESOURCE_EXHAUSTED / HTTP 429
    workers: int = 8
    # REST: a request must arrive whole within this (also a kept-alive connection's idle
    # limit); more open connections than this are refused with 503. gRPC: an answer
    # must be read within this, and at most max_unread_bytes of answers wait unread.
    request_seconds: float = 10.0
    max_connections: int = 1024
    max_unread_bytes: int = 256 << 20


# gRPC connections: pinged when quiet (a vanished client is noticed within about
# 80 s), closed after 5 idle minutes, and renewed after 30 (what keeps long-lived
# clients spread over replicas behind a balancer).
GRPC_CONNECTIONS = [
    ("grpc.keepalive_time_ms", 60_000),
    ("grpc.keepalive_timeout_ms", 20_000),
    ("grpc.max_connection_idle_ms", 300_000),
    ("grpc.max_connection_age_ms", 1_800_000),
    ("grpc.max_connection_age_grace_ms", 60_000),
]


class ModelServer:
    """Holds a `ModelRepository` and serves it over gRPC and (optionally) REST.

    Args:
        model_base_path: folder of model folders (`saved_models/`) or one model folder.
        host: interface to bind; 127.0.0.1 unless the server is meant to be reachable.
        port: gRPC port; 0 picks a free one (see `.port` after `start()`).
        rest_port: REST port; 0 picks a free one, `None` serves no REST.
        num_versions: newest versions kept per model (0: all found).
        poll_seconds: how often the base path is scanned for new versions.
        token: if set, every call needs `authorization: Bearer TOKEN` (else
            UNAUTHENTICATED / HTTP 401); binding beyond loopback without one warns.
        model_name: serve `model_base_path` as this one model's folder.
        sources: the models to serve, their folders and version policies (from
            `model_config.read`), instead of `model_base_path`.
        batching: merge concurrent requests (`batching.BatchingParameters`); then every
            request in flight has a worker thread, so the waiting ones can merge.
        tls: serve gRPC and REST over TLS (`tls.read_ssl_config`); binding beyond
            loopback without it warns.
    """

    def __init__(
        self,
        model_base_path,
        host: str = "127.0.0.1",
        port: int = 8500,
        rest_port: int | None = 8501,
        num_versions: int = 1,
        poll_seconds: float = 1.0,
        limits: Limits = Limits(),
        token: str | None = None,
        model_name: str | None = None,
        sources: dict | None = None,
        batching: BatchingParameters | None = None,
        tls: TLSConfig | None = None,
    ):
        for name, value in (("max_batch", limits.max_batch), ("workers", limits.workers)):
            if value < 1:
                raise ValueError(f"{name} must be at least 1, got {value}")
        if token is not None and len(token) < 16:
            raise ValueError("the token must be at least 16 characters")
        if token is None and not is_loopback(host):
            log.warning(
                "serving on %s without a token: anyone who can reach it can use it "
                "(set --token or KGAN_TOKEN)",
                host,
            )
        if tls is None and not is_loopback(host):
            log.warning(
                "serving on %s without TLS: requests, images and tokens cross the network "
                "in clear (set --ssl_config_file)",
                host,
            )
        self.repository = ModelRepository(
            model_base_path, num_versions, poll_seconds, model_name, sources, batching
        )
        workers = max(limits.workers, limits.max_concurrent) if batching else limits.workers
        self.host, self.limits = host, limits
        self.unread = UnreadAnswers(limits.request_seconds, limits.max_unread_bytes)
        self._grpc = grpc.server(
            futures.ThreadPoolExecutor(max_workers=workers, thread_name_prefix="grpc"),
            # The token is checked first: a caller without it learns nothing, not even
            # whether its bytes decode.
            interceptors=[
                *([TokenInterceptor(token)] if token else []),
                RequestDecoding(),
                self.unread,
            ],
            maximum_concurrent_rpcs=limits.max_concurrent,
            options=[
                ("grpc.max_receive_message_length", limits.max_message_bytes),
                ("grpc.max_send_message_length", limits.max_response_bytes),
                *GRPC_CONNECTIONS,
            ],
        )
        add_services(self._grpc, self.repository, limits.max_batch)
        address = f"{host}:{port}"
        self.port = (
            self._grpc.add_secure_port(address, tls.grpc_credentials())
            if tls
            else self._grpc.add_insecure_port(address)
        )
        if self.port == 0:
            raise OSError(f"cannot bind gRPC to {host}:{port}")
        self._rest = None
        if rest_port is not None:
            self._rest = RestServer(
                (host, rest_port),
                self.repository,
                limits.max_batch,
                limits.max_message_bytes,
                limits.max_concurrent,
                token,
                tls.rest_context() if tls else None,
                limits.max_connections,
                limits.request_seconds,
            )
        self.rest_port = self._rest.server_address[1] if self._rest else None

    def start(self) -> ModelServer:
        """Loads the models found now, then serves (non-blocking)."""
        self.repository.start()
        self.unread.start()
        self._grpc.start()
        if self._rest is not None:
            threading.Thread(target=self._rest.serve_forever, name="rest", daemon=True).start()
        log.info(
            "serving %s over gRPC %s:%d%s",
            ", ".join(self.repository.models()) or "no models yet",
            self.host,
            self.port,
            f" and REST {self.host}:{self.rest_port}" if self._rest else "",
        )
        return self

    def stop(self, grace: float = 2.0) -> None:
        if self._rest is not None:
            self._rest.shutdown()
            self._rest.server_close()
        self._grpc.stop(grace).wait()
        self.unread.stop()
        self.repository.stop()

    def __enter__(self) -> ModelServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
