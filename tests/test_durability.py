"""fsync discipline, proved on the system calls of a real `kgan fit` (strace): every
rename that publishes data comes after an fsync of what it names and before an fsync of
the folder it lands in, and every checkpoint file is fsynced before the manifest that
vouches for it is renamed into place."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.tiny import TINY

CALL = re.compile(r"^(?:\d+\s+)?(\w+)\((.*)\)\s+= (-?\d+)")  # "PID  call(args) = result"
FD_PATH = re.compile(r"^\d+<(.+)>$")


def traced_calls(log: Path, cwd: Path) -> list[tuple[str, list[str]]]:
    """(call, paths) of the successful fsync/rename calls, in order; fds as paths, and
    relative paths (as given to rename) made absolute from `cwd`."""
    calls = []
    for line in log.read_text(errors="replace").splitlines():
        match = CALL.match(line)
        if not match or match.group(3) != "0":
            continue
        name, args = match.group(1), [a.strip() for a in match.group(2).split(", ")]
        if name in ("fsync", "fdatasync"):
            fd = FD_PATH.match(args[0])
            calls.append(("fsync", [fd.group(1)] if fd else []))
        elif name in ("rename", "renameat", "renameat2"):
            paths = [str(cwd / a.strip('"')) for a in args if a.startswith('"')]
            calls.append(("rename", paths))
    return calls


def is_published(target: str, root: Path) -> bool:
    """Data a user or server reads. Not TensorBoard's event logs, nor TensorFlow's own
    checkpoint files: TF renames those without fsync, and they count only once the
    manifest names them, which comes after their fsync (checked in the test)."""
    path = Path(target)
    if root not in path.parents or "tensorboard" in path.parts:
        return False
    if any(p.startswith(".") and p.endswith(".tmp") for p in path.parent.parts):
        return False  # inside a folder being built: published by that folder's rename
    return "checkpoints" not in path.parts or path.name == "manifest.json"


@pytest.mark.skipif(shutil.which("strace") is None, reason="strace is not installed")
def test_every_published_rename_is_fsynced_before_and_after(tmp_path):
    run_dir, log = tmp_path / "run", tmp_path / "strace.log"
    command = [
        sys.executable, "-m", "keras_gan_cli.main", "fit", "--run-dir", run_dir,
        "--export", "durable",
        *[a for kv in TINY for a in ("--set", kv)],
    ]  # fmt: skip
    done = subprocess.run(
        ["strace", "-f", "-y", "-qq", "-o", log,
         "-e", "trace=fsync,fdatasync,rename,renameat,renameat2", *map(str, command)],
        cwd=tmp_path, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    calls = traced_calls(log, tmp_path)
    ours = [
        (i, paths)
        for i, (name, paths) in enumerate(calls)
        if name == "rename" and len(paths) == 2 and is_published(paths[1], tmp_path)
    ]
    published = {Path(target).name for _, (_, target) in ours}
    assert {"model.keras", "manifest.json", "config.json", "dataset.json"} <= published, published
    assert any(Path(t).parent.name == "durable" for _, (_, t) in ours)  # the export version

    def synced_before(i, path):
        return any(
            name == "fsync" and p and (p[0] == path or p[0].startswith(path + "/"))
            for name, p in calls[:i]
        )

    for i, (source, target) in ours:
        assert synced_before(i, source), f"{source} renamed to {target} before an fsync"
        folder = str(Path(target).parent)
        after = [p[0] for name, p in calls[i + 1 :] if name == "fsync" and p]
        assert folder in after, f"no fsync of {folder} after {target} was renamed into it"
    # The last manifest (step 2) is renamed only after the checkpoint's files are fsynced.
    manifest = [i for i, (_, t) in ours if t.endswith("checkpoints/manifest.json")][-1]
    data = [p[0] for name, p in calls[:manifest] if name == "fsync" and p]
    assert any(re.search(r"ckpt-2\.data-\d+-of-\d+$", p) for p in data)
    assert any(p.endswith("ckpt-2.index") for p in data)


def test_one_writer_per_run_and_no_stale_lock_after_a_kill(tmp_path):
    import os
    import signal
    import time

    from keras_gan.files import exclusive_lock

    run_dir = tmp_path / "run"
    settings = [a for kv in [*TINY, "train.steps=100000"] for a in ("--set", kv)]
    command = [sys.executable, "-m", "keras_gan_cli.main", "fit", "--run-dir", str(run_dir)]
    first = subprocess.Popen([*command, *settings], cwd=tmp_path, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while not (run_dir / "checkpoints" / "manifest.json").exists():  # training is under way
            assert first.poll() is None and time.monotonic() < deadline, "fit did not start"
            time.sleep(0.2)
        assert (run_dir / ".lock").read_text().strip() == str(first.pid)
        second = subprocess.run(
            [*command, "--resume"], cwd=tmp_path, capture_output=True, text=True, timeout=300
        )
        assert second.returncode == 2, second.stderr[-2000:]
        assert f"run directory {str(run_dir)!r} is in use by process {first.pid}" in second.stderr
    finally:
        os.kill(first.pid, signal.SIGKILL)
        first.wait()
    with exclusive_lock(run_dir, "run directory"):  # the kernel released the dead one's lock
        assert (run_dir / ".lock").read_text().strip() == str(os.getpid())


def test_concurrent_publishes_take_distinct_versions(tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    from keras_gan.export.saved_model import publish

    source = tmp_path / "export"
    source.mkdir()
    (source / "saved_model.pb").write_bytes(b"x" * 100_000)
    root = tmp_path / "saved_models" / "g"
    with ThreadPoolExecutor(8) as pool:
        targets = list(pool.map(lambda _: publish(source, root), range(8)))
    assert sorted(int(t.name) for t in targets) == list(range(1, 9))
    assert all((t / "saved_model.pb").stat().st_size == 100_000 for t in targets)
