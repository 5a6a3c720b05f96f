"""What fsync discipline costs a checkpoint (issue #22): the default job's model
(glyph_style_gan at 64 px) checkpointed repeatedly through `CheckpointStore.save`, with
the fsyncs and with `keras_gan.files.fsync_path` made a no-op, alternating so both see
the same machine load.

    .venv/bin/python bench/fsync_cost.py [--saves 20]
"""

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import tensorflow as tf
from results import machine
from results import publish

from keras_gan import checkpoints
from keras_gan import files
from keras_gan import runs
from keras_gan.config import RunConfig
from keras_gan.data import load_dataset


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--saves", type=int, default=20)
    args = parser.parse_args()
    config = RunConfig()
    data = load_dataset(config.data.spec, config.data.image_size, config.data.channels)
    model, _ = runs.build_for_data(config, data)
    step = tf.Variable(0, dtype=tf.int64)
    checkpoint = runs.checkpoint_for(model, step)
    real_fsync = files.fsync_path
    times = {"fsync": [], "no fsync": []}
    with tempfile.TemporaryDirectory(dir=Path.cwd()) as tmp:
        for way in ("fsync", "no fsync"):
            (Path(tmp) / way).mkdir()
        stores = {w: checkpoints.CheckpointStore(checkpoint, Path(tmp) / w, 3) for w in times}
        for i in range(args.saves):
            for way, store in stores.items():
                checkpoints.fsync_path = real_fsync if way == "fsync" else lambda p: None
                files.fsync_path = checkpoints.fsync_path
                start = time.perf_counter()
                store.save(i)
                times[way].append(time.perf_counter() - start)
        size = sum(p.stat().st_size for p in (Path(tmp) / "fsync").glob("ckpt-*"))
    checkpoints.fsync_path = files.fsync_path = real_fsync
    med = {w: float(np.median(t)) * 1000 for w, t in times.items()}
    lines = [
        "\n## What fsync costs a checkpoint (bench/fsync_cost.py)\n",
        f"Machine: {machine()}; the working folder's disk. {args.saves} saves each, "
        f"alternating; the default job's checkpoint (both networks, optimizers, EMA), "
        f"{size / 3 / 2**20:.1f} MB per checkpoint.\n",
        "| writes | median ms per checkpoint | p90 ms |",
        "|---|---|---|",
        *(
            f"| {w} | {med[w]:.0f} | {float(np.percentile(t, 90)) * 1000:.0f} |"
            for w, t in times.items()
        ),
        f"\nfsync / no fsync: {med['fsync'] / med['no fsync']:.2f}x; at the default "
        "checkpoint_every (200 steps) that is the share of training time shown by "
        "bench/train_speed.py's steps per second.",
    ]
    publish(lines)


if __name__ == "__main__":
    main()
