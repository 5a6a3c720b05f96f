"""Power cuts replayed from a system-call trace.

The method of ALICE (Pillai et al., OSDI 2014) and CrashMonkey (Mohan et al., OSDI
2018), on a real command: it runs under strace, which records every write with its
bytes and every open, rename, unlink, mkdir and fsync; the trace is replayed into a
model of the folder under test that keeps, for every file, what it holds now and what
reached the disk (its bytes at its last fsync), and for every folder the names in it
now and at its last fsync. A power cut after any call leaves only what reached the
disk, in one of two ways:

- "posix": a file's bytes as of its last fsync, a name as of its folder's last fsync
  (all that POSIX promises);
- "journaled": names survive in the order they were made, as ext4 and XFS journal
  them: every name change up to the last fsync of anything, and any number of the
  later ones; file bytes still only as of their last fsync (ext4's delayed
  allocation: the zero-length files of 2009 when a rename outran its data).

`crash_states` gives every distinct state a cut can leave; the functions at the end
read what a restarted `kgan fit` would find in one.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path

TRACED = (
    "open,openat,creat,write,pwrite64,writev,pwritev,pwritev2,lseek,ftruncate,truncate,"
    "fallocate,sendfile,copy_file_range,rename,renameat,renameat2,unlink,unlinkat,"
    "mkdir,mkdirat,rmdir,link,linkat,fsync,fdatasync"
)


def strace_command(log: Path, command: list[str]) -> list[str]:
    """`command` under strace, writing every traced call with all its bytes to `log`."""
    return [
        "strace", "-f", "-y", "-qq", "-xx", "-s", "100000000", "--seccomp-bpf",
        "-e", "signal=none", "-e", f"trace={TRACED}", "-o", str(log), *command,
    ]  # fmt: skip


# ---- reading the trace ----

STRING = re.compile(r'"((?:\\x[0-9a-f]{2})*)"')
RESULT = re.compile(r"\)\s+= ")
FD = re.compile(r"^(-?\d+|AT_FDCWD)<((?:\\x[0-9a-f]{2})*)>")


def unescape(text: str) -> bytes:
    return bytes.fromhex(text.replace("\\x", ""))


def split_args(text: str) -> list[str]:
    """Top-level arguments of a call (strings are all \\x escapes, so no quoting)."""
    args, depth, start = [], 0, 0
    for i, char in enumerate(text):
        if char in "[{":
            depth += 1
        elif char in "]}":
            depth -= 1
        elif char == "," and depth == 0:
            args.append(text[start:i].strip())
            start = i + 1
    if text.strip():
        args.append(text[start:].strip())
    return args


@dataclass
class Call:
    name: str
    args: list[str]
    result: int
    result_path: str | None  # the path of a returned fd (strace -y)

    def fd(self, i: int) -> tuple[int | None, str | None]:
        """(fd, its path) of argument i; fd None for AT_FDCWD."""
        match = FD.match(self.args[i])
        if not match:
            return None, None
        number = None if match.group(1) == "AT_FDCWD" else int(match.group(1))
        return number, os.fsdecode(unescape(match.group(2)))

    def paths(self) -> list[str]:
        """The path arguments (strings), in order."""
        return [os.fsdecode(unescape(s)) for s in STRING.findall(", ".join(self.args))]

    def string(self, i: int) -> bytes:
        return unescape(STRING.fullmatch(self.args[i]).group(1))

    def number(self, i: int) -> int:
        return int(self.args[i].split()[0], 0)

    def pointer(self, i: int) -> int | None:
        """An in/out offset argument, "[0] => [18]" or "NULL": the value going in."""
        text = self.args[i]
        return None if text == "NULL" else int(re.match(r"\[(\d+)\]", text).group(1))


def read_trace(log: Path) -> list[Call]:
    """The successful calls of an `strace -f -y -xx` log, in the order they finished;
    a call split by another thread's ("<unfinished ...>" / "<... resumed>") joined."""
    calls, pending = [], {}
    for line in log.read_text(encoding="ascii").splitlines():
        tid, _, text = line.partition(" ")
        text = text.strip()
        if text.endswith("<unfinished ...>"):
            pending[tid] = text[: -len("<unfinished ...>")].rstrip()
            continue
        resumed = re.match(r"<\.\.\. \w+ resumed>", text)
        if resumed:
            text = pending.pop(tid) + text[resumed.end() :]
        ends = list(RESULT.finditer(text))  # ")  = 3<path>": strace pads short calls
        if not ends or "(" not in text[: ends[-1].start()]:
            continue
        head, result = text[: ends[-1].start()], text[ends[-1].end() :]
        value = re.match(r"(-?\d+)(?:<((?:\\x[0-9a-f]{2})*)>)?", result)
        if value is None or int(value.group(1)) < 0:
            continue  # failed calls change nothing
        name, _, args = head.partition("(")
        path = value.group(2)
        calls.append(
            Call(
                name, split_args(args), int(value.group(1)),
                os.fsdecode(unescape(path)) if path is not None else None,
            )
        )  # fmt: skip
    return calls


# ---- the model of the folder ----


@dataclass(eq=False)
class Node:
    """A file (data) or a folder (entries); `durable_*`: as of its last fsync."""

    folder: bool
    data: bytearray = field(default_factory=bytearray)
    entries: dict[str, Node] = field(default_factory=dict)
    durable_data: bytes = b""
    durable_entries: dict[str, Node] = field(default_factory=dict)

    def fsync(self) -> None:
        if self.folder:
            self.durable_entries = dict(self.entries)
        else:
            self.durable_data = bytes(self.data)

    def truncate(self, size: int) -> None:
        self.data[size:] = b""
        self.data.extend(bytes(size - len(self.data)))

    def write(self, offset: int, data: bytes) -> None:
        if offset > len(self.data):
            self.data.extend(bytes(offset - len(self.data)))
        self.data[offset : offset + len(data)] = data


State = dict[str, bytes | None]  # relative path -> bytes, None for a folder


def tree(root: Node, durable: bool) -> dict[str, Node]:
    """relative path -> node of everything reachable from root (by durable names, or
    by current ones)."""
    found, stack = {}, [("", root)]
    while stack:
        prefix, node = stack.pop()
        for name, child in (node.durable_entries if durable else node.entries).items():
            path = f"{prefix}{name}"
            found[path] = child
            if child.folder:
                stack.append((path + "/", child))
    return found


class Replay:
    """Applies traced calls to the model of the folder `root` (empty when the trace
    began); calls on paths outside it are ignored."""

    def __init__(self, root: Path, cwd: Path):
        self.root, self.cwd = Path(os.path.realpath(root)), Path(os.path.realpath(cwd))
        self.top = Node(folder=True)
        self.fds: dict[int, list] = {}  # fd -> [node, offset, append]
        self.published: dict[str, list] = {}  # rename target -> what it named when renamed
        self.written_in_place: set[str] = set()  # opened for writing under their own name

    def relative(self, path: str, base: str | None = None) -> str | None:
        full = Path(os.path.normpath(Path(base or self.cwd) / path))
        if full == self.root:
            return ""
        return str(full.relative_to(self.root)) if self.root in full.parents else None

    def lookup(self, relative: str) -> tuple[Node | None, str, Node | None]:
        """(parent folder node, name, node) of a relative path; node None if absent."""
        parent, parts = self.top, relative.split("/")
        for part in parts[:-1]:
            parent = parent.entries.get(part)
            if parent is None or not parent.folder:
                return None, parts[-1], None
        return parent, parts[-1], parent.entries.get(parts[-1])

    def path_arg(self, call: Call, dir_index: int | None, index: int) -> str | None:
        base = call.fd(dir_index)[1] if dir_index is not None else None
        return self.relative(os.fsdecode(call.string(index)), base)

    def file_of(self, call: Call, index: int):
        number, path = call.fd(index)
        if path is None or not path.startswith("/") or self.relative(path) is None:
            self.fds.pop(number, None)  # this fd number now names something else
            return None
        if number not in self.fds:
            raise ValueError(f"write to {path} through an fd the trace never opened ({call})")
        return self.fds[number]

    def apply(self, call: Call) -> None:
        handler = getattr(self, "_" + call.name, None)
        if handler is None:
            raise ValueError(f"no replay for {call.name}")
        handler(call)

    # opening and writing

    def _openat(self, call: Call) -> None:
        self._opened(call, call.args[2])

    def _open(self, call: Call) -> None:
        self._opened(call, call.args[1])

    def _creat(self, call: Call) -> None:
        self._opened(call, "O_WRONLY|O_CREAT|O_TRUNC")

    def _opened(self, call: Call, flags: str) -> None:
        """An fd returned for `flags`; the file made (or emptied) where they say so."""
        path = call.result_path
        relative = self.relative(path) if path and path.startswith("/") else None
        if relative is None:
            self.fds.pop(call.result, None)
            return
        if relative == "":
            self.fds[call.result] = [self.top, 0, False]
            return
        parent, name, node = self.lookup(relative)
        if node is None:
            node = Node(folder=False)
            parent.entries[name] = node
        if "O_TRUNC" in flags and not node.folder:
            node.truncate(0)
        if ("O_WRONLY" in flags or "O_RDWR" in flags) and not name.startswith("."):
            self.written_in_place.add(relative)
        self.fds[call.result] = [node, 0, "O_APPEND" in flags]

    def _put(self, entry, data: bytes, offset: int | None) -> None:
        node, position, append = entry
        at = len(node.data) if append else (position if offset is None else offset)
        node.write(at, data)
        if offset is None:
            entry[1] = at + len(data)

    def _write(self, call: Call) -> None:
        entry = self.file_of(call, 0)
        if entry:
            self._put(entry, call.string(1)[: call.result], None)

    def _pwrite64(self, call: Call) -> None:
        entry = self.file_of(call, 0)
        if entry:
            self._put(entry, call.string(1)[: call.result], call.number(3))

    def _writev(self, call: Call, offset_index: int | None = None) -> None:
        entry = self.file_of(call, 0)
        if entry:
            data = b"".join(unescape(s) for s in STRING.findall(call.args[1]))[: call.result]
            self._put(entry, data, call.number(offset_index) if offset_index else None)

    def _pwritev(self, call: Call) -> None:
        self._writev(call, 3)

    _pwritev2 = _pwritev

    def _lseek(self, call: Call) -> None:
        entry = self.file_of(call, 0)
        if entry:
            entry[1] = call.result

    def _ftruncate(self, call: Call) -> None:
        entry = self.file_of(call, 0)
        if entry:
            entry[0].truncate(call.number(1))

    def _truncate(self, call: Call) -> None:
        relative = self.path_arg(call, None, 0)
        if relative is not None:
            self.lookup(relative)[2].truncate(call.number(1))

    def _fallocate(self, call: Call) -> None:
        entry = self.file_of(call, 0)
        if entry and call.args[1] == "0":  # mode 0 extends the file with zeros
            node, end = entry[0], call.number(2) + call.number(3)
            node.data.extend(bytes(max(end - len(node.data), 0)))

    def _copy(self, source, source_offset, target, target_offset, count) -> None:
        node = source[0]
        start = source[1] if source_offset is None else source_offset
        data = bytes(node.data[start : start + count])
        if source_offset is None:
            source[1] = start + count
        self._put(target, data, target_offset)

    def _sendfile(self, call: Call) -> None:
        target, source = self.file_of(call, 0), self.file_of(call, 1)
        if target and source is None:
            raise ValueError(f"copy into the folder from outside it: {call}")
        if target:
            self._copy(source, call.pointer(2), target, None, call.result)

    def _copy_file_range(self, call: Call) -> None:
        source, target = self.file_of(call, 0), self.file_of(call, 2)
        if target and source is None:
            raise ValueError(f"copy into the folder from outside it: {call}")
        if target:
            self._copy(source, call.pointer(1), target, call.pointer(3), call.result)

    # names

    def _mkdir(self, call: Call, dir_index: int | None = None, index: int = 0) -> None:
        relative = self.path_arg(call, dir_index, index)
        if relative:
            parent, name, _ = self.lookup(relative)
            parent.entries[name] = Node(folder=True)

    def _mkdirat(self, call: Call) -> None:
        self._mkdir(call, 0, 1)

    def _unlink(self, call: Call, dir_index: int | None = None, index: int = 0) -> None:
        relative = self.path_arg(call, dir_index, index)
        if relative:
            parent, name, _ = self.lookup(relative)
            del parent.entries[name]

    def _unlinkat(self, call: Call) -> None:
        self._unlink(call, 0, 1)

    _rmdir = _unlink

    def _rename(self, call: Call, dirs=(None, None), indexes=(0, 1)) -> None:
        source = self.path_arg(call, dirs[0], indexes[0])
        target = self.path_arg(call, dirs[1], indexes[1])
        if source is None and target is None:
            return
        if source is None:
            raise ValueError(f"rename into the folder from outside it: {call}")
        parent, name, node = self.lookup(source)
        del parent.entries[name]
        if target is None:
            return  # moved out: gone from the folder
        new_parent, new_name, _ = self.lookup(target)
        new_parent.entries[new_name] = node
        if node.folder:
            content = {p: bytes(n.data) for p, n in tree(node, False).items() if not n.folder}
        else:
            content = bytes(node.data)
        self.published.setdefault(target, []).append(content)

    def _renameat(self, call: Call) -> None:
        self._rename(call, (0, 2), (1, 3))

    _renameat2 = _renameat

    def _link(self, call: Call) -> None:
        if self.path_arg(call, None, 1) is not None:
            raise ValueError(f"hard links are not modelled: {call}")

    def _linkat(self, call: Call) -> None:
        if self.path_arg(call, 2, 3) is not None:
            raise ValueError(f"hard links are not modelled: {call}")

    # durability

    def _fsync(self, call: Call) -> None:
        path = call.fd(0)[1]
        relative = self.relative(path) if path and path.startswith("/") else None
        if relative is None:
            return
        node = self.top if relative == "" else self.lookup(relative)[2]
        if node is not None:
            node.fsync()

    _fdatasync = _fsync


def _state(nodes: dict[str, Node]) -> State:
    return {p: None if n.folder else n.durable_data for p, n in nodes.items()}


def crash_states(replay: Replay, calls: list[Call]) -> list[tuple[int, str, State]]:
    """(index of a call, model, state) for every distinct state a power cut after any
    of `calls` can leave under the replay's root: each state maps relative paths to the
    bytes that survive (None for a folder). A state that several cuts leave comes with
    the last of them, the one after the most work was acknowledged."""
    found: dict = {}
    names_since_sync: list[dict[str, Node]] = [{}]  # name trees since the last fsync
    for index, call in enumerate(calls):
        replay.apply(call)
        names = tree(replay.top, durable=False)
        if call.name in ("fsync", "fdatasync"):
            names_since_sync = [names]
        elif names.keys() != names_since_sync[-1].keys() or any(
            names_since_sync[-1][p] is not n for p, n in names.items()
        ):
            names_since_sync.append(names)
        states = [("posix", tree(replay.top, durable=True))]
        states += [("journaled", names) for names in names_since_sync]
        for model, nodes in states:
            state = _state(nodes)
            key = (model, tuple(sorted((p, hash(d)) for p, d in state.items())))
            found[key] = (index, model, state)
    return sorted(found.values(), key=lambda found: found[0])


def materialise(state: State, folder: Path) -> None:
    """Writes `state` into the empty folder `folder`."""
    for path in sorted(p for p, d in state.items() if d is None):
        (folder / path).mkdir(parents=True, exist_ok=True)
    for path, data in state.items():
        if data is not None:
            (folder / path).parent.mkdir(parents=True, exist_ok=True)
            (folder / path).write_bytes(data)


# ---- what a kgan run folder must survive ----


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


@dataclass
class Cut:
    """One distinct state a power cut leaves, written to `folder`, and what a restarted
    `kgan fit --resume` finds there."""

    index: int  # the last call done
    model: str
    state: State
    folder: Path
    acknowledged: int | None  # the newest checkpoint step acknowledged durable by then
    found: int | None  # the checkpoint step a resume starts from
    problem: str | None


def survey(calls: list[Call], root: Path, scratch: Path) -> tuple[list[Cut], list]:
    """(every cut of a traced `kgan fit --run-dir run` that ran in `root`, each written
    under `scratch`; the acknowledged checkpoints as (call index, step))."""
    replay = Replay(root, root)
    states = crash_states(replay, calls)
    acknowledged = acknowledged_steps(calls, replay)
    cuts = []
    for number, (index, model, state) in enumerate(states):
        step = max((s for i, s in acknowledged if i <= index), default=None)
        folder = scratch / str(number)
        materialise(state, folder)
        found = resume_step(folder)
        problem = what_is_wrong(state, replay, step, found)
        cuts.append(Cut(index, model, state, folder, step, found, problem))
    return cuts, acknowledged


def what_is_wrong(state: State, replay: Replay, acknowledged: int | None, found: int | None):
    """What a power cut broke in `state` (None: nothing)."""
    partial = partial_publication(state, replay)
    if partial:
        return f"{partial} is partial"
    if acknowledged is not None and (found is None or found < acknowledged):
        return f"step {acknowledged} lost"
    if found is not None and not state.get("run/config.json"):
        return "a checkpoint but no config.json"
    return None
