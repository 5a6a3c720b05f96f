"""Who may call the server: loopback by default; beyond it, an optional bearer token.

Clients send `authorization: Bearer TOKEN` (gRPC metadata or the HTTP header). The
comparison takes the same time whatever the guess (`hmac.compare_digest`).
"""

from __future__ import annotations

import hmac
import ipaddress
import logging

import grpc

log = logging.getLogger("keras_gan_serving")

UNAUTHENTICATED_MESSAGE = "this server needs 'authorization: Bearer TOKEN'"


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a host name: it may resolve anywhere
        return False


def authorized(header: str | None, token: str | None) -> bool:
    if token is None:
        return True
    expected = f"Bearer {token}".encode()
    return header is not None and hmac.compare_digest(header.encode(), expected)


class TokenInterceptor(grpc.ServerInterceptor):
    """Answers UNAUTHENTICATED (before any handler runs) without the right token."""

    def __init__(self, token: str):
        self.token = token

        def refuse(request, context):
            context.abort(grpc.StatusCode.UNAUTHENTICATED, UNAUTHENTICATED_MESSAGE)

        self._refusal = grpc.unary_unary_rpc_method_handler(refuse)

    def intercept_service(self, continuation, handler_call_details):
        metadata = dict(handler_call_details.invocation_metadata or ())
        if authorized(metadata.get("authorization"), self.token):
            return continuation(handler_call_details)
        return self._refusal
