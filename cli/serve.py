"""`kgan serve` and `kgan predict`: TF Serving's gRPC and REST APIs, server and client."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import click

from keras_gan_cli.options import Failure
from keras_gan_cli.options import InputError
from keras_gan_cli.options import NumRange
from keras_gan_cli.options import handle_errors
from keras_gan_cli.options import json_option
from keras_gan_cli.options import message
from keras_gan_cli.options import temperature_option
from keras_gan_cli.sample import write_lines


def tf_serving_file(flag: str, help: str):  # noqa: A002  (click's name)
    """A tensorflow_model_server config-file flag: its name, and ours with dashes."""
    return click.option(
        flag, flag.replace("_", "-"), flag[2:], type=click.Path(dir_okay=False), help=help
    )


@click.command()
@click.option(
    "--model-base-path",
    "--model_base_path",
    default="saved_models",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Folder of model folders (NAME/VERSION/), or one model folder.",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to bind.")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8500,
    show_default=True,
    help="gRPC port (0: any free port).",
)
@click.option(
    "--rest-port",
    type=click.IntRange(0, 65535),
    default=8501,
    show_default=True,
    help="REST port (0: any free port).",
)
@click.option(
    "--rest_api_port",
    "tf_rest_port",
    type=click.IntRange(0, 65535),
    help="tensorflow_model_server's name for the REST port; as there, 0 turns REST off.",
)
@click.option(
    "--model_name",
    "model_name",
    help="tensorflow_model_server's single-model form: serve --model_base_path (one "
    "model's folder of versions) under this name.",
)
@tf_serving_file(
    "--model_config_file",
    "tensorflow_model_server's model config (ModelServerConfig, text format): the "
    "models, their base paths and version policies; instead of --model_base_path.",
)
@click.option(
    "--enable_batching",
    "--enable-batching",
    "enable_batching",
    is_flag=True,
    help="Run concurrent requests to one model signature together (TF Serving's batching).",
)
@tf_serving_file(
    "--batching_parameters_file",
    "TF Serving's BatchingParameters (text format): max_batch_size, "
    "batch_timeout_micros, max_enqueued_batches, num_batch_threads, allowed_batch_sizes.",
)
@tf_serving_file(
    "--ssl_config_file",
    "TF Serving's SSLConfig (text format, the PEM texts inline): gRPC and REST over "
    "TLS; client_verify: true with custom_ca requires client certificates.",
)
@click.option("--no-rest", is_flag=True, help="Serve gRPC only.")
@click.option(
    "--num-versions",
    type=click.IntRange(min=0),
    default=1,
    show_default=True,
    help="Newest versions served per model (0: all).",
)
@click.option(
    "--poll-seconds",
    "--file_system_poll_wait_seconds",
    type=click.FloatRange(min=0.05),
    default=1.0,
    show_default=True,
    help="How often new versions are looked for.",
)
@click.option("--max-batch-size", type=click.IntRange(min=1), default=256, show_default=True)
@click.option(
    "--max-message-mb",
    type=click.FloatRange(min=0.001),
    default=4.0,
    show_default=True,
    help="Largest request accepted.",
)
@click.option(
    "--token",
    envvar="KGAN_TOKEN",
    help="Require 'authorization: Bearer TOKEN' on every call (env KGAN_TOKEN; "
    "use it when --host is not loopback).",
)
@handle_errors(FileNotFoundError)
def serve(
    model_base_path,
    host,
    port,
    rest_port,
    tf_rest_port,
    model_name,
    model_config_file,
    enable_batching,
    batching_parameters_file,
    ssl_config_file,
    no_rest,
    num_versions,
    poll_seconds,
    max_batch_size,
    max_message_mb,
    token,
):
    """Serve exported generators over TF Serving's gRPC and REST APIs.

    New versions written under the base path are loaded while serving; the old
    version answers until the new one is ready. Stop with Ctrl-C or SIGTERM.
    tensorflow_model_server's flag names work too (--port, --rest_api_port,
    --model_name, --model_base_path, --model_config_file, --enable_batching,
    --batching_parameters_file, --ssl_config_file, --file_system_poll_wait_seconds), so
    a deployment can swap one binary for the other.

    \b
    Examples:
      kgan serve                                   # saved_models/ on 127.0.0.1:8500/8501
      kgan serve --model-base-path saved_models --num-versions 2
      kgan serve --model_config_file serving/models.config --rest_api_port 8501
      curl -d '{"signature_name": "generate", "instances": [{"seed": 7, "labels": 0}]}' \\
          127.0.0.1:8501/v1/models/glyphs:predict
    """
    import logging

    from keras_gan.shipped import find_model
    from keras_gan_serving import batching
    from keras_gan_serving import model_config
    from keras_gan_serving import tls
    from keras_gan_serving.server import Limits
    from keras_gan_serving.server import ModelServer

    if tf_rest_port is not None:  # TF Serving's meaning: 0 is no REST
        rest_port, no_rest = tf_rest_port, no_rest or tf_rest_port == 0
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    sources = None
    if model_config_file is not None:
        if model_name is not None:  # as tensorflow_model_server refuses both
            raise InputError("--model_config_file and --model_name exclude each other")
        try:
            sources = model_config.read(model_config_file)
        except ValueError as e:
            raise InputError(str(e)) from None
    parameters = None
    if enable_batching:
        try:
            parameters = (
                batching.read_parameters(batching_parameters_file)
                if batching_parameters_file
                else batching.BatchingParameters()
            )
        except ValueError as e:
            raise InputError(str(e)) from None
    elif batching_parameters_file:
        raise InputError("--batching_parameters_file needs --enable_batching")
    try:
        secure = tls.read_ssl_config(ssl_config_file) if ssl_config_file else None
    except ValueError as e:
        raise InputError(str(e)) from None
    limits = Limits(max_batch=max_batch_size, max_message_bytes=int(max_message_mb * (1 << 20)))
    try:
        server = ModelServer(
            None if sources else find_model(model_base_path),
            host,
            port,
            None if no_rest else rest_port,
            num_versions,
            poll_seconds,
            limits,
            token,
            model_name,
            sources,
            parameters,
            secure,
        )
    except FileNotFoundError:
        raise  # a missing base path is bad input (handle_errors: exit 2)
    except (OSError, RuntimeError) as e:
        raise Failure(f"cannot listen on {host}:{port}/{rest_port}: {message(e)}") from None
    stop = stop_signals(signal.SIGINT, signal.SIGTERM)
    server.start()
    rest = f", REST {host}:{server.rest_port}" if server.rest_port else ""
    rest += " (TLS)" if secure else ""
    served = model_config_file if sources else model_base_path
    click.echo(f"serving {served} on gRPC {host}:{server.port}{rest}", err=True)
    os.read(stop, 1)
    server.stop()


def stop_signals(*signums) -> int:
    """A file descriptor that becomes readable when one of `signums` arrives. Linux hands
    a process's signal to any thread not blocking it (gRPC's, TF's), and Python runs its
    handler only when the main thread next runs bytecode, which a main thread asleep on a
    lock never does (CPython issue 85300). The wakeup fd is written by whichever thread
    takes the signal."""
    readable, writable = os.pipe()  # open for the life of the process
    os.set_blocking(writable, False)  # as set_wakeup_fd requires
    signal.set_wakeup_fd(writable)
    for signum in signums:
        signal.signal(signum, lambda *_: None)  # caught, so it wakes us instead of killing
    return readable


@click.command()
@click.option("--target", required=True, help="HOST:PORT of a kgan serve or TF Serving server.")
@click.option("--model", required=True, help="Model name on the server.")
@click.option("--version", type=click.IntRange(min=1), help="Model version (default: newest).")
@click.option(
    "--seeds", type=NumRange(), default="0-7", show_default=True, help="Seeds, e.g. 0-15 or 1,5,9."
)
@click.option("--labels", help="Labels to draw; for glyph models the characters themselves.")
@click.option("--grid", "as_grid", is_flag=True, help="Write one PNG grid instead of a folder.")
@click.option(
    "--out",
    type=click.Path(),
    help="Output folder (or PNG with --grid); text models: a file (default: print the lines).",
)
@temperature_option
@click.option("--rest", is_flag=True, help="Use the REST API (TARGET is then the REST port).")
@click.option(
    "--metadata",
    type=click.Path(dir_okay=False, exists=True),
    help="The model's kgan.json, for servers that do not give it (tensorflow_model_server).",
)
@click.option("--timeout", type=click.FloatRange(min=0.1), default=60.0, show_default=True)
@click.option("--token", envvar="KGAN_TOKEN", help="The server's bearer token (env KGAN_TOKEN).")
@click.option(
    "--ca",
    type=click.Path(dir_okay=False, exists=True),
    help="PEM file of the CA of a TLS server's certificate (then TLS is used).",
)
@click.option(
    "--client-cert",
    type=click.Path(dir_okay=False, exists=True),
    help="PEM certificate of this client, for a server that verifies clients.",
)
@click.option(
    "--client-key",
    type=click.Path(dir_okay=False, exists=True),
    help="PEM private key of --client-cert.",
)
@json_option("what was written")
@handle_errors()
def predict(
    target, model, version, seeds, labels, as_grid, out, temperature, rest, metadata, timeout,
    token, ca, client_cert, client_key, as_json,
):  # fmt: skip
    """Generate images on a server and write them as PNGs, or lines of text (like kgan sample).

    \b
    Examples:
      kgan predict --target 127.0.0.1:8500 --model glyphs --labels 永字八法 --seeds 0-3 --out out/
      kgan predict --target 127.0.0.1:8501 --rest --model glyphs --labels Ab --grid --out g.png
      kgan predict --target 127.0.0.1:8500 --model poems --seeds 0-9 --temperature 0.8
      kgan predict --target host:8500 --ca ca.pem --model glyphs --labels 永 --out out/
    """
    from keras_gan import sampling
    from keras_gan_serving.client import GeneratorClient
    from keras_gan_serving.client import ServingError
    from keras_gan_serving.client import remote_sampler

    try:
        meta = json.loads(Path(metadata).read_text(encoding="utf-8")) if metadata else None
        pems = [None if p is None else Path(p).read_bytes() for p in (ca, client_cert, client_key)]
        with GeneratorClient(
            target, model, version, "rest" if rest else "grpc", timeout=timeout, token=token,
            ca=pems[0], client_cert=pems[1], client_key=pems[2],
        ) as client:  # fmt: skip
            sampler = remote_sampler(client, meta)
            if sampler.modality == "text":
                if labels or as_grid:
                    raise InputError("a text model takes no --labels or --grid")
                write_lines(sampler.lines(seeds, temperature), out, as_json)
                return
            if not out:
                raise InputError(
                    "--out is required for an image model (a folder, or a PNG with --grid)"
                )
            written = sampling.save_samples(sampler, seeds, out, labels, as_grid)
    except ServingError as e:
        refused = ("INVALID_ARGUMENT", "NOT_FOUND", "UNAUTHENTICATED")
        kind = InputError if e.code in refused else Failure
        raise kind(f"server {target}: {message(e)}") from None
    if as_json:
        click.echo(json.dumps({"written": [str(p) for p in written]}, ensure_ascii=False))
    else:
        click.echo(f"wrote {len(written)} file(s) to {out}")
