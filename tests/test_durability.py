"""Durability, proved on the system calls of a real `kgan fit --export` (strace):

- fsync discipline: every rename that publishes data comes after an fsync of what it
  names and before an fsync of the folder it lands in, and every checkpoint file is
  fsynced before the manifest that vouches for it is renamed into place;
- power cuts: the trace replayed and cut after every call (`tests.power_cut`) leaves a
  run that resumes from its last acknowledged checkpoint, and no published file or
  exported version that is partial;
- one writer per run folder and per export version.
"""

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.power_cut import Replay
from tests.power_cut import crash_states
from tests.power_cut import materialise
from tests.power_cut import read_trace
from tests.power_cut import strace_command
from tests.tiny import TINY

SETTINGS = [a for kv in [*TINY, "train.steps=4"] for a in ("--set", kv)]


def fit_command(*extra):
    fit = [sys.executable, "-m", "keras_gan_cli.main", "fit", "--run-dir", "run"]
    return [*fit, *SETTINGS, *extra]


@pytest.fixture(scope="module")
def traced_fit(tmp_path_factory):
    """(folder, calls): a tiny fit (checkpoints at steps 0, 2, 4) and its export, run
    in an empty folder under strace, every write with its bytes."""
    if shutil.which("strace") is None:
        pytest.skip("strace is not installed")
    root = tmp_path_factory.mktemp("traced")
    log = root.parent / f"{root.name}.strace"
    done = subprocess.run(
        strace_command(log, fit_command("--export", "durable")),
        cwd=root, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return root, read_trace(log)


def renames_and_fsyncs(calls, root: Path) -> list[tuple[str, list[str]]]:
    """(call, absolute paths) of the fsync and rename calls, in order."""
    found = []
    for call in calls:
        if call.name in ("fsync", "fdatasync"):
            found.append(("fsync", [call.fd(0)[1]]))
        elif call.name.startswith("rename"):
            found.append(("rename", [str(root / p) for p in call.paths()]))
    return found


def is_published(target: str, root: Path) -> bool:
    """Data a user or server reads. Not TensorBoard's event logs, nor TensorFlow's own
    checkpoint files: TF renames those without fsync, and they count only once the
    manifest names them, which comes after their fsync (checked below)."""
    path = Path(target)
    if root not in path.parents or "tensorboard" in path.parts:
        return False
    if any(p.startswith(".") and p.endswith(".tmp") for p in path.parent.parts):
        return False  # inside a folder being built: published by that folder's rename
    return "checkpoints" not in path.parts or path.name == "manifest.json"


def test_every_published_rename_is_fsynced_before_and_after(traced_fit):
    root, trace = traced_fit
    calls = renames_and_fsyncs(trace, root)
    ours = [
        (i, paths)
        for i, (name, paths) in enumerate(calls)
        if name == "rename" and len(paths) == 2 and is_published(paths[1], root)
    ]
    published = {Path(target).name for _, (_, target) in ours}
    assert {"model.keras", "manifest.json", "config.json", "dataset.json"} <= published, published
    assert any(Path(t).parent.name == "durable" for _, (_, t) in ours)  # the export version

    def synced_before(i, path):
        return any(
            name == "fsync" and p[0] and (p[0] == path or p[0].startswith(path + "/"))
            for name, p in calls[:i]
        )

    for i, (source, target) in ours:
        assert synced_before(i, source), f"{source} renamed to {target} before an fsync"
        folder = str(Path(target).parent)
        after = [p[0] for name, p in calls[i + 1 :] if name == "fsync"]
        assert folder in after, f"no fsync of {folder} after {target} was renamed into it"
    # The last manifest (step 4) is renamed only after the checkpoint's files are fsynced.
    manifest = [i for i, (_, t) in ours if t.endswith("checkpoints/manifest.json")][-1]
    data = [p[0] for name, p in calls[:manifest] if name == "fsync" and p[0]]
    assert any(re.search(r"ckpt-4\.data-\d+-of-\d+$", p) for p in data)
    assert any(p.endswith("ckpt-4.index") for p in data)


def acknowledged_steps(calls, replay: Replay) -> list[tuple[int, int]]:
    """(index of the call after which it was durable, newest step) of every manifest:
    durable once renamed into place and its folder fsynced."""
    manifests = iter(replay.published["run/checkpoints/manifest.json"])
    acknowledged, pending = [], None
    for index, call in enumerate(calls):
        if call.name.startswith("rename") and call.paths()[-1].endswith("/manifest.json"):
            pending = max(entry["step"] for entry in json.loads(next(manifests)).values())
        elif pending is not None and call.name == "fsync":
            if call.fd(0)[1].endswith("/run/checkpoints"):
                acknowledged.append((index, pending))
                pending = None
    return acknowledged


def subtree(state, folder: str) -> dict:
    return {
        p[len(folder) + 1 :]: data
        for p, data in state.items()
        if p.startswith(folder + "/") and data is not None
    }


def partial_publication(state, replay: Replay) -> str | None:
    """A published file or folder that a power cut left holding none of the versions
    that were renamed into place (None: there is none)."""
    for path, versions in replay.published.items():
        if path not in state or path in replay.written_in_place:
            continue
        if not is_published(str(replay.root / path), replay.root):
            continue
        now = subtree(state, path) if state[path] is None else state[path]
        if now not in versions:
            return path
    return None


def resume_step(folder: Path) -> int | None:
    """The step that `kgan fit --resume` starts from in `folder`/run (None: none)."""
    from keras_gan.checkpoints import latest_verified

    checkpoints = folder / "run" / "checkpoints"
    found = latest_verified(checkpoints, log=lambda _: None) if checkpoints.is_dir() else None
    return int(found.rsplit("-", 1)[1]) if found else None


def test_a_power_cut_after_any_call_leaves_a_resumable_run_and_whole_exports(traced_fit, tmp_path):
    root, calls = traced_fit
    replay = Replay(root, root)
    states = list(crash_states(replay, calls))
    acknowledged = acknowledged_steps(calls, replay)
    assert [step for _, step in acknowledged] == [0, 2, 4]
    assert {"posix", "journaled"} == {model for _, model, _ in states}
    to_resume = {}
    for number, (index, model, state) in enumerate(states):
        step = max((s for i, s in acknowledged if i <= index), default=None)
        folder = tmp_path / str(number)
        materialise(state, folder)
        where = f"power cut ({model}) after call {index}, {calls[index].name}"
        partial = partial_publication(state, replay)
        assert partial is None, f"{where}: {partial} is partial"
        found = resume_step(folder)
        if step is not None:
            assert found is not None and found >= step, f"{where}: step {step} lost"
        if found is not None:
            assert state.get("run/config.json"), f"{where}: a checkpoint but no config.json"
        # Resumed for real below: a cut with only a config, and the latest one before
        # the last checkpoint was acknowledged (its log.csv lost: it is never fsynced).
        if found == 2:
            to_resume["mid"] = (folder, found)
        elif found is None and state.get("run/config.json") and "new" not in to_resume:
            to_resume["new"] = (folder, found)
    exported = [s for _, _, s in states if "saved_models/durable/1" in s]
    assert exported and all(subtree(s, "saved_models/durable/1") for s in exported)
    assert to_resume.keys() == {"new", "mid"}
    for folder, step in to_resume.values():
        done = subprocess.run(
            fit_command("--resume"), cwd=folder, capture_output=True, text=True, timeout=600
        )
        assert done.returncode == 0, done.stderr[-3000:]
        started = f"resumed {Path('run')} from ckpt-{step}" if step else "steps 0->4"
        assert started in done.stderr, done.stderr[-3000:]
        assert "done: run at step 4" in done.stderr


def test_the_power_cut_replay_finds_a_rename_that_outruns_its_data(tmp_path):
    """The classic bug (ext4, 2009): data written, renamed over the old file without an
    fsync. Some cut must leave the new name with the data lost; with the fsync, none."""
    if shutil.which("strace") is None:
        pytest.skip("strace is not installed")
    script = (
        "import os, sys\n"
        "for name, sync in (('careless', False), ('careful', True)):\n"
        "    with open(name + '.tmp', 'wb') as f:\n"
        "        f.write(b'new data')\n"
        "        f.flush()\n"
        "        sync and os.fsync(f.fileno())\n"
        "    os.rename(name + '.tmp', name)\n"
        "    fd = os.open('.', os.O_RDONLY)\n"
        "    os.fsync(fd)\n"
        "    os.close(fd)\n"
    )
    root = tmp_path / "root"
    root.mkdir()
    log = tmp_path / "trace"
    subprocess.run(strace_command(log, [sys.executable, "-c", script]), cwd=root, check=True)
    calls = read_trace(log)
    states = [state for _, _, state in crash_states(Replay(root, root), calls)]
    assert {"careless": b"", "careful": b"new data"}.items() <= states[-1].items()
    assert any(state.get("careless") == b"" for state in states)
    assert all(state.get("careful", b"new data") == b"new data" for state in states)


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
