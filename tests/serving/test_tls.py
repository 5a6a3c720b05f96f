"""`kgan serve --ssl_config_file`: gRPC and REST over TLS with certificates the test
makes (openssl), mutual TLS, and named errors for bad SSL configs."""

import json
import logging
import os
import subprocess
import sys

import numpy as np
import pytest

from keras_gan_serving.client import GeneratorClient
from keras_gan_serving.client import ServingError
from keras_gan_serving.server import ModelServer
from keras_gan_serving.tls import read_ssl_config
from tests.serving.test_cli import serving


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    """A CA, and a server (127.0.0.1) and a client certificate it signed: PEM bytes."""
    folder = tmp_path_factory.mktemp("pki")
    curve = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    openssl("req", "-x509", *curve, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
            "-subj", "/CN=kgan test CA", cwd=folder)  # fmt: skip
    (folder / "san.ext").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    for name in ("server", "client"):
        openssl("req", *curve, "-keyout", f"{name}.key", "-out", f"{name}.csr",
                "-subj", f"/CN=kgan test {name}", cwd=folder)  # fmt: skip
        openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
                "-CAcreateserial", "-out", f"{name}.pem", "-days", "2", "-extfile", "san.ext",
                cwd=folder)  # fmt: skip
    pems = {p.name: p.read_bytes() for p in folder.iterdir() if p.suffix in (".pem", ".key")}
    return folder, pems


def ssl_config(path, pems, **fields):
    """An SSLConfig file as tensorflow_model_server reads it: the PEM texts inline."""
    values = {"server_key": pems["server.key"], "server_cert": pems["server.pem"], **fields}
    lines = [
        f"{k}: {json.dumps(v.decode() if isinstance(v, bytes) else v)}" for k, v in values.items()
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_grpc_and_rest_over_tls(model_base, pki, tmp_path):
    _, pems = pki
    config = read_ssl_config(ssl_config(tmp_path / "ssl.config", pems))
    with ModelServer(model_base, port=0, rest_port=0, tls=config) as server:
        images = {}
        for protocol, port in (("grpc", server.port), ("rest", server.rest_port)):
            with GeneratorClient(
                f"127.0.0.1:{port}", "glyphs", protocol=protocol, ca=pems["ca.pem"], retries=0
            ) as client:
                images[protocol] = client.generate([3], [1])
        np.testing.assert_array_equal(images["grpc"], images["rest"])
        # A client that does not speak TLS gets nothing.
        for protocol, port in (("grpc", server.port), ("rest", server.rest_port)):
            with GeneratorClient(
                f"127.0.0.1:{port}", "glyphs", protocol=protocol, retries=0, timeout=5
            ) as plain:
                with pytest.raises(ServingError):
                    plain.generate([3], [1])
        # Nor does one that trusts another CA: the server's certificate is checked.
        with GeneratorClient(
            f"127.0.0.1:{server.rest_port}", "glyphs", protocol="rest", ca=pems["client.pem"],
            retries=0,
        ) as wrong:  # fmt: skip
            with pytest.raises(ServingError, match="CERTIFICATE_VERIFY_FAILED"):
                wrong.generate([3], [1])


def test_mutual_tls_refuses_clients_without_a_certificate(model_base, pki, tmp_path):
    _, pems = pki
    path = ssl_config(tmp_path / "ssl.config", pems, custom_ca=pems["ca.pem"], client_verify=True)
    with ModelServer(model_base, port=0, rest_port=0, tls=read_ssl_config(path)) as server:
        for protocol, port in (("grpc", server.port), ("rest", server.rest_port)):
            target = f"127.0.0.1:{port}"
            with GeneratorClient(
                target, "glyphs", protocol=protocol, ca=pems["ca.pem"], retries=0,
                client_cert=pems["client.pem"], client_key=pems["client.key"],
            ) as client:  # fmt: skip
                assert client.generate([0], [0]).shape == (1, 64, 64, 1)
            with GeneratorClient(
                target, "glyphs", protocol=protocol, ca=pems["ca.pem"], retries=0, timeout=5
            ) as anonymous:
                with pytest.raises(ServingError):
                    anonymous.generate([0], [0])


def test_bad_ssl_configs_are_named_errors(pki, tmp_path):
    _, pems = pki
    path = tmp_path / "ssl.config"
    cases = [
        ({"server_cert": b""}, "server_key and server_cert are required"),
        ({"client_verify": True}, "client_verify needs custom_ca"),
        ({"server_key": pems["client.key"]}, "the key does not belong to the certificate"),
        ({"server_cert": b"-----BEGIN CERTIFICATE-----\nnot base64\n"}, "not usable PEM"),
    ]
    for fields, message in cases:
        ssl_config(path, pems, **fields)
        with pytest.raises(ValueError, match=f"SSL config file '{path}': .*{message}"):
            read_ssl_config(path)
    path.write_text("server_key: unquoted")
    with pytest.raises(ValueError, match=r"not a SSLConfig in text format \(1:"):
        read_ssl_config(path)


def test_a_public_bind_without_tls_warns(model_base, caplog):
    with caplog.at_level(logging.WARNING, "keras_gan_serving"):
        ModelServer(model_base, host="0.0.0.0", port=0, rest_port=None, token="x" * 16)
    assert "without TLS: requests, images and tokens cross the network in clear" in caplog.text


def test_serve_and_predict_commands_speak_tls(model_base, pki, tmp_path):
    folder, pems = pki
    config = ssl_config(tmp_path / "ssl.config", pems)
    with serving("--model-base-path", model_base, "--port=0", "--rest_api_port=0",
                 f"--ssl_config_file={config}") as (_, target, line):  # fmt: skip
        assert line.rstrip().endswith("(TLS)")
        done = subprocess.run(
            [sys.executable, "-m", "keras_gan_cli.main", "predict", "--target", target,
             "--model", "glyphs", "--labels", "永", "--seeds", "0-1", "--ca",
             str(folder / "ca.pem"), "--out", str(tmp_path / "out")],
            capture_output=True, text=True, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"),
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert len(list((tmp_path / "out").glob("*.png"))) == 2
