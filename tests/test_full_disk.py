"""A full disk and a read-only one, for real: training on a small tmpfs that the test
mounts (root only), stopped by ENOSPC at a checkpoint with one clear line and the last
good checkpoint intact, then resumed once there is room, to the same weights as a run
that never stopped."""

import errno
import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf
from fontTools.ttLib import TTFont

from keras_gan import runs
from keras_gan.checkpoints import read_manifest
from keras_gan.files import storage_error
from tests.tiny import TINY

SETTINGS = [a for kv in [*TINY, "train.checkpoint_every=2"] for a in ("--set", kv)]


def fit(cwd, run_dir, steps, *extra):
    command = [
        sys.executable, "-m", "keras_gan_cli.main", "fit", "--run-dir", str(run_dir),
        "--model", "dcgan", "--dataset", "synthetic:16x16x1", *SETTINGS,
        "--set", f"train.steps={steps}", *extra,
    ]  # fmt: skip
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, env=env, timeout=600)


@pytest.fixture
def small_disk(tmp_path):
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(disk)])
    if mounted.returncode != 0:
        pytest.skip("mounting a tmpfs needs root (CAP_SYS_ADMIN)")
    yield disk
    subprocess.run(["umount", "-l", str(disk)], check=True)


def fill(disk, leave_bytes: int):
    free = os.statvfs(disk).f_bavail * os.statvfs(disk).f_frsize
    with open(disk / "blocker", "wb") as f:
        os.posix_fallocate(f.fileno(), 0, max(free - leave_bytes, 0))


def weights(run_dir):
    return [w.numpy() for w in runs.load_run(run_dir)[0].weights]


def test_a_full_disk_stops_training_cleanly_and_resume_continues_identically(tmp_path, small_disk):
    done = fit(tmp_path, tmp_path / "whole", 6)
    assert done.returncode == 0, done.stderr[-2000:]
    assert fit(small_disk, "run", 2).returncode == 0
    fill(small_disk, 40_000)  # room for the logs, not for a checkpoint
    stopped = fit(small_disk, "run", 6, "--resume")
    assert stopped.returncode == 1, stopped.stderr[-2000:]
    error = stopped.stderr.strip().splitlines()[-1]
    assert error.startswith("Error: cannot write run/"), error
    assert "No space left on device" in error and "Traceback" not in stopped.stderr
    assert "last good checkpoint is ckpt-2" in error and "kgan fit --resume --run-dir run" in error
    checkpoints = small_disk / "run" / "checkpoints"
    assert sorted(read_manifest(checkpoints)) == ["ckpt-0", "ckpt-2"]
    assert not list(checkpoints.glob("*_temp*"))  # nothing half-written left behind
    (small_disk / "blocker").unlink()
    resumed = fit(small_disk, "run", 6, "--resume")
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    for a, b in zip(weights(tmp_path / "whole"), weights(small_disk / "run")):
        np.testing.assert_array_equal(a, b)


def test_a_read_only_disk_is_one_line_naming_the_file(small_disk):
    assert fit(small_disk, "run", 2).returncode == 0
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    refused = fit(small_disk, "run", 4, "--resume")
    assert refused.returncode == 1
    assert refused.stderr.strip().splitlines()[-1] == (
        "Error: cannot write run/.lock: Read-only file system"
    )


def test_tensorflows_storage_errors_become_oserrors_naming_the_path():
    full = tf.errors.ResourceExhaustedError(None, None, "x_temp/part; No space left on device")
    error = storage_error(full, "run/checkpoints/ckpt-4")
    assert (error.errno, error.filename) == (errno.ENOSPC, "run/checkpoints/ckpt-4")
    assert storage_error(tf.errors.InvalidArgumentError(None, None, "bad shape"), "x") is None
    assert storage_error(PermissionError(errno.EACCES, "denied"), "f").errno == errno.EACCES


def kgan(cwd, *args):
    command = [sys.executable, "-m", "keras_gan_cli.main", *map(str, args)]
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, env=env, timeout=600)


def test_samples_exports_and_fonts_on_a_full_disk_are_one_line_and_leave_nothing_half(
    tmp_path, small_disk
):
    from keras_gan.shipped import find_model

    assert fit(tmp_path, tmp_path / "run", 2).returncode == 0
    fill(small_disk, 40_000)
    before = [p.name for p in small_disk.iterdir()]
    glyphs = find_model("saved_models/glyphs").resolve()
    grid = kgan(
        small_disk, "sample", glyphs, "--labels", "永字八法", "--seeds", "0-31", "--grid",
        "--out", "grid.png",
    )  # fmt: skip
    exported = kgan(small_disk, "export", tmp_path / "run", "--name", "g")
    font = kgan(
        small_disk, "font", "complete", find_model("saved_models/font2font-zh").resolve(),
        "--charset", "chars=永字八法的是在", "--style", "WenQuanYi Micro Hei", "--out", "F.ttf",
        "--format", "ttf,woff2,ufo",
    )  # fmt: skip
    for done, path in ((grid, "grid.png"), (exported, "saved_models/g"), (font, "F.")):
        assert done.returncode == 1, done.stderr[-2000:]
        error = done.stderr.strip().splitlines()[-1]
        assert error.startswith("Error: cannot write "), error
        assert path.split("/")[0] in error and "No space left on device" in error, error
        assert "Traceback" not in done.stderr
    # Nothing half-written: no grid, no version folder, no UFO, no temporary files; the
    # font formats written before the disk filled are whole, and the export's lock
    # file may stay (it is how exports to one name take turns).
    left = {p.relative_to(small_disk).as_posix() for p in small_disk.rglob("*")}
    fonts = {p for p in left if p.startswith("F.")}  # those written before the disk filled
    assert fonts < {"F.ttf", "F.woff2", "F.html", "F.png"} and "F.ufo" not in left, fonts
    for name in fonts & {"F.ttf", "F.woff2"}:
        assert len(TTFont(small_disk / name).getGlyphOrder()) > 7  # whole fonts
    assert left - fonts - {"saved_models", "saved_models/g", "saved_models/g/.lock"} == set(before)
