"""Checkpoints a kill cannot tear and a bad disk cannot slip past.

`tf.train.CheckpointManager` writes a checkpoint's files, then points its `checkpoint`
state file at them. keras-gan adds `manifest.json`: after each save, the SHA-256 of
every file of that checkpoint, written atomically. A checkpoint counts only once its
manifest entry exists and its files still match it, so a kill between the two writes,
a truncated file or a flipped bit sends a resume to the previous checkpoint, with a
message, instead of into a crash or a silently wrong model.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
from pathlib import Path
from typing import Callable

import numpy as np
import tensorflow as tf

from keras_gan.files import atomic_write_json
from keras_gan.files import fsync_path
from keras_gan.files import make_folders
from keras_gan.files import storage_error

MANIFEST = "manifest.json"


def to_stderr(line: str) -> None:
    print(line, file=sys.stderr)


class NonFiniteWeights(ValueError):
    """A checkpoint was asked for while a network holds NaN/Inf weights."""


class CheckpointStore:
    """Saves and finds verified checkpoints of `checkpoint` in `directory`."""

    def __init__(self, checkpoint: tf.train.Checkpoint, directory, max_to_keep: int | None):
        self.checkpoint, self.directory = checkpoint, Path(directory)
        make_folders(self.directory)
        self._remove_leftovers()  # a kill during a TF save
        self._repair_state()
        self.manager = tf.train.CheckpointManager(checkpoint, str(self.directory), max_to_keep)

    def save(self, step: int, networks=()) -> str:
        """Writes the checkpoint for `step`; refuses (NonFiniteWeights) if any of
        `networks` holds a NaN/Inf weight, so no such checkpoint ever exists."""
        for network in networks:
            bad = [w.path for w in network.weights if not np.isfinite(w.numpy()).all()]
            if bad:
                raise NonFiniteWeights(f"weight {bad[0]} is NaN/Inf at step {step}")
        try:
            path = self.manager.save(checkpoint_number=step)
        except tf.errors.OpError as e:  # a full disk, a read-only mount...: nothing half left
            self._remove_leftovers()
            failure = storage_error(e, self.directory / f"ckpt-{step}")
            if failure is None:
                raise
            raise failure from e
        manifest = {
            name: entry
            for name, entry in read_manifest(self.directory).items()
            if name in {Path(p).name for p in self.manager.checkpoints}  # pruned: forget
        }
        files = _checksums(path)
        # The manifest vouches for these files only once they are on disk (power cuts).
        for name in [*files, "checkpoint"]:
            fsync_path(self.directory / name)
        fsync_path(self.directory)
        manifest[Path(path).name] = {"step": step, "files": files}
        atomic_write_json(self.directory / MANIFEST, manifest)
        return path

    def _repair_state(self) -> None:
        """TF renames its `checkpoint` state file into place without fsync, so a power
        cut can leave it empty or torn, and TF's CheckpointManager then refuses the
        folder. It is written again from the manifest (what keras-gan vouches for)."""
        try:
            tf.train.get_checkpoint_state(str(self.directory))
            return
        except ValueError:
            pass
        names = sorted(read_manifest(self.directory), key=_number)
        if not names:
            (self.directory / "checkpoint").unlink()
            return
        tf.compat.v1.train.update_checkpoint_state(
            str(self.directory),
            str(self.directory / names[-1]),
            [str(self.directory / name) for name in names],
        )
        fsync_path(self.directory / "checkpoint")

    def _remove_leftovers(self) -> None:
        for leftover in self.directory.glob("*_temp*"):
            shutil.rmtree(leftover, ignore_errors=True) if leftover.is_dir() else leftover.unlink()


def read_manifest(directory: Path) -> dict:
    try:
        return json.loads((Path(directory) / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except ValueError:
        return {}  # torn by hand (it is written atomically): no checkpoint is verified


def latest_verified(directory, log: Callable[[str], None] = to_stderr) -> str | None:
    """The newest checkpoint in `directory` whose files match the manifest.

    Checkpoints newer than it are skipped with a message naming what is wrong. A
    folder without a manifest (written before keras-gan kept one) gives TF's latest.
    """
    directory = Path(directory)
    try:
        state = tf.train.get_checkpoint_state(str(directory))
    except ValueError:  # TF's state file is torn: TF renames it into place without fsync
        log(f"checkpoint state {directory / 'checkpoint'} is unreadable; using the manifest")
        state = None
    if not (directory / MANIFEST).exists():
        return tf.train.latest_checkpoint(str(directory)) if state else None
    manifest = read_manifest(directory)
    listed = [Path(p).name for p in state.all_model_checkpoint_paths] if state else []
    names = sorted(set(listed) | set(manifest), key=_number, reverse=True)
    for name in names:
        problem = _problem(directory / name, manifest.get(name))
        if problem is None:
            return str(directory / name)
        log(f"checkpoint {directory / name} {problem}; trying the one before")
    return None


def _problem(prefix: Path, entry: dict | None) -> str | None:
    if entry is None:
        return "has no manifest entry (the run stopped while saving it)"
    for name, digest in entry["files"].items():
        path = prefix.parent / name
        if not path.is_file():
            return f"is missing {name}"
        if _sha256(path) != digest:
            return f"is corrupt ({name} does not match its checksum)"
    return None


def _checksums(prefix: str) -> dict[str, str]:
    prefix = Path(prefix)
    files = sorted(prefix.parent.glob(prefix.name + ".*"))
    return {p.name: _sha256(p) for p in files}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _number(name: str) -> int:
    tail = name.rsplit("-", 1)[-1]
    return int(tail) if tail.isdigit() else -1
