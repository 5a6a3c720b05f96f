"""Tries to break keras-gan and counts what survived: the figures of bench/RESULTS.md.

1. Kills: `kgan fit` (DCGAN on the default glyphs, deterministic ops) is SIGKILLed at
   random moments (start-up, steps, checkpoint writes), resumed each time, finished,
   and its final checkpoint compared tensor by tensor with one uninterrupted run.
   Power cuts: a small `kgan fit --export` under strace, its trace cut after every
   call (tests/power_cut.py): every distinct state checked, some resumed for real.
2. Bad data: every kind of bad file in image folders (also as translation pairs),
   TFRecord files and font files; handled = loaded or counted by reason (folders,
   records) or refused with a named error (fonts), never a crash.
3. Malformed requests: the Hypothesis fuzz of tests/serving/test_hostile.py with many
   more examples (any answer but INTERNAL/UNKNOWN, no path in it, server up).
4. Load: 8 and 32 gRPC clients against `kgan serve` in a child process for a fixed
   time, retrying refusals with backoff: requests, failures, p50/p99, server memory.
5. Hot swaps: new versions published under load (and a corrupt one between them):
   failed requests, switches seen per client, corrupt versions served.
6. Soak (`--soak MIN`, alone): 8 clients for MIN minutes, a swap every minute, malformed
   requests every second; the server's RSS, open files and threads minute by minute.
7. Never-reading clients (`--never-reading N`, alone): N gRPC calls whose clients never
   read the answer; the server's memory, when it resets them, an ordinary client meanwhile.

    .venv/bin/python bench/reliability.py [--kills 50] [--power-cut-steps 20] [--fuzz 3000]
        [--seconds 60] [--swaps 10]
    .venv/bin/python bench/reliability.py --soak 30
    .venv/bin/python bench/reliability.py --never-reading 100
"""

import argparse
import os
import random
import re
import selectors
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from pathlib import Path

import numpy as np
from results import machine
from results import publish

from keras_gan.export.layout import newest_version

ROOT = Path(__file__).parents[1]
sys.path.insert(0, str(ROOT))  # the power-cut replay of tests/
KGAN = [sys.executable, "-m", "keras_gan_cli.main"]
QUIET = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONUNBUFFERED="1")
FIT = [
    "fit", "--model", "dcgan", "--set", "model_kwargs.filters=16", "--batch-size", "32",
    "--set", "train.log_every=10", "--set", "train.checkpoint_every=10",
    "--set", "train.sample_every=100", "--set", "train.deterministic=true",
]  # fmt: skip


# ----------------------------------------------------------------------------- kills


def last_step(run_dir: Path) -> int:
    from keras_gan.checkpoints import latest_verified

    path = latest_verified(run_dir / "checkpoints", log=lambda line: None)
    return int(path.rsplit("-", 1)[1]) if path else 0


def fit(run_dir, steps, resume=False, kill_after=None):
    """Runs `kgan fit`; SIGKILLs it after `kill_after` seconds. Returns its exit code."""
    command = KGAN + FIT + ["--run-dir", str(run_dir), "--steps", str(steps)]
    command += ["--resume"] if resume else []
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=QUIET, cwd=ROOT
    )
    try:
        _, err = process.communicate(timeout=kill_after)
    except subprocess.TimeoutExpired:
        process.kill()
        _, err = process.communicate()
    if process.returncode not in (0, -signal.SIGKILL):
        print(err.decode()[-2000:], file=sys.stderr)
    return process.returncode


def kills(count: int, work: Path) -> dict:
    import tensorflow as tf

    run_dir, rng = work / "killed", random.Random(0)
    survived, steps_at_kill = 0, []
    for k in range(count):
        code = fit(run_dir, 100_000, resume=k > 0, kill_after=rng.uniform(5, 25))
        steps_at_kill.append(last_step(run_dir))
        survived += code == -signal.SIGKILL  # a crash on resume would exit 1
    final = max(300, steps_at_kill[-1] + 20)
    finished = fit(run_dir, final, resume=True) == 0
    fit(work / "straight", final)

    def tensors(path):
        reader = tf.train.load_checkpoint(str(path))
        names = [n for n in reader.get_variable_to_shape_map() if "/" in n]
        return {n: reader.get_tensor(n) for n in names if not n.startswith("save_counter")}

    a = tensors(work / "straight" / "checkpoints" / f"ckpt-{final}")
    b = tensors(run_dir / "checkpoints" / f"ckpt-{final}")
    identical = sorted(a) == sorted(b) and all(np.array_equal(a[n], b[n]) for n in a)
    return {
        "kills": count,
        "survived": survived if finished else 0,
        "identical": identical,
        "tensors": len(a),
        "final": final,
        "progress": steps_at_kill,
    }


def power_cuts(steps: int, resumes: int, work: Path) -> dict:
    """A tiny `kgan fit --export` of `steps` steps (a checkpoint every 2) traced, every
    distinct state a power cut leaves checked, and `resumes` of them resumed to the end."""
    from tests.power_cut import read_trace
    from tests.power_cut import strace_command
    from tests.power_cut import survey
    from tests.tiny import TINY

    root, log = work / "traced", work / "traced.strace"
    root.mkdir()
    settings = [a for kv in [*TINY, f"train.steps={steps}"] for a in ("--set", kv)]
    command = [*KGAN, "fit", "--run-dir", "run", *settings]
    subprocess.run(
        strace_command(log, [*command, "--export", "durable"]),
        cwd=root, env=QUIET, check=True, capture_output=True,
    )  # fmt: skip
    calls = read_trace(log)
    cuts, acknowledged = survey(calls, root, work / "cuts")
    chosen = [c for c in cuts if c.found is not None or c.state.get("run/config.json")]
    chosen = chosen[:: max(len(chosen) // resumes, 1)][:resumes]
    finished = sum(
        subprocess.run(
            [*command, "--resume"], cwd=cut.folder, env=QUIET, capture_output=True
        ).returncode
        == 0
        and last_step(cut.folder / "run") == steps
        for cut in chosen
    )
    return {
        "calls": len(calls),
        "checkpoints": len(acknowledged),
        "cuts": {m: sum(c.model == m for c in cuts) for m in ("posix", "journaled")},
        "problems": [c.problem for c in cuts if c.problem],
        "resumed": (finished, len(chosen)),
        "from": sorted({c.found or 0 for c in chosen}),
    }


# ----------------------------------------------------------------------------- bad data


def png_header(width, height):
    def chunk(kind, body):
        crc = zlib.crc32(kind + body).to_bytes(4, "big")
        return len(body).to_bytes(4, "big") + kind + body + crc

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IEND", b"")


def bad_folder(root: Path, copies: int) -> dict[str, tuple[int, int]]:
    """Writes good and bad files into two class folders; returns, per class folder,
    (files that must load, files that must be skipped); plus one loose file at the top."""
    from PIL import Image

    rng = np.random.default_rng(0)
    expected = {}
    for c in range(copies):
        folder = root / f"class{c % 2}"
        folder.mkdir(parents=True, exist_ok=True)
        gray = Image.fromarray(rng.integers(0, 256, (20 + c, 30), dtype=np.uint8))
        loadable = {  # every colour mode, mixed sizes
            "gray.png": gray,
            "rgb.jpg": gray.convert("RGB"),
            "cmyk.jpg": gray.convert("CMYK"),
            "palette.png": gray.convert("P"),
            "sixteen.png": Image.fromarray(np.full((8, 9 + c), 40000, np.uint16)),
            "alpha.png": Image.new("LA", (7 + c, 5), (0, 0)),
            "big.png": Image.new("L", (300 + c, 90)),
        }
        for name, image in loadable.items():
            image.save(folder / f"{c}-{name}")
        raw = (folder / f"{c}-gray.png").read_bytes()
        with open(os.fsencode(folder) + b"/%d-caf\xe9.png" % c, "wb") as f:
            f.write(raw)  # a non-UTF-8 name: loads
        (folder / f"{c}-empty.png").write_bytes(b"")
        (folder / f"{c}-fake.png").write_bytes(b"plain text")
        (folder / f"{c}-truncated.png").write_bytes(raw[: len(raw) // 2])
        (folder / f"{c}-notes.txt").write_text("hello")
        (folder / f"{c}-bomb.png").write_bytes(png_header(100_000, 100_000))
        os.symlink(f"{c}-loop-b.png", folder / f"{c}-loop-a.png")
        os.symlink(f"{c}-loop-a.png", folder / f"{c}-loop-b.png")
        os.symlink("..", folder / f"{c}-up")  # a folder loop
        good, bad = expected.get(folder.name, (0, 0))
        expected[folder.name] = (good + len(loadable) + 1, bad + 8)
    (root / "loose.png").write_bytes(raw)
    return expected


def bad_records(path: Path, copies: int) -> tuple[int, int]:
    import io

    import tensorflow as tf
    from PIL import Image

    def example(image_bytes, label=0):
        feature = {
            "image_raw": tf.train.Feature(bytes_list=tf.train.BytesList(value=image_bytes)),
            "label": tf.train.Feature(int64_list=tf.train.Int64List(value=[label])),
        }
        return tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString()

    buffer = io.BytesIO()
    Image.new("L", (12, 12), 90).save(buffer, "PNG")
    good_png = buffer.getvalue()
    with tf.io.TFRecordWriter(str(path)) as writer:
        for _ in range(copies):
            writer.write(example([good_png]))
            writer.write(example([good_png[:30]]))  # truncated image
            writer.write(example([]))  # no image
            writer.write(example([good_png, good_png]))  # two images
            writer.write(b"\xff\x00 not a tf.Example")
    return copies, 4 * copies  # records


def bad_fonts(folder: Path) -> list[tuple[str, str]]:
    """(spec, what its error must name) for fonts that fail to load or lack the glyphs."""
    folder.mkdir(parents=True)
    (folder / "empty.ttf").write_bytes(b"")
    (folder / "text.otf").write_text("not a font")
    latin = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
    (folder / "half.ttf").write_bytes(Path(latin).read_bytes()[:5000])
    return [
        (f"glyphs:chars=永A?fonts={folder / 'empty.ttf'}", "empty.ttf"),
        (f"glyphs:chars=永A?fonts={folder / 'text.otf'}", "text.otf"),
        (f"glyphs:chars=永A?fonts={folder / 'half.ttf'}", "half.ttf"),
        (f"glyphs:chars=永A?fonts={latin}", "永"),  # no Chinese glyph
        (f"glyphs:chars=永A?fonts={folder / 'missing.ttf'}", "missing.ttf"),
    ]


def check(spec: str, good: int, bad: int) -> dict:
    """Loads `spec`; held if exactly the good files loaded and the bad ones were counted."""
    from keras_gan.data import load_dataset

    data = load_dataset(spec, 32, 1)
    loaded = len(data) + (0 if data.sources is None else len(data.sources))
    skipped = sum(data.report["skipped"].values())
    return {
        "path": spec.split(":")[0],
        "tried": f"{good + bad} {'records' if spec.startswith('tfrecord') else 'files'}",
        "held": loaded == good and skipped == bad,
        "detail": f"{loaded}/{good} good loaded, {skipped}/{bad} bad skipped: "
        + "; ".join(f"{k} {v}" for k, v in data.report["skipped"].items()),
    }


def bad_data(work: Path, copies: int) -> list[dict]:
    from keras_gan.data import DataError
    from keras_gan.data import load_dataset

    folder = work / "images"
    expected = bad_folder(folder, copies)
    good = sum(g for g, _ in expected.values())
    bad = sum(b for _, b in expected.values()) + 1  # + the loose file
    a, b = folder / "class0", folder / "class1"
    rows = [
        check(f"folder:{folder}", good, bad),
        check(f"pairs:{a},{b}?unpaired=1", good, bad - 1),
        check(f"tfrecord:{work / 'bad.tfrecord'}", *bad_records(work / "bad.tfrecord", copies)),
    ]
    cases, named = bad_fonts(work / "fonts"), 0
    for spec, name in cases:
        try:
            load_dataset(spec, 32, 1)
        except DataError as e:
            named += name in str(e)
    rows.append(
        {
            "path": "fonts",
            "tried": f"{len(cases)} font files",
            "held": named == len(cases),
            "detail": f"{named}/{len(cases)} refused with an error naming the file or character "
            "(empty, text, truncated, no CJK glyph, missing)",
        }
    )
    return rows


# ----------------------------------------------------------------------------- requests


def fuzz(examples: int) -> dict:
    env = dict(QUIET, KGAN_FUZZ_EXAMPLES=str(examples))
    command = [sys.executable, "-m", "pytest", "-q", "tests/serving/test_hostile.py",
               "-k", "fuzzed or still_serves",
               "--hypothesis-show-statistics"]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT)
    passing = [int(n) for n in re.findall(r"(\d+) passing, 0 failing", done.stdout)]
    answers = {}  # per test (gRPC, REST): answer -> share of examples
    for section in done.stdout.split("::test_fuzzed_")[1:]:
        kind = section.split("_", 1)[0]
        shares = re.findall(r"\* ([\d.]+)%, (\w+)", section)
        answers[kind] = ", ".join(f"{code} {float(share):.0f}%" for share, code in shares)
    return {"ok": done.returncode == 0, "tried": passing, "answers": answers}


# ----------------------------------------------------------------------------- load


def start_server(base: Path, poll: float = 1.0):
    server = subprocess.Popen(
        KGAN + ["serve", "--model-base-path", str(base), "--port", "0", "--no-rest",
                "--poll-seconds", str(poll)],
        stderr=subprocess.PIPE, text=True, env=QUIET,
    )  # fmt: skip
    for line in server.stderr:
        match = re.search(r"gRPC 127\.0\.0\.1:(\d+)", line)
        if match:
            threading.Thread(target=server.stderr.read, daemon=True).start()
            return server, int(match[1])
    raise RuntimeError("kgan serve did not start")


def server_resources(pid: int) -> dict:
    """RSS (MiB), open file descriptors and threads of a process, from /proc."""
    status = dict(
        line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
    )
    return {
        "rss": int(status["VmRSS"].split()[0]) / 1024,
        "fds": len(os.listdir(f"/proc/{pid}/fd")),
        "threads": int(status["Threads"]),
    }


def load(port, clients, seconds, versions=None):
    """`clients` threads calling `generate` (4 images each) for `seconds`: (all
    latencies, failures); `versions[k]` collects the versions client k was served."""
    from keras_gan_serving.client import load as load_server

    record = None if versions is None else (lambda k, version: versions[k].append(version))
    by_client, failures = load_server(
        f"127.0.0.1:{port}", "glyphs", clients, seconds, 172, 10, record
    )
    return [x for latencies in by_client for x in latencies], failures


def load_runs(seconds: float) -> list[dict]:
    server, port = start_server(ROOT / "saved_models")
    rows = []
    try:
        load(port, 4, 3)  # warm
        for clients in (8, 32):
            before = server_resources(server.pid)["rss"]
            latencies, failures = load(port, clients, seconds)
            rows.append(
                {
                    "clients": clients,
                    "seconds": seconds,
                    "requests": len(latencies),
                    "failures": len(failures),
                    "p50": np.percentile(latencies, 50) * 1e3,
                    "p99": np.percentile(latencies, 99) * 1e3,
                    "rss": (before, server_resources(server.pid)["rss"]),
                }
            )
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
    return rows


def stream_ends(sockets: list, started: float, within: float) -> list:
    """For each HTTP/2 client socket (one call on stream 1): how the server ended the
    call and when (seconds since `started`): ("reset", t) for RST_STREAM (an answer
    dropped), ("refused", t) for headers that end the stream without an answer (a
    trailers-only status such as RESOURCE_EXHAUSTED), or None within `within` s."""
    ends, buffers = [None] * len(sockets), {sock: b"" for sock in sockets}
    with selectors.DefaultSelector() as selector:
        for i, sock in enumerate(sockets):
            sock.setblocking(False)
            selector.register(sock, selectors.EVENT_READ, i)
        while selector.get_map() and time.monotonic() - started < within:
            for key, _ in selector.select(timeout=0.5):
                sock, i = key.fileobj, key.data
                chunk = sock.recv(65536)
                data = buffers[sock] + chunk
                while len(data) >= 9 and len(data) >= (end := 9 + int.from_bytes(data[:3], "big")):
                    kind, flags = data[3], data[4]
                    stream = int.from_bytes(data[5:9], "big") & 0x7FFFFFFF
                    if stream == 1 and kind == 0x3:
                        ends[i] = ("reset", time.monotonic() - started)
                    elif stream == 1 and kind == 0x1 and flags & 0x1:
                        ends[i] = ("refused", time.monotonic() - started)
                    data = data[end:]
                buffers[sock] = data
                if ends[i] is not None or not chunk:
                    selector.unregister(sock)
    return ends


def never_reading(count: int) -> dict:
    """`count` gRPC clients ask `kgan serve` (a child, default limits) for 64 glyphs each,
    in waves of 16 a second, and never read the answer (HTTP/2 window 0): the server's
    RSS while they hold it, a reading client meanwhile, and when the server drops them."""
    import grpc
    from tensorflow_serving.apis import prediction_service_pb2_grpc

    from tests.serving.test_hostile import never_reading_predict
    from tests.serving.test_server import predict_request

    server, port = start_server(ROOT / "saved_models")
    try:
        load(port, 4, 3)  # warm
        request = predict_request(z=np.zeros((64, 16), np.float32), labels=list(range(64)))
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
            answer = stub.Predict(request, timeout=60).ByteSize()
        before = server_resources(server.pid)["rss"]
        started, stalled = time.monotonic(), []
        for wave in range(0, count, 16):
            stalled += [
                never_reading_predict(port, request) for _ in range(wave, min(wave + 16, count))
            ]
            time.sleep(1.0)
        held = server_resources(server.pid)["rss"]
        latencies, failures = load(port, 1, 5)  # a client that reads, meanwhile
        ends = stream_ends(stalled, started, 120)
        for sock in stalled:
            sock.close()
        reset = [end[1] for end in ends if end and end[0] == "reset"]
        return {
            "count": count,
            "answer": answer,
            "rss": (before, held, server_resources(server.pid)["rss"]),
            "p50": np.percentile(latencies, 50) * 1e3,
            "served": len(latencies),
            "failures": len(failures),
            "reset": reset,
            "refused": sum(1 for end in ends if end and end[0] == "refused"),
            "open": ends.count(None),
            "last_sent": len(range(0, count, 16)),
        }
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)


def swaps(count: int, work: Path) -> dict:
    from keras_gan.export import publish as publish_version

    shipped = newest_version(ROOT / "saved_models" / "glyphs")
    base = work / "swap_models"
    publish_version(shipped, base / "glyphs", 1)
    server, port = start_server(base, poll=0.2)
    versions = [[] for _ in range(8)]
    published, corrupt = [1], []
    try:

        def publisher():
            for k in range(count):
                time.sleep(4)
                broken = base / "glyphs" / f".broken{k}"
                broken.mkdir()
                (broken / "saved_model.pb").write_bytes(b"not a SavedModel")
                corrupt.append(published[-1] + 1)
                broken.rename(base / "glyphs" / str(corrupt[-1]))
                time.sleep(1)
                published.append(corrupt[-1] + 1)
                publish_version(shipped, base / "glyphs", published[-1])

        thread = threading.Thread(target=publisher)
        thread.start()
        _, failures = load(port, 8, 5 * count + 6, versions)
        thread.join()
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
    switches = [sum(a != b for a, b in zip(v, v[1:])) for v in versions]
    return {
        "swaps": count,
        "requests": sum(map(len, versions)),
        "failures": len(failures),
        "switches": (min(switches), max(switches)),
        "monotone": all(v == sorted(v) for v in versions),
        "corrupt_served": sum(x in corrupt for v in versions for x in v),
        "final": {v[-1] for v in versions},
        "published": published,
    }


def soak(minutes: float, work: Path) -> dict:
    """8 clients for `minutes`; every minute a corrupt version, then a good one, is
    published; every second a malformed request (bytes that are no message, then a
    label out of range), each of which must answer INVALID_ARGUMENT; the server's
    resources sampled every minute."""
    import grpc

    from keras_gan.export import publish as publish_version
    from keras_gan_serving.client import GeneratorClient
    from keras_gan_serving.client import ServingError

    shipped = newest_version(ROOT / "saved_models" / "glyphs")
    base = work / "soak_models"
    publish_version(shipped, base / "glyphs", 1)
    server, port = start_server(base, poll=1.0)
    stop, published, samples, malformed = threading.Event(), [1], [], {"sent": 0, "wrong": []}
    try:
        load(port, 4, 3)  # warm

        def publisher():
            while not stop.wait(50):
                broken = base / "glyphs" / f".broken{published[-1]}"
                broken.mkdir()
                (broken / "saved_model.pb").write_bytes(b"not a SavedModel")
                broken.rename(base / "glyphs" / str(published[-1] + 1))
                if stop.wait(10):
                    break
                published.append(published[-1] + 2)
                publish_version(shipped, base / "glyphs", published[-1])
                for old in published[:-3]:  # what a deployment would clean up
                    shutil.rmtree(base / "glyphs" / str(old), ignore_errors=True)
                    shutil.rmtree(base / "glyphs" / str(old + 1), ignore_errors=True)

        def attacker():
            channel = grpc.insecure_channel(f"127.0.0.1:{port}")
            raw = channel.unary_unary("/tensorflow.serving.PredictionService/Predict")
            client = GeneratorClient(f"127.0.0.1:{port}", "glyphs", retries=0)
            while not stop.wait(1.0):
                try:
                    raw(os.urandom(64), timeout=30)
                    malformed["wrong"].append("garbage bytes answered OK")
                except grpc.RpcError as e:
                    if e.code() != grpc.StatusCode.INVALID_ARGUMENT:
                        malformed["wrong"].append(f"garbage bytes: {e.code().name}")
                try:
                    client.generate([0], [10_000])
                    malformed["wrong"].append("label 10000 answered OK")
                except ServingError as e:
                    if e.code != "INVALID_ARGUMENT":
                        malformed["wrong"].append(f"label 10000: {e.code}")
                malformed["sent"] += 2
            channel.close()
            client.close()

        def sampler():
            samples.append(server_resources(server.pid))
            while not stop.wait(60):
                samples.append(server_resources(server.pid))

        threads = [threading.Thread(target=f) for f in (publisher, attacker, sampler)]
        for thread in threads:
            thread.start()
        latencies, failures = load(port, 8, minutes * 60)
        stop.set()
        for thread in threads:
            thread.join()
        samples.append(server_resources(server.pid))
    finally:
        stop.set()
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
    return {
        "minutes": minutes,
        "requests": len(latencies),
        "failures": len(failures),
        "p50": np.percentile(latencies, 50) * 1e3,
        "p99": np.percentile(latencies, 99) * 1e3,
        "swaps": len(published) - 1,
        "malformed": malformed["sent"],
        "wrong": malformed["wrong"],
        "samples": samples,
    }


def soak_lines(result: dict) -> list[str]:
    first, last = result["samples"][0], result["samples"][-1]
    lines = [
        f"\n## Soak: {result['minutes']:.0f} minutes under load "
        f"(bench/reliability.py --soak, {time.strftime('%Y-%m-%d')})\n",
        f"{machine()}. `kgan serve` in a child process; 8 gRPC clients calling `generate` "
        "(4 glyphs each) without pause, retrying refusals with backoff; every minute a "
        "corrupt version, then a good one, published (old ones deleted as a deployment "
        "would); every second two malformed requests (random bytes, a label out of "
        "range) that must answer INVALID_ARGUMENT. Server resources sampled every minute.\n",
        "| requests | failed | p50 / p99 ms | versions published | malformed requests "
        "| answered other than INVALID_ARGUMENT |",
        "| --- | --- | --- | --- | --- | --- |",
        f"| {result['requests']} | {result['failures']} | {result['p50']:.0f} / "
        f"{result['p99']:.0f} | {result['swaps']} good + {result['swaps']} corrupt "
        f"| {result['malformed']} | {len(result['wrong'])} {result['wrong'][:3]} |",
        "",
        "| minute | server RSS MiB | open fds | threads |",
        "| --- | --- | --- | --- |",
    ]
    for minute, sample in enumerate(result["samples"]):
        lines.append(f"| {minute} | {sample['rss']:.0f} | {sample['fds']} | {sample['threads']} |")
    lines.append(
        f"\nStart to end: RSS {first['rss']:.0f} -> {last['rss']:.0f} MiB, fds "
        f"{first['fds']} -> {last['fds']}, threads {first['threads']} -> {last['threads']}."
    )
    return lines


# ----------------------------------------------------------------------------- report


def never_reading_lines(result: dict) -> list[str]:
    before, held, after = result["rss"]
    reset = result["reset"]
    return [
        "\n## gRPC clients that never read their answers "
        f"(bench/reliability.py --never-reading {result['count']}, {time.strftime('%Y-%m-%d')})\n",
        f"{machine()}. `kgan serve` of saved_models/ in a child process with its default "
        "limits (answers dropped 10 s after they are ready, at most 256 MB of them wait; at "
        "most 32 calls at once); clients in waves of 16 a second each send one Predict for "
        f"64 glyphs at 64 px (an answer of {result['answer'] / 1024:.0f} KiB) over HTTP/2 "
        "written by hand with a stream window of 0, and never read. Meanwhile one ordinary "
        "client calls `generate` for 5 s.\n",
        "| clients | server RSS before / holding / after (MiB) | answers dropped (RST_STREAM) "
        "| refused at once | still open after 120 s | ordinary client meanwhile |",
        "|---|---|---|---|---|---|",
        f"| {result['count']} | {before:.0f} / {held:.0f} / {after:.0f} | {len(reset)}, "
        f"{min(reset, default=0):.0f}-{max(reset, default=0):.0f} s after the first call "
        f"(the last sent at {result['last_sent'] - 1} s) | {result['refused']} "
        f"| {result['open']} | {result['served']} answers, {result['failures']} failed, "
        f"p50 {result['p50']:.0f} ms |",
    ]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--kills", type=int, default=50)
    parser.add_argument("--power-cut-steps", type=int, default=20)
    parser.add_argument("--power-cut-resumes", type=int, default=10)
    parser.add_argument("--copies", type=int, default=10, help="copies of each bad file kind")
    parser.add_argument("--fuzz", type=int, default=3000, help="fuzzed gRPC requests")
    parser.add_argument("--seconds", type=float, default=60.0, help="per load level")
    parser.add_argument("--swaps", type=int, default=10)
    parser.add_argument(
        "--soak", type=float, metavar="MIN", help="only the soak test, for MIN minutes"
    )
    parser.add_argument(
        "--never-reading", type=int, metavar="N", help="only N gRPC clients that never read"
    )
    args = parser.parse_args()
    if args.never_reading:
        publish(never_reading_lines(never_reading(args.never_reading)))
        return
    work = Path(tempfile.mkdtemp(prefix="kgan-reliability-"))
    if args.soak:
        try:
            publish(soak_lines(soak(args.soak, work)))
        finally:
            shutil.rmtree(work, ignore_errors=True)
        return
    try:
        started = time.time()
        killed = kills(args.kills, work)
        cut = power_cuts(args.power_cut_steps, args.power_cut_resumes, work)
        data_rows = bad_data(work, args.copies)
        fuzzed = fuzz(args.fuzz)
        load_rows = load_runs(args.seconds)
        swapped = swaps(args.swaps, work)
        minutes = (time.time() - started) / 60
    finally:
        shutil.rmtree(work, ignore_errors=True)
    answers = "; ".join(f"{kind}: {shares}" for kind, shares in fuzzed["answers"].items())
    lines = [
        "\n## Reliability: tried to break it "
        f"(bench/reliability.py, {time.strftime('%Y-%m-%d')})\n",
        f"{machine()}; {minutes:.0f} min. The CI suite runs a few of each "
        "(tests/test_training.py, tests/data, tests/serving/test_hostile.py).\n",
        "| what | tried | held | detail |",
        "| --- | --- | --- | --- |",
        f"| SIGKILL of `kgan fit` at random moments, then `--resume` | {killed['kills']} kills "
        f"| {killed['survived']} resumed; final weights "
        f"{'bit-identical' if killed['identical'] else 'DIFFERENT'} to an uninterrupted run "
        f"| {killed['tensors']} tensors at step {killed['final']}; checkpoint step after "
        f"each kill: {killed['progress']} |",
        f"| power cuts: a `kgan fit --export` of {args.power_cut_steps} steps traced "
        f"({cut['calls']} calls, {cut['checkpoints']} checkpoints), cut after every call "
        f"| {cut['cuts']['posix']} + {cut['cuts']['journaled']} distinct states (POSIX + "
        f"journaled) | {len(cut['problems'])} with a lost acknowledged checkpoint, a partial "
        f"file or export, or no config; {cut['resumed'][0]}/{cut['resumed'][1]} resumed to "
        f"the end | resumed from steps {cut['from']} {'; '.join(cut['problems'][:3])} |",
    ]
    for row in data_rows:
        lines.append(
            f"| bad data: {row['path']} | {row['tried']} "
            f"| {'all handled' if row['held'] else 'NOT all handled'} | {row['detail']} |"
        )
    lines += [
        "| fuzzed gRPC Predict requests and REST bodies (Hypothesis) "
        f"| {' + '.join(map(str, fuzzed['tried']))} "
        f"| {'all' if fuzzed['ok'] else 'NOT all'} answered OK or refused, none INTERNAL, "
        f"server up | {answers} |",
    ]
    for row in load_rows:
        lines.append(
            f"| load: {row['clients']} gRPC clients x {row['seconds']:.0f} s | "
            f"{row['requests']} requests | {row['failures']} failed | p50 {row['p50']:.0f} ms, "
            f"p99 {row['p99']:.0f} ms; server RSS {row['rss'][0]:.0f} -> "
            f"{row['rss'][1]:.0f} MiB |"
        )
    lines.append(
        f"| new versions published under 8-client load, a corrupt one before each "
        f"| {swapped['swaps']} swaps, {swapped['requests']} requests | {swapped['failures']} "
        f"failed; corrupt versions served: {swapped['corrupt_served']} | switches per client "
        f"{swapped['switches'][0]}-{swapped['switches'][1]}, versions only increase: "
        f"{swapped['monotone']}; published {swapped['published']} |"
    )
    publish(lines)


if __name__ == "__main__":
    main()
