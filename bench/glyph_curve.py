"""Glyph quality per minute of training (issue #18): a quality-per-CPU-minute curve.

Each design is one `kgan fit` (its arguments given on the command line) run for the
longest budget, checkpointing every 50 steps; the checkpoint written last before each
budget (wall minutes since the command started: data, tracing and all, on this
machine's cores) is scored with bench/glyph_quality.py's readers. Writes a table to
bench/RESULTS.md and the curves to bench/glyph_curve.svg. Run it alone on the machine:
the budgets are wall time.

    .venv/bin/python bench/glyph_curve.py --design "old=--model glyph_gan" \\
        --design "new=" --minutes 2,5,10,20 --readers /tmp/readers
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

from glyph_quality import SEEDS
from glyph_quality import Readers
from glyph_quality import generated_scores
from glyph_quality import reader_cache
from glyph_quality import real_scores
from results import machine
from results import publish

from keras_gan.data import load_dataset
from keras_gan.runs import load_run
from keras_gan.sampling import ModelSampler

ROOT = Path(__file__).resolve().parent.parent
SERIES = {"content_hanzi": "content hanzi / real", "content_latin": "content Latin / real"}
COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd"]


def train(arguments: list[str], run_dir: Path, minutes: float) -> dict[str, float]:
    """Runs `kgan fit` for `minutes` of wall time (then stops it as Ctrl-C would, which
    checkpoints); returns {checkpoint path: wall seconds since the start}."""
    times_file = run_dir / "checkpoint_times.json"
    if times_file.exists():  # a finished run of an earlier bench
        return json.loads(times_file.read_text())
    # The design's own arguments come last, so a design in small batches can checkpoint
    # less often (a checkpoint per 50 steps of 16 would cost it time the others keep).
    command = [sys.executable, "-m", "keras_gan_cli.main", "fit",
               "--set", "train.steps=1000000", "--set", "train.checkpoint_every=50",
               "--set", "train.keep_checkpoints=100000", "--run-dir", str(run_dir),
               *arguments]  # fmt: skip
    start = time.time()
    process = subprocess.Popen(command, cwd=ROOT, stderr=subprocess.DEVNULL)
    try:
        process.wait(timeout=minutes * 60)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGINT)
        process.wait()
    times = {
        str(index.with_suffix("")): index.stat().st_mtime - start
        for index in (run_dir / "checkpoints").glob("ckpt-*.index")
    }
    times_file.write_text(json.dumps(times, indent=1))
    return times


def checkpoint_step(path: str) -> int:
    return int(path.rsplit("-", 1)[1])  # ".../ckpt-650" -> 650


def svg(curves: dict[str, dict[str, list]], path: Path) -> None:
    """One panel per measure: generated / real against training minutes, per design."""
    width, height, pad = 380, 260, 40
    panels = []
    for i, (key, title) in enumerate(SERIES.items()):
        x0 = i * width
        top_minutes = max(m for series in curves.values() for m, _ in series[key])

        def at(minutes, ratio, x0=x0, top_minutes=top_minutes):
            return (
                x0 + pad + minutes / top_minutes * (width - 2 * pad),
                height - pad - ratio * (height - 2 * pad),
            )

        (left, top), (right, bottom) = at(0, 1.0), at(top_minutes, 0.0)
        goal = at(0, 0.9)[1]
        parts = [
            f'<text x="{x0 + pad}" y="20" font-size="13">{title}</text>',
            f'<rect x="{left}" y="{top}" width="{right - left}" height="{bottom - top}" '
            'fill="none" stroke="#999"/>',
            f'<line x1="{left}" y1="{goal}" x2="{right}" y2="{goal}" stroke="#999" '
            'stroke-dasharray="4"/>',
            f'<text x="{x0 + 8}" y="{goal + 3}" font-size="9">0.9</text>',
            f'<text x="{x0 + 8}" y="{top + 3}" font-size="9">1.0</text>',
            f'<text x="{x0 + 8}" y="{bottom + 3}" font-size="9">0</text>',
            *(
                f'<text x="{at(m, 0)[0] - 4:.1f}" y="{bottom + 14}" font-size="9">{m:g}</text>'
                for m in sorted({m for series in curves.values() for m, _ in series[key]})
            ),
            f'<text x="{(left + right) / 2 - 70}" y="{height - 8}" font-size="11">'
            f"minutes of training ({os.cpu_count()} cores)</text>",
        ]
        for k, (design, series) in enumerate(curves.items()):
            color = COLORS[k % len(COLORS)]
            coords = [at(m, r) for m, r in series[key]]
            parts.append(
                f'<polyline points="{" ".join(f"{x:.1f},{y:.1f}" for x, y in coords)}" '
                f'fill="none" stroke="{color}"/>'
            )
            parts += [
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{color}"/>' for x, y in coords
            ]
            parts.append(
                f'<text x="{left + 8}" y="{bottom - 10 - 13 * k}" font-size="10" '
                f'fill="{color}">{design}</text>'
            )
        panels.append("\n".join(parts))
    path.write_text(
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width * len(SERIES)}" '
        f'height="{height}" font-family="sans-serif">\n' + "\n".join(panels) + "\n</svg>\n",
        encoding="utf-8",
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--design",
        action="append",
        required=True,
        help='NAME=ARGS: a row and the `kgan fit` arguments that make it ("new=" for none)',
    )
    parser.add_argument("--minutes", default="2,5,10,20", help="training budgets")
    parser.add_argument("--seeds", type=int, default=SEEDS, help="samples per character")
    parser.add_argument("--work", type=Path, default=Path("/tmp/kgan-glyph-curve"))
    parser.add_argument("--readers", type=Path, help="keep and reuse the trained readers here")
    parser.add_argument(
        "--reader-fonts",
        action="append",
        help="fonts the content reader also learns from (as bench/glyph_quality.py's)",
    )
    args = parser.parse_args()
    also = tuple(args.reader_fonts or ())
    budgets = [float(m) for m in args.minutes.split(",")]
    designs = dict(d.split("=", 1) for d in args.design)
    rows, curves, lines, readers, real = {}, {}, [], {}, {}
    for name, arguments in designs.items():
        times = train(shlex.split(arguments), args.work / name, max(budgets))
        curves[name] = {measure: [] for measure in SERIES}
        for budget in budgets:
            done = [path for path, seconds in times.items() if seconds <= budget * 60]
            if not done:
                print(f"{name}: no checkpoint within {budget:g} min", flush=True)
                continue
            path = max(done, key=checkpoint_step)
            model, config, info = load_run(args.work / name, checkpoint=path)
            sampler = ModelSampler(model, info["label_names"], config.model, config.to_dict())
            size = sampler.image_shape[0]
            key = (config.data.spec, size)
            if key not in readers:
                data = load_dataset(config.data.spec, size, 1)
                cache = reader_cache(args.readers, key[0], size, also)
                readers[key] = Readers("".join(data.label_names), data, cache, also=also)
                real[key] = real_scores(readers[key])
            scores = generated_scores(sampler, readers[key], real[key], args.seeds)
            step = checkpoint_step(path)
            rows[(name, budget)] = (step, size, scores, real[key])
            for measure in SERIES:
                curves[name][measure].append((budget, scores[measure] / real[key][measure]))
            print(name, budget, step, json.dumps(scores), flush=True)
    lines += [
        f"\n## Glyph quality per minute of training ({time.strftime('%Y-%m-%d')})\n",
        f"Machine: {machine()}. Command: `.venv/bin/python bench/glyph_curve.py "
        + " ".join(f"--design {shlex.quote(f'{n}={a}')}" for n, a in designs.items())
        + "".join(f" --reader-fonts {p}" for p in also)
        + f" --minutes {args.minutes}`. Minutes are wall time since `kgan fit` started "
        "(data, tracing, checkpoints included), the run alone on the machine; scores as in "
        "bench/glyph_quality.py, generated / real. Curves: bench/glyph_curve.svg.",
        "",
        "| design | minutes | step | px | content hanzi | content Latin | specks (real) "
        "| components (real) | style spread | style coverage (real) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for (name, budget), (step, size, s, real) in rows.items():
        lines.append(
            f"| {name} | {budget:g} | {step} | {size} "
            f"| {s['content_hanzi'] / real['content_hanzi']:.2f} "
            f"| {s['content_latin'] / real['content_latin']:.2f} "
            f"| {s['specks']:.2f} ({real['specks']:.2f}) "
            f"| {s['components']:.2f} ({real['components']:.2f}) | {s['char_spread']:.2f} "
            f"| {s['style_coverage']:.2f} ({real['style_coverage']:.2f}) |"
        )
    publish(lines)
    svg(curves, Path(__file__).parent / "glyph_curve.svg")


if __name__ == "__main__":
    main()
