"""Text models against the maximum-likelihood baseline, on Chinese poems and English quotes.

For each corpus (made by scripts/setup.sh in corpora/): trains text_mle, text_wgan_gp
and text_relgan with `kgan fit` (--steps each, or --steps-for MODEL=N; CPU time
measured), then samples every model at several temperatures and scores the lines
against the corpus's held-out lines: BLEU-3 (quality), Self-BLEU-3 (lower = more
diverse), character 2-gram JSD, and NLL under the MLE model. Real held-out lines
scored the same way (against the training lines) give the ceiling. Writes the
table to bench/RESULTS.md and the quality-diversity curves to bench/text_curves.svg.

    .venv/bin/python bench/text_quality.py [--steps 1000] [--steps-for text_wgan_gp=500]
        [--samples 500] [--work DIR] [--corpora zh,en] [--models ...] [--train-only]

Trainings finished in --work are reused (their CPU time is kept beside them), so an
interrupted run, or one split with --train-only --models, picks up where it stopped.
"""

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from results import machine
from results import publish

from keras_gan import runs

ROOT = Path(__file__).parents[1]
CORPORA = {"zh: Tang poems": "tang300.txt?length=16", "en: quotations": "quotes-en.txt?length=48"}
MODELS = {
    "text_mle": [],
    "text_wgan_gp": ["--set", "model_kwargs.width=128", "--set", "train.n_critic=5"],
    # G's one learning rate serves both phases: 1e-3 (1e-4 left MLE pre-training at 6.4
    # nats/char after 500 steps on tang300, 1e-3 at 5.7; the adversarial phase held)
    "text_relgan": ["--set", "model_kwargs.units=128", "--set", "train.g_learning_rate=1e-3"],
}
TEMPERATURES = (0.0, 0.5, 0.8, 1.0, 1.2)
COLORS = {"text_mle": "#1f77b4", "text_wgan_gp": "#d62728", "text_relgan": "#2ca02c"}


def train(model, spec, steps, run_dir) -> float:
    """Runs `kgan fit` unless `run_dir` holds a finished run; returns its CPU seconds
    (user + system)."""
    record = run_dir.parent / f"{model}.cpu.json"
    if record.exists():
        return json.loads(record.read_text())["cpu_seconds"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    command = [sys.executable, "-m", "keras_gan_cli.main", "fit", "--model", model,
               "--dataset", f"text:{spec}", "--steps", str(steps), "--run-dir", str(run_dir),
               *MODELS[model]]  # fmt: skip
    if model == "text_relgan":  # half MLE pre-training, then beta reaches beta_max at the end
        half = f"{steps // 2}"
        command += ["--set", f"model_kwargs.pretrain_steps={half}"]
        command += ["--set", f"model_kwargs.anneal_steps={half}"]
    subprocess.run(command, check=True, capture_output=True, cwd=ROOT)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    record.write_text(json.dumps({"cpu_seconds": cpu, "steps": steps}))
    return cpu


def score(lines, references, language_model) -> dict:
    from keras_gan.metrics import text

    return {
        "bleu3": text.bleu(lines, references, 3),
        "selfbleu3": text.self_bleu(lines, 3),
        "jsd2": text.ngram_jsd([x for x in lines if x], references, 2),
        "nll": text.sample_nll(language_model, [x for x in lines if x])[0],
        "distinct": len(set(lines)) / len(lines),
    }


def svg(curves: dict, path: Path) -> None:
    """Quality (BLEU-3, up) against diversity (Self-BLEU-3, left is more diverse), one
    panel per corpus; points labelled by temperature, real held-out lines as a cross."""
    width, height, pad, legend = 520, 320, 45, 140
    panels = []
    for i, (corpus, models) in enumerate(curves.items()):
        x0 = i * width
        points = [p for series in models.values() for p in series]
        xs, ys = [p[1] for p in points], [p[2] for p in points]
        lo_x, hi_x, lo_y, hi_y = min(xs), max(xs) + 1e-9, min(ys), max(ys) + 1e-9
        right, bottom = x0 + width - legend, height - pad

        def at(x, y, x0=x0, lo_x=lo_x, hi_x=hi_x, lo_y=lo_y, hi_y=hi_y, right=right):
            px = x0 + pad + (x - lo_x) / (hi_x - lo_x) * (right - x0 - 2 * pad)
            py = bottom - (y - lo_y) / (hi_y - lo_y) * (bottom - 2 * pad)
            return px, py

        (left, top), (end, base) = at(lo_x, hi_y), at(hi_x, lo_y)
        parts = [
            f'<text x="{x0 + pad}" y="20" font-size="14">{corpus}</text>',
            f'<rect x="{left - 8}" y="{top - 8}" width="{end - left + 16}" '
            f'height="{base - top + 16}" fill="none" stroke="#999"/>',
            f'<text x="{left - 8}" y="{base + 22}" font-size="9">{lo_x:.2f}</text>',
            f'<text x="{end - 8}" y="{base + 22}" font-size="9">{hi_x:.2f}</text>',
            f'<text x="{x0 + 4}" y="{base + 3}" font-size="9">{lo_y:.3f}</text>',
            f'<text x="{x0 + 4}" y="{top + 3}" font-size="9">{hi_y:.3f}</text>',
            f'<text x="{(left + end) / 2 - 80}" y="{height - 8}" font-size="11">'
            "Self-BLEU-3 (lower: more diverse)</text>",
            f'<text x="{x0 + 2}" y="{top + 18}" font-size="10">BLEU-3</text>',
        ]
        for k, (name, series) in enumerate(models.items()):
            color = COLORS.get(name, "#000")
            coords = [at(s, b) for _, s, b in series]
            path_d = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
            parts.append(f'<polyline points="{path_d}" fill="none" stroke="{color}"/>')
            for (t, _, _), (x, y) in zip(series, coords):
                if t is None:  # the real held-out lines
                    parts.append(f'<text x="{x - 4:.1f}" y="{y + 4:.1f}" font-size="12">x</text>')
                    continue
                parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{color}"/>')
                parts.append(f'<text x="{x + 4:.1f}" y="{y - 4:.1f}" font-size="9">{t:g}</text>')
            parts.append(
                f'<text x="{right + 10}" y="{pad + 14 * k}" font-size="11" fill="{color}">'
                f"{name}</text>"
            )
        panels.append("\n".join(parts))
    body = "\n".join(panels)
    path.write_text(
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width * len(curves)}" '
        f'height="{height}" font-family="sans-serif">\n{body}\n</svg>\n',
        encoding="utf-8",
    )


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--steps-for", action="append", default=[], help="MODEL=STEPS")
    parser.add_argument("--corpora", default="zh,en", help="comma-separated: zh, en")
    parser.add_argument("--samples", type=int, default=500)
    parser.add_argument("--work", type=Path, help="run folders to keep and reuse")
    parser.add_argument("--models", default=",".join(MODELS), help="comma-separated")
    parser.add_argument("--train-only", action="store_true")
    args = parser.parse_args()
    models = args.models.split(",")
    steps = {m: args.steps for m in MODELS} | {
        m: int(n) for m, n in (item.split("=") for item in args.steps_for)
    }
    from keras_gan import sampling
    from keras_gan.data import load_dataset

    started = time.time()
    work = args.work or Path(tempfile.mkdtemp(prefix="kgan-text-"))
    rows, curves = [], {}
    for corpus, spec in CORPORA.items():
        if corpus[:2] not in args.corpora.split(","):
            continue
        path_spec = f"{ROOT / 'corpora'}/{spec}"
        data = load_dataset(f"text:{path_spec}")
        cpu = {m: train(m, path_spec, steps[m], work / corpus[:2] / m) for m in models}
        if args.train_only:
            continue
        mle, _, info = runs.load_run(work / corpus[:2] / "text_mle")
        language_model = (mle, info["vocab"])
        real = score(data.held_out, data.lines, language_model)
        rows.append((corpus, "real held-out lines", "-", "-", None, real))
        curves[corpus] = {"real held-out lines (x)": [(None, real["selfbleu3"], real["bleu3"])]}
        for model in models:
            sampler = sampling.load_sampler(work / corpus[:2] / model)
            curves[corpus][model] = []
            for temperature in TEMPERATURES:
                lines = sampler.lines(range(args.samples), temperature)
                scores = score(lines, data.held_out, language_model)
                curves[corpus][model].append((temperature, scores["selfbleu3"], scores["bleu3"]))
                rows.append((corpus, model, steps[model], f"{temperature:g}", cpu[model], scores))
    if args.train_only:
        return
    svg(curves, Path(__file__).parent / "text_curves.svg")
    lines = [
        "\n## Text models vs the maximum-likelihood baseline "
        f"(bench/text_quality.py, {time.strftime('%Y-%m-%d')})\n",
        f"{machine()}; {(time.time() - started) / 60:.0f} min (training reused from "
        f"earlier invocations counts its own CPU time). Batch 64; {args.samples} lines per "
        "temperature scored against the corpus's held-out lines; NLL (nats per character) "
        "under the MLE model of the same run. Curves: bench/text_curves.svg.\n",
        "| corpus | model | steps | temperature | CPU min | BLEU-3 | Self-BLEU-3 | JSD-2 "
        "| NLL | distinct |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for corpus, model, model_steps, temperature, cpu, s in rows:
        cpu = "-" if cpu is None else f"{cpu / 60:.1f}"
        lines.append(
            f"| {corpus} | {model} | {model_steps} | {temperature} | {cpu} | {s['bleu3']:.3f} "
            f"| {s['selfbleu3']:.3f} | {s['jsd2']:.3f} | {s['nll']:.2f} | {s['distinct']:.2f} |"
        )
    publish(lines)


if __name__ == "__main__":
    main()
