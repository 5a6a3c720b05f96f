"""Server-side batching: the `Batcher` on a plain function, then `kgan serve
--enable_batching` on the shipped model over real gRPC."""

import threading

import grpc
import numpy as np
import pytest
from click.testing import CliRunner

from keras_gan_serving.batching import Batcher
from keras_gan_serving.batching import BatchingParameters
from keras_gan_serving.batching import read_parameters
from keras_gan_serving.client import GeneratorClient
from keras_gan_serving.repository import Servable
from keras_gan_serving.server import ModelServer
from keras_gan_serving.tensors import RequestError


class Doubler:
    """A signature: y = 2x per row; refuses negative rows; records each call's rows."""

    def __init__(self, release=None):
        self.calls, self.release = [], release

    def __call__(self, arrays):
        self.calls.append(arrays["x"].ravel().tolist())
        if self.release is not None:
            self.release.wait(10)
        if (arrays["x"] < 0).any():
            raise RequestError(grpc.StatusCode.INVALID_ARGUMENT, "negative row")
        return {"y": arrays["x"] * 2, "style": np.repeat(arrays["style"][None], len(arrays["x"]))}


def concurrently(batcher, requests):
    """Each request from its own thread at once: (results, errors) in request order."""
    results, errors = [None] * len(requests), [None] * len(requests)
    start = threading.Barrier(len(requests))

    def call(i):
        start.wait()
        try:
            results[i] = batcher(requests[i])
        except RequestError as e:
            errors[i] = e.message

    threads = [threading.Thread(target=call, args=(i,)) for i in range(len(requests))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return results, errors


def rows(*values, style=0.0):
    return {"x": np.array(values, np.float32)[:, None], "style": np.float32(style)}


def test_concurrent_requests_run_as_one_call_and_get_their_own_rows():
    run = Doubler()
    params = BatchingParameters(max_batch_size=6, batch_timeout_micros=10_000_000)
    batcher = Batcher(run, {"x"}, params)
    requests = [rows(1), rows(2, 3), rows(4), rows(5, 6)]
    results, errors = concurrently(batcher, requests)
    assert errors == [None] * 4
    assert len(run.calls) == 1 and sorted(run.calls[0]) == [1, 2, 3, 4, 5, 6]  # full: ran
    for request, result in zip(requests, results):
        np.testing.assert_array_equal(result["y"], request["x"] * 2)
    batcher.close()


def test_a_failing_request_fails_alone():
    run = Doubler()
    batcher = Batcher(run, {"x"}, BatchingParameters(max_batch_size=3, batch_timeout_micros=10**7))
    results, errors = concurrently(batcher, [rows(1), rows(-1), rows(3)])
    assert errors == [None, "negative row", None]
    assert [r["y"].ravel().tolist() for r in (results[0], results[2])] == [[2], [6]]
    assert len(run.calls) == 4  # the merged call, then each alone
    batcher.close()


def test_requests_merge_only_with_equal_unbatched_inputs_and_pad_to_allowed_sizes():
    run = Doubler()
    params = BatchingParameters(
        max_batch_size=8, batch_timeout_micros=300_000, allowed_batch_sizes=(4, 8)
    )
    batcher = Batcher(run, {"x"}, params)
    results, _ = concurrently(batcher, [rows(1, style=1), rows(2, style=2), rows(3, style=1)])
    assert [r["style"].tolist() for r in results] == [[1.0], [2.0], [1.0]]
    assert [r["y"].ravel().tolist() for r in results] == [[2], [4], [6]]
    # Two calls, each padded to 4 rows with its last row.
    assert sorted(sorted(set(call)) for call in run.calls) == [[1, 3], [2]]
    assert [len(call) for call in run.calls] == [4, 4]
    batcher.close()


def test_at_timeout_0_a_lone_request_runs_in_its_own_thread_and_the_next_ones_merge():
    """No hand-off to a batch thread for a request with nothing to wait for; what
    arrives while it holds the only batch thread's share queues and runs as one call."""
    release = threading.Event()
    run, callers = Doubler(release), []

    def recorded(arrays):
        callers.append(threading.current_thread().name)
        return run(arrays)

    batcher = Batcher(recorded, {"x"}, BatchingParameters(max_batch_size=8, num_batch_threads=1))
    first = threading.Thread(target=batcher, args=(rows(1),), name="first")
    first.start()
    while not run.calls:
        threading.Event().wait(0.01)
    later = [threading.Thread(target=batcher, args=(rows(x),)) for x in (2, 3, 4)]
    for thread in later:
        thread.start()
    while len(batcher._queue) < 3:
        threading.Event().wait(0.01)
    assert len(run.calls) == 1  # the queued ones wait for the running one's share
    release.set()
    for thread in [first, *later]:
        thread.join(30)
    assert callers == ["first", "batch"]
    assert [sorted(call) for call in run.calls] == [[1], [2, 3, 4]]
    batcher.close()


def test_a_full_queue_refuses_with_tf_servings_status():
    release = threading.Event()
    run = Doubler(release)
    params = BatchingParameters(max_batch_size=1, max_enqueued_batches=1, num_batch_threads=1)
    batcher = Batcher(run, {"x"}, params)
    running = threading.Thread(target=batcher, args=(rows(1),))
    running.start()
    while not run.calls:  # the first request is running, holding the only thread
        threading.Event().wait(0.01)
    queued = threading.Thread(target=batcher, args=(rows(2),))
    queued.start()
    while not batcher._queue:
        threading.Event().wait(0.01)
    with pytest.raises(RequestError, match="batch scheduling queue .* is full") as refused:
        batcher(rows(3))
    assert refused.value.code == grpc.StatusCode.UNAVAILABLE
    release.set()
    running.join(10), queued.join(10)
    assert run.calls == [[1], [2]]
    batcher.close()


def test_batching_parameters_files(tmp_path):
    path = tmp_path / "batching.txt"
    path.write_text(
        "max_batch_size { value: 8 }\nbatch_timeout_micros { value: 2000 }\n"
        "num_batch_threads { value: 2 }\nthread_pool_name { value: 'p' }\n"
        "allowed_batch_sizes: 4\nallowed_batch_sizes: 8\n"
    )
    assert read_parameters(path) == BatchingParameters(8, 2000, 10, 2, (4, 8))
    for text, message in [
        (
            "max_batch_size { value: 8 } allowed_batch_sizes: 4",
            r"allowed_batch_sizes \[4\] must increase and end at max_batch_size 8",
        ),
        ("num_batch_threads { value: 0 }", "num_batch_threads must be at least 1, got 0"),
        ("max_batch_size: 8", r"not a BatchingParameters in text format \(1:"),
        ("pad_variable_length_inputs: true", "pad_variable_length_inputs: every input here"),
    ]:
        path.write_text(text)
        with pytest.raises(ValueError, match=f"batching parameters file '{path}': {message}"):
            read_parameters(path)


def test_the_server_batches_concurrent_grpc_requests_into_equal_images(model_base, monkeypatch):
    """Eight clients at once, batch 1 each: fewer signature calls than requests, and
    every image the unbatched server's for the same seed and label. Up to one level of
    uint8 rounding: the float kernels of a batch of n (how the requests merge depends
    on their timing) may round a pixel on the other side of a level than batch 1."""
    calls = []
    original = Servable._run

    def counted(self, signature_name, arrays):
        calls.append(len(arrays["seed"]))
        return original(self, signature_name, arrays)

    with ModelServer(model_base, port=0, rest_port=None) as plain:
        with GeneratorClient(f"127.0.0.1:{plain.port}", "glyphs") as client:
            expected = [client.generate([seed], [seed % 5]) for seed in range(8)]
    monkeypatch.setattr(Servable, "_run", counted)
    params = BatchingParameters(max_batch_size=8, batch_timeout_micros=2_000_000)
    with ModelServer(model_base, port=0, rest_port=None, batching=params) as batched:
        got = [None] * 8
        start = threading.Barrier(8)

        def ask(seed):
            with GeneratorClient(f"127.0.0.1:{batched.port}", "glyphs") as client:
                start.wait()
                got[seed] = client.generate([seed], [seed % 5])

        threads = [threading.Thread(target=ask, args=(seed,)) for seed in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    for want, have in zip(expected, got):
        difference = np.abs(have.astype(int) - want.astype(int))
        assert difference.max() <= 1 and np.mean(difference > 0) < 0.01, difference.max()
    assert sum(calls) == 8 and len(calls) < 8, calls


def test_serve_batching_flags_are_checked(tmp_path):
    from keras_gan_cli.main import cli

    bad = tmp_path / "batching.txt"
    bad.write_text("max_batch_size { value: 0 }")
    for args, message in [
        (["--batching_parameters_file", str(bad)], "--batching_parameters_file needs"),
        (["--enable_batching", "--batching_parameters_file", str(bad)],
         "max_batch_size must be at least 1, got 0"),
    ]:  # fmt: skip
        result = CliRunner().invoke(cli, ["serve", "--port", "0", *args])
        assert result.exit_code == 2 and message in result.output, result.output
