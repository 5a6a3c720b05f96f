"""kgan's standard DCGAN-32 against PyTorch's, whole process against whole process.

Every measurement is its own fresh process (imports, tracing, warm-up and
shutdown excluded from the timed steps), and the variants alternate A B C ... A B C ... over
`--rounds`, so load from other processes hits them alike; the median is reported.
Each round also measures the machine's fp32 (and bf16) matmul peak (4096^2,
best of PyTorch and TensorFlow), so FLOP/s are read against the peak of that moment.

Without PyTorch installed, its rows are left out and the peak is TensorFlow's.

Variants: kgan `--preset dcgan-32` through `kgan fit`'s own pipeline and
`Model.fit` (float32; XLA; mixed_bfloat16; on random and on real glyph images), and
bench/torch_dcgan.py in eager mode (float32; its bf16 autocast option is left out:
PyTorch's CPU bf16 kernels crawl without bf16 units); then batch-256
generation by both. Appends a section to bench/RESULTS.md.

    .venv/bin/pip install '.[bench]'  # PyTorch: a bench-only dependency
    .venv/bin/python bench/train_throughput.py [--rounds 3] [--steps 30] [--batch 64]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

# Conv/matmul FLOPs of one training step per real image (multiply-add = 2), as the
# reference step runs it: G forward once; D forward on real and fake, D backward
# (weight and input gradients, none into the images); D forward on the fake batch
# again after D's update, backward to G through D's inputs; G backward.
G_FORWARD = 2 * (
    100 * 512 * 16 + 4 * 4 * 512 * 256 * 16 + 8 * 8 * 256 * 128 * 16 + 16 * 16 * 128 * 3 * 16
)
D_FIRST = 2 * 16 * 16 * 3 * 128 * 16
D_FORWARD = D_FIRST + 2 * (8 * 8 * 128 * 256 * 16 + 4 * 4 * 256 * 512 * 16 + 512 * 16)
G_FIRST = 2 * 100 * 512 * 16
FLOP_PER_IMAGE = (
    G_FORWARD  # fake = G(z)
    + 2 * D_FORWARD  # D(real), D(fake)
    + 2 * (2 * D_FORWARD - D_FIRST)  # D backward on both
    + D_FORWARD  # D(fake) for G's loss
    + D_FORWARD  # backward through D to the fake images (input gradients only)
    + 2 * G_FORWARD
    - G_FIRST  # G backward (weights, and inputs after the first layer)
)


def kgan_model(precision, jit, data_spec, batch):
    from keras_gan import presets
    from keras_gan import runs
    from keras_gan.config import RunConfig
    from keras_gan.data import load_dataset
    from keras_gan.data.pipeline import make_dataset

    config = (
        RunConfig()
        .merge(presets.get("dcgan-32"))
        .merge(
            {
                "data": {"spec": data_spec, "channels": 3},
                "train": {"batch_size": batch, "precision": precision, "jit_compile": jit},
            }
        )
        .validate()
    )
    data = load_dataset(config.data.spec, config.data.image_size, config.data.channels)
    model, _ = runs.build_for_data(config, data)
    dataset = make_dataset(data, batch, (model.noise_draws, model.latent_dim), 0)
    return model, dataset


def timed(run, steps, images_per_step):
    start_wall, start_cpu = time.perf_counter(), time.process_time()
    run(steps)
    wall, cpu = time.perf_counter() - start_wall, time.process_time() - start_cpu
    return {"images_per_sec": steps * images_per_step / wall, "cpu_per_wall": cpu / wall}


def child_kgan(args):
    """Steady-state steps inside one `fit` (as `kgan fit` runs): timed from the end of
    the 5th (warm-up) step to the end of the last, so neither tracing nor `fit`'s exit
    (which waits up to ~10 s for tf.data's background threads) counts."""
    import keras

    model, dataset = kgan_model(args.precision, args.jit, args.data, args.batch)
    marks = []

    class Clock(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if batch in (4, 4 + args.steps):
                marks.append((time.perf_counter(), time.process_time()))

    model.fit(dataset, steps_per_epoch=5 + args.steps, epochs=1, verbose=0, callbacks=[Clock()])
    (wall0, cpu0), (wall1, cpu1) = marks
    wall = wall1 - wall0
    return {"images_per_sec": args.steps * args.batch / wall, "cpu_per_wall": (cpu1 - cpu0) / wall}


def child_torch(args):
    import torch
    from torch_dcgan import DCGAN

    torch.manual_seed(0)
    gan = DCGAN(bf16=args.precision == "mixed_bfloat16")
    real = torch.rand(args.batch, 3, 32, 32) * 2 - 1

    def run(steps):
        for _ in range(steps):
            gan.train_step(real)

    run(5)
    return timed(run, args.steps, args.batch)


def child_kgan_generate(args):
    import tensorflow as tf

    model, _ = kgan_model(args.precision, False, "synthetic:32x32x3", 64)
    generator = model.sampling_generator
    sample = tf.function(lambda z: generator(z, training=False), jit_compile=args.jit)
    z = tf.random.normal((256, model.latent_dim))

    def run(steps):
        for _ in range(steps):
            sample(z).numpy()

    run(3)
    return timed(run, args.steps, 256)


def child_torch_generate(args):
    from torch_dcgan import DCGAN

    gan = DCGAN(bf16=args.precision == "mixed_bfloat16")

    def run(steps):
        for _ in range(steps):
            gan.generate(256).numpy()

    run(3)
    return timed(run, args.steps, 256)


def best_flops(run, n: int) -> float:
    """FLOP/s of an n x n matmul: the best of 3 after a warm-up."""
    run()
    start = time.perf_counter()
    for _ in range(3):
        run()
    return 3 * 2 * n**3 / (time.perf_counter() - start)


def child_peak(args):
    """TensorFlow's matmul FLOP/s, float32 and bfloat16."""
    import tensorflow as tf

    n = 4096
    b32 = tf.random.normal((n, n))
    b16 = tf.cast(b32, tf.bfloat16)
    return {
        "float32": best_flops(lambda: tf.linalg.matmul(b32, b32).numpy(), n),
        "bfloat16": best_flops(lambda: tf.linalg.matmul(b16, b16).numpy(), n),
    }


def child_torch_peak(args):
    """PyTorch's float32 matmul FLOP/s (its CPU bf16 GEMM crawls without bf16 units)."""
    import torch

    n = 4096
    a = torch.randn(n, n)
    return {"float32": best_flops(lambda: torch.mm(a, a), n)}


def bf16_units() -> str:
    flags = next(
        (
            line
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("flags")
        ),
        "",
    ).split()
    found = [f for f in ("avx512_bf16", "amx_bf16") if f in flags]
    return ", ".join(found) if found else "none (no avx512_bf16, no amx_bf16)"


CHILDREN = {
    "kgan": child_kgan,
    "torch": child_torch,
    "kgan-generate": child_kgan_generate,
    "torch-generate": child_torch_generate,
    "peak": child_peak,
    "torch-peak": child_torch_peak,
}

# Without PyTorch (a bench-only dependency) the kgan rows run alone, against TF's peak.
HAVE_TORCH = importlib.util.find_spec("torch") is not None

# (name, child, precision, jit, data)
TRAIN = [
    ("PyTorch eager, float32", "torch", "float32", False, ""),
    ("kgan, float32", "kgan", "float32", False, "synthetic:32x32x3"),
    ("kgan, float32, XLA", "kgan", "float32", True, "synthetic:32x32x3"),
    ("kgan, float32, real glyphs", "kgan", "float32", False, "glyphs:default"),
    ("kgan, mixed_bfloat16", "kgan", "mixed_bfloat16", False, "synthetic:32x32x3"),
    ("kgan, mixed_bfloat16, XLA", "kgan", "mixed_bfloat16", True, "synthetic:32x32x3"),
]
GENERATE = [
    ("PyTorch eager, float32", "torch-generate", "float32", False, ""),
    ("kgan tf.function, float32", "kgan-generate", "float32", False, ""),
    ("kgan tf.function, float32, XLA", "kgan-generate", "float32", True, ""),
    ("kgan tf.function, mixed_bfloat16", "kgan-generate", "mixed_bfloat16", False, ""),
]


def run_child(child, precision="float32", jit=False, data="", steps=30, batch=64) -> dict:
    command = [sys.executable, __file__, "--child", child, "--precision", precision]
    command += ["--data", data or "none", "--steps", str(steps), "--batch", str(batch)]
    command += ["--jit"] if jit else []
    out = subprocess.run(command, capture_output=True, text=True, cwd=Path(__file__).parent)
    if out.returncode:
        raise RuntimeError(f"{child} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def process_seconds(command: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    out = subprocess.run(command, capture_output=True, text=True, cwd=cwd)
    if out.returncode:
        raise RuntimeError(f"{' '.join(command)} failed:\n{out.stderr[-3000:]}")
    return time.perf_counter() - start


def whole_processes(rounds: int, counts: tuple[int, int]) -> None:
    """Whole training processes as users time them: `kgan fit --preset dcgan-32` (its
    batch 128, default monitors, checkpoints and exit) against `bench/torch_dcgan.py`
    at two step counts; images/s from the difference, so start-up and exit cancel."""
    import tempfile

    from results import machine
    from results import publish

    here = Path(__file__).parent
    bin_dir = Path(sys.executable).parent

    def kgan(steps, folder):
        return [
            str(bin_dir / "kgan"),
            "fit",
            "--preset",
            "dcgan-32",
            "--dataset",
            "synthetic:32x32x3",
            "--steps",
            str(steps),
            "--run-dir",
            str(folder),
        ]

    def torch(steps, folder):
        return [sys.executable, str(here / "torch_dcgan.py"), "--steps", str(steps)]

    variants = {"kgan fit --preset dcgan-32": kgan}
    if HAVE_TORCH:
        variants["PyTorch eager (bench/torch_dcgan.py)"] = torch
    times = {(name, n): [] for name in variants for n in counts}
    for command in variants.values():  # untimed: a first process meets cold file caches
        with tempfile.TemporaryDirectory() as folder:
            process_seconds(command(counts[0], Path(folder) / "run"), here)
    for round_ in range(rounds):
        for name, command in variants.items():
            for n in counts:
                with tempfile.TemporaryDirectory() as folder:
                    times[name, n].append(process_seconds(command(n, Path(folder) / "run"), here))
                print(f"round {round_}: {name} {n} steps: {times[name, n][-1]:.1f} s", flush=True)
    low, high = counts
    lines = [
        f"\n## DCGAN-32 as whole processes, kgan fit vs PyTorch ({time.strftime('%Y-%m-%d')}, "
        "bench/train_throughput.py --processes)\n",
        f"Machine: {machine()}; PyTorch "
        f"{_version('torch') if HAVE_TORCH else 'not installed'}. Command: `.venv/bin/python "
        f"bench/train_throughput.py --processes {low},{high} --rounds {rounds}`: each a fresh "
        "process timed from launch to exit (imports, data, tracing, monitors, checkpoints, "
        "exit), after one untimed process of each; batch 128; images/s = 128 x (steps "
        "difference) / (time difference); medians of the rounds, variants alternating.\n",
        f"| process | {low} steps, s | {high} steps, s | start-up and exit, s | images/s "
        "| vs PyTorch |",
        "|---|---|---|---|---|---|",
    ]
    seconds = {key: statistics.median(values) for key, values in times.items()}
    rates = {
        name: 128 * (high - low) / (seconds[name, high] - seconds[name, low]) for name in variants
    }
    reference = rates.get("PyTorch eager (bench/torch_dcgan.py)")
    for name, rate in rates.items():
        fixed = seconds[name, low] - low * 128 / rate
        lines.append(
            f"| {name} | {seconds[name, low]:.1f} | {seconds[name, high]:.1f} | {fixed:.1f} "
            f"| {rate:.1f} | {ratio(rate, reference)} |"
        )
    publish(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--child", choices=CHILDREN)
    parser.add_argument("--precision", default="float32")
    parser.add_argument("--jit", action="store_true")
    parser.add_argument("--data", default="none")
    parser.add_argument("--processes", help="two step counts, e.g. 10,70: whole processes")
    args = parser.parse_args()
    if args.processes:
        low, high = (int(n) for n in args.processes.split(","))
        whole_processes(args.rounds, (low, high))
        return
    if args.child:
        # PyTorch's children never load TensorFlow (both in one process crash). kgan's
        # load keras_gan first, before TensorFlow: its TF settings (oneDNN on), as kgan has.
        if not args.child.startswith("torch"):
            import keras_gan  # noqa: F401

        print(json.dumps(CHILDREN[args.child](args)))
        return

    from results import machine
    from results import publish

    if not bf16_units().startswith(("avx512_bf16", "amx_bf16")):  # bf16 is emulated: minutes
        TRAIN[:] = [v for v in TRAIN if v[2] == "float32"]
        GENERATE[:] = [v for v in GENERATE if v[2] == "float32"]
    if not HAVE_TORCH:
        TRAIN[:] = [v for v in TRAIN if v[1] != "torch"]
        GENERATE[:] = [v for v in GENERATE if v[1] != "torch-generate"]
    train = {name: [] for name, *_ in TRAIN}
    generate = {name: [] for name, *_ in GENERATE}
    peaks = []
    for round_ in range(args.rounds):
        peak = run_child("peak")
        if HAVE_TORCH:  # the float32 peak is the better of the two libraries'
            peak["float32"] = max(peak["float32"], run_child("torch-peak")["float32"])
        peaks.append(peak)
        for name, child, precision, jit, data in TRAIN:
            result = run_child(child, precision, jit, data, args.steps, args.batch)
            train[name].append(result["images_per_sec"])
            print(f"round {round_}: {name}: {result}", flush=True)
        for name, child, precision, jit, data in GENERATE:
            result = run_child(child, precision, jit, data, max(4, args.steps // 3))
            generate[name].append(result["images_per_sec"])
            print(f"round {round_}: generate {name}: {result}", flush=True)
    peak32 = statistics.median(p["float32"] for p in peaks)
    peak16 = statistics.median(p["bfloat16"] for p in peaks)
    torch32 = statistics.median(train["PyTorch eager, float32"]) if HAVE_TORCH else None
    kgan32 = statistics.median(train["kgan, float32"])
    lines = [
        f"\n## DCGAN-32 training and generation, kgan vs PyTorch "
        f"({time.strftime('%Y-%m-%d')}, bench/train_throughput.py)\n",
        f"Machine: {machine()}; bf16 units: {bf16_units()}; TF {_version('tensorflow')}, "
        f"Keras {_version('keras')}, "
        f"PyTorch {_version('torch') if HAVE_TORCH else 'not installed'}. "
        "Command: `.venv/bin/python bench/train_throughput.py "
        f"--rounds {args.rounds} --steps {args.steps} --batch {args.batch}`: every figure is "
        "the median over rounds of a fresh process timing steps after 5 warm-up steps; "
        "variants alternate within each round.",
        f"Matmul peak (4096^2, {'best of PyTorch and TF' if HAVE_TORCH else 'TF'}, median of "
        f"rounds): float32 "
        f"{peak32 / 1e9:.0f} GFLOP/s, bfloat16 {peak16 / 1e9:.0f} GFLOP/s. One training "
        f"step costs {FLOP_PER_IMAGE / 1e6:.0f} MFLOP per real image (conv/matmul).\n",
        f"| training, batch {args.batch} | images/s (median) | rounds | vs PyTorch fp32 "
        "| vs kgan fp32 | GFLOP/s | of the fp32 peak |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, rates in train.items():
        median = statistics.median(rates)
        flops = median * FLOP_PER_IMAGE
        lines.append(
            f"| {name} | {median:.1f} | {', '.join(f'{r:.1f}' for r in rates)} | "
            f"{ratio(median, torch32)} | {median / kgan32:.2f}x | {flops / 1e9:.0f} | "
            f"{flops / peak32:.0%} |"
        )
    torch_gen = statistics.median(generate["PyTorch eager, float32"]) if HAVE_TORCH else None
    lines += ["", "| generation, batch 256 | images/s (median) | rounds | vs PyTorch fp32 |"]
    lines.append("|---|---|---|---|")
    for name, rates in generate.items():
        median = statistics.median(rates)
        lines.append(
            f"| {name} | {median:.0f} | {', '.join(f'{r:.0f}' for r in rates)} | "
            f"{ratio(median, torch_gen)} |"
        )
    publish(lines)


def ratio(value, reference) -> str:
    return "-" if reference is None else f"{value / reference:.2f}x"


def _version(package):
    from importlib.metadata import version

    return version(package)


if __name__ == "__main__":
    main()
