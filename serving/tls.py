"""TLS for `kgan serve --ssl_config_file`: TF Serving's `SSLConfig` in text format, the
PEM texts themselves (not file names), as tensorflow_model_server reads them:

    server_key: "-----BEGIN PRIVATE KEY-----\\n...\\n-----END PRIVATE KEY-----\\n"
    server_cert: "-----BEGIN CERTIFICATE-----\\n...\\n-----END CERTIFICATE-----\\n"
    custom_ca: "-----BEGIN CERTIFICATE-----\\n..."   # optional: the clients' CA
    client_verify: true                              # mutual TLS: clients need a cert

gRPC serves it as TF Serving does; REST (plain HTTP in TF Serving) serves HTTPS with
the same key and certificate, so a token never crosses the network in clear.
"""

from __future__ import annotations

import contextlib
import os
import ssl
import tempfile
from dataclasses import dataclass

from keras_gan_serving import textproto

# TF Serving's ssl_config.proto.
_SSL_CONFIG = textproto.message_class(
    "tensorflow.serving.SSLConfig",
    [
        (1, "server_key", "string", False),
        (2, "server_cert", "string", False),
        (3, "custom_ca", "string", False),
        (4, "client_verify", "bool", False),
    ],
)


@dataclass(frozen=True)
class TLSConfig:
    key: bytes
    cert: bytes
    client_ca: bytes | None = None  # clients' certificates are checked against it
    client_verify: bool = False  # a client without a certificate from client_ca is refused

    def rest_context(self) -> ssl.SSLContext:
        """The REST server's context (TLS 1.2 or newer)."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        with pem_file(self.cert + b"\n" + self.key) as chain:
            context.load_cert_chain(chain)
        if self.client_ca:
            context.load_verify_locations(cadata=self.client_ca.decode("ascii"))
            context.verify_mode = ssl.CERT_REQUIRED if self.client_verify else ssl.CERT_OPTIONAL
        return context

    def grpc_credentials(self):
        import grpc

        return grpc.ssl_server_credentials(
            [(self.key, self.cert)],
            root_certificates=self.client_ca,
            require_client_auth=self.client_verify,
        )


def read_ssl_config(path: str | os.PathLike) -> TLSConfig:
    """The server's key, certificate and client policy from an SSLConfig file.

    Raises:
        FileNotFoundError: no such file.
        ValueError: not an SSLConfig, a missing or unusable key or certificate, or
            client_verify without custom_ca; names the file.
    """
    where = f"SSL config file {str(path)!r}"
    message = textproto.read(
        path, _SSL_CONFIG(), "SSL config", 'server_key: "-----BEGIN PRIVATE KEY-----\\n..." '
        'server_cert: "-----BEGIN CERTIFICATE-----\\n..."',
    )  # fmt: skip
    if not message.server_key or not message.server_cert:
        raise ValueError(
            f"{where}: server_key and server_cert are required (the PEM texts themselves)"
        )
    if message.client_verify and not message.custom_ca:
        raise ValueError(f"{where}: client_verify needs custom_ca, the CA of client certificates")
    config = TLSConfig(
        message.server_key.encode("ascii", "replace"),
        message.server_cert.encode("ascii", "replace"),
        message.custom_ca.encode("ascii", "replace") or None,
        message.client_verify,
    )
    try:
        config.rest_context()  # loads both PEMs: a wrong or mismatched one fails here
    except (ssl.SSLError, ValueError) as e:
        raise ValueError(
            f"{where}: the key, certificate or CA is not usable PEM, or the key does not "
            f"belong to the certificate ({e})"
        ) from None
    return config


@contextlib.contextmanager
def pem_file(data: bytes):
    """`data` in a private temporary file (Python's ssl loads key chains from files)."""
    fd, name = tempfile.mkstemp(suffix=".pem")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        yield name
    finally:
        os.unlink(name)
