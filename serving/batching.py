"""Server-side batching (`kgan serve --enable_batching`), as TF Serving's batching
layer does it: concurrent requests to one signature of one model version wait in a
queue and run as one call of their rows together; each gets its own rows back.

Parameters are TF Serving's `BatchingParameters` (`--batching_parameters_file`, text
format) with its defaults: `max_batch_size` rows per call (1000), a batch closes
`batch_timeout_micros` after its first request arrived (0: it takes what is waiting
when a batch thread is free), at most `max_enqueued_batches` wait (10; beyond that a
request is refused UNAVAILABLE, as there), `num_batch_threads` calls run at once (the
CPU count), `allowed_batch_sizes` pads a call up to the next size listed.

Requests merge only when their inputs that are not one row per output (scalars, a
style's sample glyphs) are equal. A call that fails, or whose outputs are not one row
per input row, is run again request by request, so one request never fails another.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from dataclasses import field
from typing import Callable

import grpc
import numpy as np

from keras_gan_serving import textproto
from keras_gan_serving.tensors import RequestError

Arrays = dict[str, np.ndarray]


@dataclass(frozen=True)
class BatchingParameters:
    max_batch_size: int = 1000
    batch_timeout_micros: int = 0
    max_enqueued_batches: int = 10
    num_batch_threads: int = field(default_factory=lambda: os.cpu_count() or 1)
    allowed_batch_sizes: tuple[int, ...] = ()

    def __post_init__(self):
        for name in ("max_batch_size", "max_enqueued_batches", "num_batch_threads"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.batch_timeout_micros < 0:
            raise ValueError(f"batch_timeout_micros must be >= 0, got {self.batch_timeout_micros}")
        sizes = list(self.allowed_batch_sizes)
        if sizes and (sizes != sorted(set(sizes)) or sizes[-1] != self.max_batch_size):
            raise ValueError(
                f"allowed_batch_sizes {sizes} must increase and end at max_batch_size "
                f"{self.max_batch_size}"
            )


def read_parameters(path: str | os.PathLike) -> BatchingParameters:
    """TF Serving's batching parameters file (protobuf text format), e.g.

        max_batch_size { value: 32 }
        batch_timeout_micros { value: 2000 }
        num_batch_threads { value: 2 }

    Raises:
        FileNotFoundError: no such file.
        ValueError: not BatchingParameters, or values out of range; names the file.
    """
    message = textproto.read(
        path,
        _BATCHING_PARAMETERS(),
        "batching parameters",
        "max_batch_size { value: 32 } batch_timeout_micros { value: 1000 }",
    )
    where = f"batching parameters file {str(path)!r}"
    if message.pad_variable_length_inputs:
        raise ValueError(f"{where}: pad_variable_length_inputs: every input here has a fixed shape")
    values = {
        name: getattr(message, name).value
        for name in ("max_batch_size", "batch_timeout_micros", "max_enqueued_batches",
                     "num_batch_threads")
        if message.HasField(name)
    }  # fmt: skip
    try:
        return BatchingParameters(**values, allowed_batch_sizes=tuple(message.allowed_batch_sizes))
    except ValueError as e:
        raise ValueError(f"{where}: {e}") from None


# TF Serving's session_bundle_config.proto.
_BATCHING_PARAMETERS = textproto.message_class(
    "tensorflow.serving.BatchingParameters",
    [
        (1, "max_batch_size", "Int64Value", False),
        (2, "batch_timeout_micros", "Int64Value", False),
        (3, "max_enqueued_batches", "Int64Value", False),
        (4, "num_batch_threads", "Int64Value", False),
        (5, "thread_pool_name", "StringValue", False),
        (6, "allowed_batch_sizes", "int64", True),
        (7, "pad_variable_length_inputs", "bool", False),
    ],
)


@dataclass
class _Task:
    arrays: Arrays
    rows: int
    key: tuple
    arrived: float
    done: threading.Event = field(default_factory=threading.Event)
    result: Arrays | None = None
    error: BaseException | None = None


class Batcher:
    """Merges concurrent calls of `run` (one signature of one model version).

    Args:
        run: the signature: input arrays -> output arrays.
        batched: names of the inputs that hold one row per output row.
    """

    def __init__(self, run: Callable[[Arrays], Arrays], batched: set, params: BatchingParameters):
        self.run, self.batched, self.params = run, set(batched), params
        self._queue: list[_Task] = []
        self._running = 0  # batches (and requests run alone) being run now
        self._ready = threading.Condition()
        self._closed = False
        self._threads = [
            threading.Thread(target=self._work, name="batch", daemon=True)
            for _ in range(params.num_batch_threads)
        ]
        for thread in self._threads:
            thread.start()

    def __call__(self, arrays: Arrays) -> Arrays:
        """The outputs of `arrays`' rows, run together with whatever else is waiting."""
        rows = {len(a) for name, a in arrays.items() if name in self.batched and a.ndim}
        if len(rows) != 1 or next(iter(rows)) > self.params.max_batch_size:
            return self.run(arrays)  # nothing to split by, or a batch on its own already
        key = tuple(
            (name, a.dtype.str, a.shape, a.tobytes())
            for name, a in sorted(arrays.items())
            if name not in self.batched or not a.ndim
        )
        task = _Task(arrays, rows.pop(), key, time.monotonic())
        with self._ready:
            if self._closed:
                return self.run(arrays)
            alone = self._runs_alone(task)
            if alone:
                self._running += 1
            else:
                waiting = sum(t.rows for t in self._queue) + task.rows
                if -(-waiting // self.params.max_batch_size) > self.params.max_enqueued_batches:
                    raise RequestError(
                        grpc.StatusCode.UNAVAILABLE,
                        "the batch scheduling queue to which this task was submitted is full",
                    )
                self._queue.append(task)
                self._ready.notify()
        if alone:
            try:
                return self.run(arrays)
            finally:
                self._finished()
        task.done.wait()
        if task.error is not None:
            raise task.error
        return task.result

    def _runs_alone(self, task: _Task) -> bool:
        """With timeout 0, nothing waiting and a batch thread's share free, a request
        runs at once in its own thread: a batch thread would take it alone anyway, one
        hand-off later (called holding the lock). What arrives meanwhile queues, and
        merges."""
        allowed = self.params.allowed_batch_sizes
        return (
            self.params.batch_timeout_micros == 0
            and not self._queue
            and self._running < self.params.num_batch_threads
            and (not allowed or task.rows in allowed)
        )

    def _finished(self) -> None:
        with self._ready:
            self._running -= 1
            self._ready.notify_all()

    def close(self) -> None:
        """Runs what is queued, then stops the batch threads."""
        with self._ready:
            self._closed = True
            self._ready.notify_all()

    def _work(self) -> None:
        """At most `num_batch_threads` batches run at once, requests run alone included."""
        limit = self.params.num_batch_threads
        while True:
            with self._ready:
                while (not self._queue or self._running >= limit) and not self._closed:
                    self._ready.wait()
                if not self._queue:
                    return
                batch = self._take()
                self._running += bool(batch)
            if batch:
                try:
                    self._execute(batch)
                finally:
                    self._finished()

    def _take(self) -> list[_Task]:
        """The oldest task and the waiting ones that merge with it, up to
        max_batch_size rows, once the batch is full or its timeout has passed; empty if
        other threads took them meanwhile (called holding the lock)."""
        timeout = self.params.batch_timeout_micros / 1e6
        while self._queue:  # another batch thread may take them while this one waits
            first = self._queue[0]
            batch, rows = [], 0
            for task in self._queue:
                if task.key == first.key and rows + task.rows <= self.params.max_batch_size:
                    batch.append(task)
                    rows += task.rows
            left = first.arrived + timeout - time.monotonic()
            if rows >= self.params.max_batch_size or left <= 0 or self._closed:
                for task in batch:
                    self._queue.remove(task)
                return batch
            self._ready.wait(left)
        return []

    def _execute(self, batch: list[_Task]) -> None:
        rows = [t.rows for t in batch]
        total = sum(rows)
        size = next((s for s in self.params.allowed_batch_sizes if s >= total), total)
        merged = {}
        for name, first in batch[0].arrays.items():
            if name in self.batched and first.ndim:
                parts = [t.arrays[name] for t in batch]
                padding = size - total  # the last row again: padded rows are dropped
                merged[name] = np.concatenate(parts + [parts[-1][-1:]] * padding)
            else:
                merged[name] = first
        try:
            outputs = self.run(merged) if len(batch) > 1 or size != total else None
        except Exception:  # noqa: BLE001  (one request's failure must not fail the others)
            outputs = None
        if outputs is not None and all(
            len(np.shape(v)) and len(v) == size for v in outputs.values()
        ):
            ends = np.cumsum(rows)
            for task, end, count in zip(batch, ends, rows):
                task.result = {k: v[end - count : end] for k, v in outputs.items()}
                task.done.set()
            return
        for task in batch:  # alone, each with its own result or error
            try:
                task.result = self.run(task.arrays)
            except BaseException as e:  # noqa: BLE001  (handed to the request's own thread)
                task.error = e
            task.done.set()
