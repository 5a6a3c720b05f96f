"""Durability, proved on the system calls of a real `kgan fit --export` (strace):

- fsync discipline: every rename that publishes data comes after an fsync of what it
  names and before an fsync of the folder it lands in, and every checkpoint file is
  fsynced before the manifest that vouches for it is renamed into place;
- power cuts: the trace replayed and cut after every call (`tests.power_cut`) leaves a
  run that resumes from its last acknowledged checkpoint, and no published file or
  exported version that is partial;
- one writer per run folder and per export version.
"""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.power_cut import Replay
from tests.power_cut import crash_states
from tests.power_cut import is_published
from tests.power_cut import read_trace
from tests.power_cut import strace_command
from tests.power_cut import subtree
from tests.power_cut import survey
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


def test_a_power_cut_after_any_call_leaves_a_resumable_run_and_whole_exports(traced_fit, tmp_path):
    root, calls = traced_fit
    cuts, acknowledged = survey(calls, root, tmp_path)
    assert [step for _, step in acknowledged] == [0, 2, 4]
    assert {"posix", "journaled"} == {cut.model for cut in cuts}
    for cut in cuts:
        where = f"power cut ({cut.model}) after call {cut.index}, {calls[cut.index].name}"
        assert cut.problem is None, f"{where}: {cut.problem}"
    exported = [cut.state for cut in cuts if "saved_models/durable/1" in cut.state]
    assert exported and all(subtree(s, "saved_models/durable/1") for s in exported)
    # Resumed for real: the first cut with only a config, the last one that resumes
    # from the middle checkpoint, and one whose TF checkpoint state file came back empty.
    fresh = next(c for c in cuts if c.found is None and c.state.get("run/config.json"))
    middle = [c for c in cuts if c.found == 2][-1]
    torn = next(c for c in cuts if c.found and c.state.get("run/checkpoints/checkpoint") == b"")
    for cut in (fresh, middle, torn):
        done = subprocess.run(
            fit_command("--resume"), cwd=cut.folder, capture_output=True, text=True, timeout=600
        )
        assert done.returncode == 0, done.stderr[-3000:]
        started = f"resumed run from ckpt-{cut.found}" if cut.found else "steps 0->4"
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
