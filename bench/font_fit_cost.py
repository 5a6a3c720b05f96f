"""CPU time of `kgan font fit` from 16 and 200 sample glyphs, as whole processes
(issue #19's budget: at most 5 CPU-minutes from 16 samples and 15 from 200, 2 cores).

The samples are training characters of the target font (seed 0, nested: the 16 are
among the 200), written as image files named by character; the fit holds out the
held-out characters, as bench/font_quality.py's do. Each `--kgan` command (e.g. an
older checkout's `.venv/bin/kgan`) fits every sample count, round after round in
turn, so that a shared machine's drift falls on all of them alike. CPU time is the
child process's user + system time.

    .venv/bin/python bench/font_fit_cost.py [--target "AR PL UKai CN Book"] \
        [--shots 16,200] [--kgan .venv/bin/kgan --kgan OLD/.venv/bin/kgan] [--rounds 2]
"""

import argparse
import csv
import resource
import shlex
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
from results import machine
from results import publish

from keras_gan.data.fontpairs import face_style
from keras_gan.data.fontpairs import source_style
from keras_gan.data.fontpairs import split_chars
from keras_gan.data.glyph_folder import write_glyph_folder
from keras_gan.data.glyphs import parse_charset
from keras_gan.data.glyphs import select_fonts
from keras_gan.fonts.complete import base_info
from keras_gan.fonts.complete import default_base
from keras_gan.fonts.complete import source_token
from keras_gan.fonts.complete import spec_charset


def sample_folders(target_name: str, charset: str | None, shots, root: Path) -> dict:
    """{count: folder of `count` sample glyphs of the target}, nested."""
    base = default_base(target_name, charset)
    _, info = base_info(base)
    chars = parse_charset(charset or spec_charset(info["spec"]))
    target = face_style(select_fonts([target_name])[0], chars, 64)
    source = source_style(source_token(base, info["spec"]), chars, 64)
    usable = [c for c in split_chars(chars, "train") if c in target.glyphs and c in source.glyphs]
    pool = np.random.default_rng(0).permutation(usable)
    folders = {}
    for count in shots:
        folders[count] = root / f"samples-{count}"
        write_glyph_folder({c: target.glyphs[c] for c in pool[:count]}, folders[count])
    return folders


def timed_fit(kgan: str, folder: Path, run_dir: Path) -> tuple[float, float, float]:
    """(CPU seconds, wall seconds, images/s of the last log row) of one `kgan font fit`."""
    before, start = resource.getrusage(resource.RUSAGE_CHILDREN), time.perf_counter()
    # From the run's parent folder: `python -m` puts the working folder first on the
    # import path, where this checkout's keras_gan would shadow another's.
    subprocess.run(
        [*shlex.split(kgan), "font", "fit", "--target", str(folder), "--holdout",
         "--run-dir", str(run_dir)],
        check=True, capture_output=True, cwd=run_dir.parent,
    )  # fmt: skip
    wall, after = time.perf_counter() - start, resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    with open(run_dir / "log.csv", newline="") as f:
        speed = float(list(csv.DictReader(f))[-1]["images_per_sec"])
    return cpu, wall, speed


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--target", default="AR PL UKai CN Book", help="a font the bases never learned"
    )
    parser.add_argument("--charset", help="default: the shipped base's for the target")
    parser.add_argument("--shots", default="16,200")
    parser.add_argument(
        "--kgan",
        action="append",
        help="a kgan command to time (repeatable; default: .venv/bin/kgan)",
    )
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    commands = args.kgan or [".venv/bin/kgan"]
    shots = [int(s) for s in args.shots.split(",")]
    root = Path(tempfile.mkdtemp(prefix="kgan-fit-cost-"))
    folders = sample_folders(args.target, args.charset, shots, root)
    times = {}  # (command, count) -> [(cpu, wall, images/s)]
    for round_ in range(args.rounds):
        for number, kgan in enumerate(commands):
            for count in shots:
                run_dir = root / f"run-{number}-{count}-{round_}"
                times.setdefault((kgan, count), []).append(timed_fit(kgan, folders[count], run_dir))
                print(kgan, count, times[kgan, count][-1], flush=True)
    lines = [
        f"\n## `kgan font fit` CPU time ({time.strftime('%Y-%m-%d')}, bench/font_fit_cost.py)\n",
        f"Machine: {machine()}. Target {args.target!r}, {args.rounds} round(s); "
        "each cell: CPU minutes (user + system) / wall minutes / training images/s.\n",
        "| kgan | " + " | ".join(f"{c} samples" for c in shots) + " |",
        "|---|" + "---|" * len(shots),
    ]
    for kgan in commands:
        cells = [
            ", ".join(
                f"{cpu / 60:.1f} / {wall / 60:.1f} / {speed:.0f}"
                for cpu, wall, speed in times[kgan, c]
            )
            for c in shots
        ]
        lines.append(f"| `{kgan}` | " + " | ".join(cells) + " |")
    publish(lines)


if __name__ == "__main__":
    main()
