"""Crash-safe file writing: a reader sees the old file or the complete new one, after
a process kill and after a power cut too.

The discipline (as SQLite and etcd keep it): write to a temporary sibling, fsync it,
rename it over the target, fsync the folder that holds the name. Without the first
fsync a power cut can leave the new name pointing at empty blocks; without the last
the rename itself can be lost.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any
from typing import Iterator

# Set to 1 (or true, yes) to forbid downloads. Otherwise a TFDS data set missing from its
# data_dir and Keras' ImageNet weights are fetched when asked for, as TFDS and Keras do.
# `kgan --offline` sets it; so does the test suite (nothing downloads in tests).
OFFLINE_ENV = "KGAN_OFFLINE"


# Errors of the storage, not of the program or the input: a full disk, a quota, a
# read-only mount, a folder the user may not write. Named by path, on one line.
STORAGE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM})
# What TensorFlow's file system says for them (its errors carry a message, not an errno).
_TF_STORAGE_MESSAGES = {
    "No space left on device": errno.ENOSPC,
    "Disk quota exceeded": errno.EDQUOT,
    "Read-only file system": errno.EROFS,
    "Permission denied": errno.EACCES,
}


def storage_error(error: Exception, path) -> OSError | None:
    """`error` (an OSError, or TensorFlow's error for a failed file write) as an OSError
    naming `path`, if the storage caused it; else None."""
    code = getattr(error, "errno", None)
    if code is None:
        text = str(getattr(error, "message", error))
        code = next((c for m, c in _TF_STORAGE_MESSAGES.items() if m in text), None)
    if code not in STORAGE_ERRNOS:
        return None
    return OSError(code, os.strerror(code), str(path))


def downloads_allowed() -> bool:
    return os.environ.get(OFFLINE_ENV, "").strip().lower() not in ("1", "true", "yes")


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    path = Path(path)
    make_folders(path.parent)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give it a normal file's mode
        os.replace(tmp, path)
        fsync_path(path.parent)
    except OSError as e:  # named by the file the user knows, not the temporary one
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise OSError(e.errno, e.strerror, str(path)) from e
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def atomic_write_json(path: str | os.PathLike, value: Any) -> None:
    text = json.dumps(value, indent=2, ensure_ascii=False, sort_keys=False) + "\n"
    atomic_write_bytes(path, text.encode("utf-8"))


@contextlib.contextmanager
def atomic_directory(path: str | os.PathLike, replace: bool = False) -> Iterator[Path]:
    """Yields a temporary sibling folder that is renamed to `path` on success.

    `replace`: an existing `path` is swapped out only once the new folder is whole
    (moved aside, the new one renamed in, the old one deleted)."""
    path = Path(path)
    if path.exists() and not replace:
        raise FileExistsError(f"{path} already exists")
    make_folders(path.parent)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    try:
        yield tmp
        os.chmod(tmp, 0o777 & ~_umask())  # mkdtemp makes 0700; give it a normal folder's mode
        fsync_tree(tmp)
        if not path.exists():
            os.rename(tmp, path)
            fsync_path(path.parent)
            return
        old = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".old", dir=path.parent))
        os.rename(path, old / path.name)
        try:
            os.rename(tmp, path)
            fsync_path(path.parent)
        except BaseException:
            os.rename(old / path.name, path)  # the old folder back in place
            raise
        finally:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException as e:
        shutil.rmtree(tmp, ignore_errors=True)
        # A full disk while TensorFlow or anyone writes into it: named by the folder
        # the caller asked for, not a temporary file inside it.
        failure = storage_error(e, path) if isinstance(e, Exception) else None
        if failure is not None:
            raise failure from e
        raise


class LockHeld(RuntimeError):
    """Another process holds the folder's lock; names it."""


@contextlib.contextmanager
def exclusive_lock(folder: str | os.PathLike, what: str, wait: bool = False) -> Iterator[None]:
    """Holds an flock on `folder`/.lock for the block, with this process's PID written
    in it. The kernel drops the lock when the process dies, so a SIGKILL leaves no
    stale lock. Raises LockHeld naming the holder's PID, or with `wait` waits for it."""
    import fcntl

    folder = Path(folder)
    make_folders(folder)
    fd = os.open(folder / ".lock", os.O_RDWR | os.O_CREAT, 0o666 & ~_umask())
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
    except BlockingIOError:
        holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "unknown"
        os.close(fd)
        raise LockHeld(
            f"{what} {str(folder)!r} is in use by process {holder} (one writer at a time); "
            "wait for it to finish or stop it"
        ) from None
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(fd)  # releases the lock


def durable_replace(source: str | os.PathLike, target: str | os.PathLike) -> None:
    """Renames a finished file (written by someone else, e.g. Keras) over `target`,
    durably: fsync it, rename, fsync the folder."""
    fsync_path(source)
    os.replace(source, target)
    fsync_path(Path(target).parent)


def make_folders(path: str | os.PathLike) -> Path:
    """Creates `path` and its missing parents durably: each new folder's parent is
    fsynced, since a name is on disk only once its folder is, and a power cut must not
    take a folder away from files that were fsynced in it."""
    path = Path(path)
    missing, folder = [], path
    while not folder.is_dir() and folder != folder.parent:
        missing.append(folder)
        folder = folder.parent
    for folder in reversed(missing):
        folder.mkdir(exist_ok=True)
        fsync_path(folder.parent)
    return path


def fsync_path(path: str | os.PathLike) -> None:
    """fsync a file or a folder (a folder's fsync makes the names in it durable)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_tree(root: str | os.PathLike) -> None:
    """fsync every file under `root`, then every folder, deepest first."""
    folders = []
    for folder, _, names in os.walk(root):
        folders.append(folder)
        for name in names:
            fsync_path(os.path.join(folder, name))
    for folder in reversed(folders):
        fsync_path(folder)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def cache_root() -> Path:
    """Where rendered glyphs and evaluation features are cached (`KGAN_CACHE_DIR`)."""
    return Path(os.environ.get("KGAN_CACHE_DIR", Path.home() / ".cache" / "keras_gan"))
