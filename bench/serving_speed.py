"""`kgan serve` against an in-process call of the same SavedModel, in one run.

Starts `kgan serve` on saved_models/ in child processes (unbatched, and with
`--enable_batching` at TF Serving's default timeout 0 and at 2 ms), then measures from
this one: batch-1 latency (p50/p99) of the `generate` signature in process, over gRPC
and over REST; and gRPC throughput with 1, 8 and 32 concurrent clients, each sending
batch-1 requests, for each server. Rounds alternate between the variants (the machine
is shared and noisy). Appends to bench/RESULTS.md.

    .venv/bin/python bench/serving_speed.py [--calls 200] [--rounds 3] [--seconds 5]
"""

import argparse
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import tensorflow as tf
from results import machine
from results import publish

from keras_gan.export.layout import newest_version
from keras_gan_serving.client import GeneratorClient

ROOT = Path(__file__).parents[1]


def start_server(*extra):
    server = subprocess.Popen(
        [sys.executable, "-m", "keras_gan_cli.main", "serve", "--model-base-path",
         str(ROOT / "saved_models"), "--port", "0", "--rest-port", "0", *extra],
        stderr=subprocess.PIPE, text=True, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"),
    )  # fmt: skip
    for line in server.stderr:
        match = re.search(r"gRPC 127\.0\.0\.1:(\d+), REST 127\.0\.0\.1:(\d+)", line)
        if match:
            threading.Thread(target=server.stderr.read, daemon=True).start()  # keep draining
            return server, int(match[1]), int(match[2])
    raise RuntimeError("kgan serve did not start")


def latencies(call, count):
    call()
    times = []
    for i in range(count):
        start = time.perf_counter()
        call(i)
        times.append((time.perf_counter() - start) * 1e3)
    return times


def throughput(port, clients, seconds):
    """Requests per second with `clients` threads, each with its own channel."""
    done, stop = [0] * clients, threading.Event()

    def loop(k):
        with GeneratorClient(f"127.0.0.1:{port}", "glyphs") as client:
            client.generate([k], [0])
            while not stop.is_set():
                client.generate([k], [k % 172])
                done[k] += 1

    threads = [threading.Thread(target=loop, args=(k,)) for k in range(clients)]
    for thread in threads:
        thread.start()
    time.sleep(1.0)  # connected and warm
    before, start = sum(done), time.perf_counter()
    time.sleep(seconds)
    rate = (sum(done) - before) / (time.perf_counter() - start)
    stop.set()
    for thread in threads:
        thread.join()
    return rate


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    parameters = Path(tempfile.mkdtemp()) / "batching.txt"
    parameters.write_text("batch_timeout_micros { value: 2000 }\n")
    variants = {
        "unbatched": (),
        "batching, timeout 0": ("--enable_batching",),
        "batching, timeout 2 ms": ("--enable_batching", f"--batching_parameters_file={parameters}"),
    }
    servers = {name: start_server(*flags) for name, flags in variants.items()}
    try:
        _, grpc_port, rest_port = servers["unbatched"]
        signature = tf.saved_model.load(
            str(newest_version(ROOT / "saved_models" / "glyphs"))
        ).signatures["generate"]
        clients = {
            name: GeneratorClient(f"127.0.0.1:{port}", "glyphs")
            for name, (_, port, _) in servers.items()
        }
        rest_client = GeneratorClient(f"127.0.0.1:{rest_port}", "glyphs", protocol="rest")
        calls = {
            "in process": lambda i=0: signature(
                seed=tf.constant([i], tf.int64), labels=tf.constant([0], tf.int32)
            )["images"].numpy(),
            **{
                f"gRPC, {name}": lambda i=0, c=client: c.generate([i], [0])
                for name, client in clients.items()
            },
            "REST": lambda i=0: rest_client.generate([i], [0]),
        }
        times = {name: [] for name in calls}
        rates = {(name, n): [] for name in servers for n in (1, 8, 32)}
        for _ in range(args.rounds):
            for name, call in calls.items():
                times[name] += latencies(call, args.calls)
            for name, n in rates:
                rates[name, n].append(throughput(servers[name][1], n, args.seconds))
        for client in clients.values():
            client.close()
    finally:
        for server, _, _ in servers.values():
            server.send_signal(signal.SIGINT)
            server.wait(timeout=60)

    def pct(values, q):
        return float(np.percentile(values, q))

    base = pct(times["in process"], 50)
    lines = [
        "\n## Serving the shipped glyph model "
        f"(bench/serving_speed.py, {time.strftime('%Y-%m-%d')})\n",
        f"{machine()}; `kgan serve` in a "
        "child process on the same cores as the clients. `generate` signature, one seed and "
        f"label per request (one 64x64 glyph + PNG). {args.rounds} alternating rounds of "
        f"{args.calls} calls; throughput over {args.seconds:.0f} s per round, median of rounds.\n",
        "| path | p50 ms | p99 ms | p50 vs in process |",
        "| --- | --- | --- | --- |",
    ]
    for name, values in times.items():
        p50 = pct(values, 50)
        lines.append(f"| {name} | {p50:.2f} | {pct(values, 99):.2f} | {p50 / base:.2f} |")
    lines += [
        "",
        "| gRPC clients | "
        + " | ".join(f"requests/s {name}" for name in servers)
        + " | batching (0, 2 ms) vs unbatched |",
        "| --- |" + " --- |" * (len(servers) + 1),
    ]
    for n in (1, 8, 32):
        rate = {name: statistics.median(rates[name, n]) for name in servers}
        ratios = ", ".join(f"{rate[name] / rate['unbatched']:.2f}" for name in list(servers)[1:])
        lines.append(
            f"| {n} | " + " | ".join(f"{rate[name]:.0f}" for name in servers) + f" | {ratios} |"
        )
    publish(lines)


if __name__ == "__main__":
    main()
