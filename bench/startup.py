"""Time to the first training step of the default job (issue #23, goal 3).

Fresh `kgan fit` processes (the README's default job: glyph_style_gan on the default
glyphs at 64 px), timed from the process start to each stage it reports on stderr:

- `import`: `import keras_gan.training` alone, in its own fresh process (TensorFlow,
  Keras and keras-gan's modules);
- `run line`: data rendered or read from the cache, the model built, its first
  checkpoint written (the "run DIR: ..." line);
- `first step`: the training step traced and run once (the "step 1/2" line).

With the render cache warm (a previous run filled it) and empty (`KGAN_CACHE_DIR` a new
folder), `--rounds` times each, alternating; medians.

    .venv/bin/python bench/startup.py [--rounds 3]
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from results import machine
from results import publish

SETTINGS = [
    "train.steps=2",
    "train.log_every=1",
    "train.sample_every=1000",
    "train.checkpoint_every=1000",
]


def timed_fit(cache: Path, run_dir: Path) -> dict:
    """Seconds from the start of a `kgan fit` process to its run line and first step."""
    command = [sys.executable, "-m", "keras_gan_cli.main", "fit", "--run-dir", str(run_dir)]
    command += [a for kv in SETTINGS for a in ("--set", kv)]
    env = dict(os.environ, KGAN_CACHE_DIR=str(cache), TF_CPP_MIN_LOG_LEVEL="3", KGAN_PROGRESS="0")
    start = time.perf_counter()
    stamps = {}
    with subprocess.Popen(
        command, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, env=env, text=True
    ) as child:
        for line in child.stderr:
            now = time.perf_counter() - start
            if line.startswith("run ") and "run line" not in stamps:
                stamps["run line"] = now
            if line.startswith("step 1/"):
                stamps["first step"] = now
        if child.wait() != 0:
            raise RuntimeError(f"kgan fit failed: {command}")
    return stamps


def import_seconds() -> float:
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-c", "import keras_gan.training"],
        check=True,
        env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"),
    )
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    results = {"warm": [], "empty": []}
    imports = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        warm = tmp / "warm-cache"
        timed_fit(warm, tmp / "fill")  # fills the warm cache
        for round_ in range(args.rounds):
            imports.append(import_seconds())
            results["warm"].append(timed_fit(warm, tmp / f"warm-{round_}"))
            results["empty"].append(timed_fit(tmp / f"empty-{round_}", tmp / f"empty-run-{round_}"))
    lines = [
        "\n## Time to the first step of the default job (bench/startup.py, "
        f"{time.strftime('%Y-%m-%d')})\n",
        f"Machine: {machine()}. Command: `.venv/bin/python bench/startup.py --rounds "
        f"{args.rounds}` (fresh `kgan fit` processes, the default job with 2 steps; "
        "seconds from the process start, medians of the rounds, alternating).\n",
        "| render cache | import keras_gan.training | run line (data, model, checkpoint 0) "
        "| first step (traced and run) |",
        "|---|---|---|---|",
    ]
    for kind, rows in results.items():
        run_line = statistics.median(r["run line"] for r in rows)
        first = statistics.median(r["first step"] for r in rows)
        lines.append(
            f"| {kind} | {statistics.median(imports):.1f} | {run_line:.1f} | {first:.1f} |"
        )
    publish(lines)


if __name__ == "__main__":
    main()
