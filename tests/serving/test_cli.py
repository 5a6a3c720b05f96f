"""`kgan serve` as a real process serving the shipped model; `kgan predict` gets PNGs back."""

import os
import re
import shutil
import signal
import subprocess
import sys
import threading
from pathlib import Path

from PIL import Image

from tests.serving.conftest import SHIPPED

KGAN = [sys.executable, "-m", "keras_gan_cli.main"]


def test_serve_predict_over_grpc_and_rest_then_stop_on_sigterm(tmp_path):
    base = tmp_path / "saved_models"
    shutil.copytree(SHIPPED, base / "glyphs")
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    server = subprocess.Popen(
        [*KGAN, "serve", "--model-base-path", base, "--port", "0", "--rest-port", "0"],
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    watchdog = threading.Timer(300, server.kill)  # a hung server fails the test, not CI
    watchdog.start()
    try:
        for line in server.stderr:
            match = re.search(r"on gRPC 127\.0\.0\.1:(\d+), REST 127\.0\.0\.1:(\d+)", line)
            if match:
                grpc_port, rest_port = match.groups()
                break
        else:
            raise AssertionError("kgan serve did not report its ports")

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
            "--target", f"127.0.0.1:{grpc_port}", "--version", "3", "--out", tmp_path / "x"
        )
        assert done.returncode == 2 and "no available version 3" in done.stderr
        done = predict("--target", f"127.0.0.1:{grpc_port}", "--labels", "A")
        assert done.returncode == 2 and "--out is required for an image model" in done.stderr
        assert server.poll() is None  # still up
    finally:
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=60) == 0
        watchdog.cancel()


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
