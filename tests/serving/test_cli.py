"""`kgan serve` as a real process serving the shipped model; `kgan predict` gets PNGs back."""

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from keras_gan_serving.client import GeneratorClient
from keras_gan_serving.client import ServingError
from tests.serving.conftest import SHIPPED

KGAN = [sys.executable, "-m", "keras_gan_cli.main"]


@contextlib.contextmanager
def serving(*args, env=None):
    """`kgan serve ARGS` as a process; yields (the process, the gRPC address it reported,
    that line). SIGTERM at the end must stop it cleanly; a watchdog kills a hung one."""
    env = env or dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    # A server that hangs on SIGTERM is aborted; faulthandler prints where its threads are.
    env = {**env, "PYTHONFAULTHANDLER": "1"}
    server = subprocess.Popen(
        [*KGAN, "serve", *map(str, args)], stderr=subprocess.PIPE, text=True, env=env
    )
    watchdog = threading.Timer(300, server.kill)  # a hung server fails the test, not CI
    watchdog.start()
    try:
        for line in server.stderr:
            match = re.search(r"on gRPC (127\.0\.0\.1:\d+)", line)
            if match:
                break
        else:
            raise AssertionError("kgan serve did not report its port")
        yield server, match.group(1), line
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            assert server.wait(timeout=60) == 0
        except subprocess.TimeoutExpired:
            server.send_signal(signal.SIGABRT)
            raise AssertionError(f"kgan serve hung on SIGTERM:\n{server.stderr.read()}")
        finally:
            watchdog.cancel()


def test_serve_predict_over_grpc_and_rest_then_stop_on_sigterm(tmp_path):
    base = tmp_path / "saved_models"
    shutil.copytree(SHIPPED, base / "glyphs")
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    with serving("--model-base-path", base, "--port", "0", "--rest-port", "0") as (
        server,
        target,
        line,
    ):
        grpc_port = target.rsplit(":", 1)[1]
        rest_port = re.search(r"REST 127\.0\.0\.1:(\d+)", line).group(1)

        def predict(*args):
            return subprocess.run(
                [*KGAN, "predict", "--model", "glyphs", *args],
                capture_output=True,
                text=True,
                env=env,
                timeout=120,
            )

        done = predict(
            "--target", f"127.0.0.1:{grpc_port}", "--labels", "永A", "--seeds", "0-1",
            "--out", tmp_path / "out",
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        names = sorted(p.name for p in (tmp_path / "out").iterdir())
        assert names == ["seed0000-A.png", "seed0000-永.png", "seed0001-A.png", "seed0001-永.png"]
        done = predict(
            "--target", f"127.0.0.1:{grpc_port}", "--labels", "永", "--seeds", "5",
            "--out", tmp_path / "out", "--json",
        )  # fmt: skip
        assert json.loads(done.stdout) == {"written": [str(tmp_path / "out" / "seed0005-永.png")]}
        png = Image.open(tmp_path / "out" / "seed0001-永.png")
        assert png.size == (64, 64) and "Synthetic" in png.info["Description"]

        done = predict(
            "--target", f"127.0.0.1:{rest_port}", "--rest", "--labels", "永A", "--seeds", "0-1",
            "--grid", "--out", tmp_path / "grid.png",
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert Image.open(tmp_path / "grid.png").size == (2 * 66 + 2, 2 * 66 + 2)

        done = predict("--target", f"127.0.0.1:{grpc_port}", "--labels", "☃", "--out", tmp_path)
        assert done.returncode == 2 and "unknown label(s) '☃'" in done.stderr
        done = predict(
            "--target", f"127.0.0.1:{grpc_port}", "--version", "99", "--out", tmp_path / "x"
        )
        assert done.returncode == 2 and "no available version 99" in done.stderr
        done = predict("--target", f"127.0.0.1:{grpc_port}", "--labels", "A")
        assert done.returncode == 2 and "--out is required for an image model" in done.stderr
        assert server.poll() is None  # still up
        sigterm_a_thread(server)
        assert server.wait(timeout=60) == 0


def sigterm_a_thread(process):
    """SIGTERM to one of `process`'s threads other than the main one, as Linux may hand
    a process's signal to any thread not blocking it (gRPC's, TF's). Python runs its
    handler only when the main thread next runs bytecode: a main thread asleep on a lock
    never would (CPython issue 85300)."""
    import ctypes

    term = 1 << (signal.SIGTERM - 1)

    def takes_sigterm(tid):  # a thread-directed signal waits while its thread blocks it
        status = Path(f"/proc/{process.pid}/task/{tid}/status").read_text()
        return not int(re.search(r"SigBlk:\s*([0-9a-f]+)", status).group(1), 16) & term

    threads = [int(t) for t in os.listdir(f"/proc/{process.pid}/task") if int(t) != process.pid]
    libc = ctypes.CDLL(None, use_errno=True)
    tid = next(t for t in threads if takes_sigterm(t))
    assert libc.tgkill(process.pid, tid, signal.SIGTERM) == 0, os.strerror(ctypes.get_errno())


def test_serve_reports_a_missing_base_path(tmp_path):
    done = subprocess.run(
        [*KGAN, "serve", "--model-base-path", tmp_path / "nope", "--port", "0"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert "model base path" in done.stderr and "is not a folder" in done.stderr
    assert Path(tmp_path / "nope").exists() is False


def test_serve_flags_token_versions_polling_and_batch_limit(tmp_path):
    """README's `kgan serve` flags, through the real command: --token/KGAN_TOKEN (and
    `kgan predict --token`), --num-versions, --poll-seconds, --max-batch-size; and
    `kgan predict --metadata` reading a model's kgan.json."""
    from keras_gan.export import publish
    from keras_gan.export.layout import newest_version

    shipped = newest_version(SHIPPED)
    base = tmp_path / "saved_models"
    for version in (1, 2):
        publish(shipped, base / "glyphs", version)
    token = "a-long-enough-secret-token"
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", KGAN_TOKEN=token)
    with serving(
        "--model-base-path", base, "--port", "0", "--no-rest", "--num-versions", "1",
        "--poll-seconds", "0.1", "--max-batch-size", "4", "--max-message-mb", "0.05", env=env,
    ) as (server, target, _):  # fmt: skip

        def predict(*args, env=env):
            return subprocess.run(
                [*KGAN, "predict", "--target", target, "--model", "glyphs", "--labels", "A",
                 "--out", tmp_path / "out", "--seeds", "0", *args],  # a later --seeds wins
                capture_output=True, text=True, env=env, timeout=120,
            )  # fmt: skip

        no_token = {k: v for k, v in env.items() if k != "KGAN_TOKEN"}
        done = predict(env=no_token)
        assert done.returncode == 2 and "UNAUTHENTICATED" in done.stderr
        assert predict("--token", token, env=no_token).returncode == 0  # the flag
        assert predict().returncode == 0, predict().stderr  # KGAN_TOKEN
        done = predict("--version", "1")  # --num-versions 1: only the newest is served
        assert done.returncode == 2 and "no available version 1" in done.stderr
        done = predict("--seeds", "0-4")  # 5 rows, --max-batch-size 4
        assert done.returncode == 2 and "this server serves at most 4 per request" in done.stderr
        # --max-message-mb 0.05: a 64 KB request is refused by gRPC itself.
        with GeneratorClient(target, "glyphs", retries=0, token=token) as client:
            with pytest.raises(ServingError, match="RESOURCE_EXHAUSTED"):
                client.predict({"z": np.zeros((4, 4096), np.float32)})
        done = predict("--metadata", shipped / "assets.extra" / "kgan.json", "--seeds", "7")
        assert done.returncode == 0 and (tmp_path / "out" / "seed0007-A.png").is_file()
        # --poll-seconds 0.1: a version published while serving is served soon after.
        publish(shipped, base / "glyphs", 3)
        deadline = time.monotonic() + 60
        while predict("--version", "3").returncode != 0:
            assert time.monotonic() < deadline, "version 3 was never served"
            time.sleep(0.2)
        assert server.poll() is None


def test_serve_takes_tensorflow_model_server_flag_names(tmp_path):
    """The flags of a tensorflow_model_server deployment, unchanged: --model_name with
    --model_base_path as one model's folder, --rest_api_port=0 (REST off, as there),
    --file_system_poll_wait_seconds."""
    base = tmp_path / "models" / "glyphs"
    shutil.copytree(SHIPPED, base)
    with serving(
        "--port=0", "--rest_api_port=0", "--model_name=generator", f"--model_base_path={base}",
        "--file_system_poll_wait_seconds=2",
    ) as (_, target, line):  # fmt: skip
        assert "REST" not in line  # --rest_api_port=0: no REST, as in TF Serving
        with GeneratorClient(target, "generator") as client:
            images = client.generate([0], [0])
        assert images.shape == (1, 64, 64, 1)
        with pytest.raises(ServingError, match="served models: generator"):
            with GeneratorClient(target, "glyphs") as client:
                client.generate([0], [0])


def test_serve_takes_a_tensorflow_model_server_model_config_file(tmp_path):
    base = tmp_path / "models" / "glyphs"
    shutil.copytree(SHIPPED, base)
    config = tmp_path / "models.config"
    config.write_text(f'model_config_list {{ config {{ name: "zi" base_path: "{base}" }} }}')
    with serving("--port=0", "--rest_api_port=0", f"--model_config_file={config}") as (
        _, target, line,
    ):  # fmt: skip
        assert f"serving {config} on gRPC" in line
        with GeneratorClient(target, "zi") as client:
            assert client.generate([0], [0]).shape == (1, 64, 64, 1)
    both = subprocess.run(
        [*KGAN, "serve", f"--model_config_file={config}", "--model_name=zi"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert both.returncode == 2
    assert "--model_config_file and --model_name exclude each other" in both.stderr
    config.write_text("model_config_list { config { name: 'zi' } }")
    bad = subprocess.run(
        [*KGAN, "serve", f"--model_config_file={config}"], capture_output=True, text=True
    )
    assert bad.returncode == 2 and "model 'zi': base_path is required" in bad.stderr
