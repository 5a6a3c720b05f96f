"""How near the matmul peak can a DCGAN-32 training step get with TensorFlow's kernels?

bench/train_throughput.py measures kgan's DCGAN-32 step at 62-64% of the float32 matmul
peak (issue #23 asks for 72%). This bench asks what the convolutions alone allow: every
convolution and matmul of one step (the reference step's work, as train_throughput's
FLOP count has it: G forward once; D forward on real and fake, D's weight and input
gradients; D forward on the fake again and input gradients down to G; G's weight and
input gradients) run as TensorFlow's own kernels (oneDNN) on tensors of the step's
shapes, with nothing else: no batch norm, activations, losses or optimizer updates.

- per kernel: each (layer, pass) alone in its own `tf.function`, median of `--repeats`
  calls, its GFLOP/s and share of the peak;
- together: all of a step's kernels, each as often as a step runs it, in one
  `tf.function` (TensorFlow may overlap independent ones, as in a real step; the
  tensors are variables, read anew by each run, or the graph would merge a kernel's
  repeats into one run);
- the real step: kgan's `kgan fit`-path step (train_throughput's child), same process
  layout.

Each measurement is a fresh process, variants alternate over `--rounds`, medians are
reported, and the matmul peak is measured in every round. Appends to bench/RESULTS.md.

    .venv/bin/python bench/conv_ceiling.py [--rounds 3] [--batch 64]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

from train_throughput import FLOP_PER_IMAGE
from train_throughput import bf16_units
from train_throughput import run_child

# (name, input side, input channels, output channels, transposed): DCGAN-32's 4x4 stride-2
# convolutions (PyTorch examples/dcgan at 32 px: ngf = ndf = 128 after the first).
CONVS = [
    ("G 4->8, 512->256", 4, 512, 256, True),
    ("G 8->16, 256->128", 8, 256, 128, True),
    ("G 16->32, 128->3", 16, 128, 3, True),
    ("D 32->16, 3->128", 32, 3, 128, False),
    ("D 16->8, 128->256", 16, 128, 256, False),
    ("D 8->4, 256->512", 8, 256, 512, False),
]
# (name, inputs, outputs): G's projection of z, D's logit.
DENSES = [("G z->4x4x512", 100, 4 * 4 * 512), ("D 4x4x512->1", 4 * 4 * 512, 1)]


def passes(name: str) -> dict[str, int]:
    """How often one step runs each pass of a layer (train_throughput's accounting):
    D's layers run forward 3x (real, fake; fake again for G), weight gradients 2x,
    input gradients 3x (none into the real images at D's first layer: 1x there); G's
    layers once each way, with no input gradient into z."""
    if name.startswith("D"):
        first = name.startswith("D 32->16")
        return {"forward": 3, "weights": 2, "inputs": 1 if first else 3}
    return {"forward": 1, "weights": 1, "inputs": 0 if name.startswith("G z") else 1}


def work(batch: int) -> list[tuple[str, str, int]]:
    """(layer, pass, FLOPs of one run) of every kernel one step runs, in layer order."""
    found = []
    for name, side, cin, cout, transposed in CONVS:
        out_side = side * 2 if transposed else side // 2
        flops = 2 * batch * min(side, out_side) ** 2 * 16 * cin * cout
        found += [(name, way, flops) for way in ("forward", "weights", "inputs")]
    for name, n_in, n_out in DENSES:
        found += [(name, way, 2 * batch * n_in * n_out) for way in ("forward", "weights", "inputs")]
    return [(name, way, flops) for name, way, flops in found if passes(name)[way]]


def runners(batch: int) -> dict:
    """`layer|pass` -> a zero-argument function running that kernel once on tensors of
    the step's shapes."""
    import tensorflow as tf

    def normal(shape):
        return tf.Variable(tf.random.normal(shape))

    found = {}
    for name, side, cin, cout, transposed in CONVS:
        # A transposed conv from `small` to `big` is the gradient of a conv from big to
        # small: its forward pass is that conv's input gradient, and so on.
        big_side, big_c, small_c = (side * 2, cout, cin) if transposed else (side, cin, cout)
        big = normal((batch, big_side, big_side, big_c))
        small = normal((batch, big_side // 2, big_side // 2, small_c))
        kernel = normal((4, 4, big_c, small_c))
        stride = [1, 2, 2, 1]

        def conv(big=big, kernel=kernel):
            return tf.nn.conv2d(big, kernel, 2, "SAME")

        def to_big(big=big, small=small, kernel=kernel):
            return tf.raw_ops.Conv2DBackpropInput(
                input_sizes=tf.shape(big),
                filter=kernel,
                out_backprop=small,
                strides=stride,
                padding="SAME",
            )

        def weights(big=big, small=small, kernel=kernel):
            return tf.raw_ops.Conv2DBackpropFilter(
                input=big,
                filter_sizes=tf.shape(kernel),
                out_backprop=small,
                strides=stride,
                padding="SAME",
            )

        found[f"{name}|forward"] = to_big if transposed else conv
        found[f"{name}|weights"] = weights
        found[f"{name}|inputs"] = conv if transposed else to_big
    for name, n_in, n_out in DENSES:
        x, w, dy = (normal(s) for s in ((batch, n_in), (n_in, n_out), (batch, n_out)))
        found[f"{name}|forward"] = lambda x=x, w=w: tf.linalg.matmul(x, w)
        found[f"{name}|weights"] = lambda x=x, dy=dy: tf.linalg.matmul(x, dy, transpose_a=True)
        found[f"{name}|inputs"] = lambda dy=dy, w=w: tf.linalg.matmul(dy, w, transpose_b=True)
    return found


def median_seconds(run, repeats: int) -> float:
    for _ in range(3):
        run().numpy()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run().numpy()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def child_kernels(args) -> dict:
    """Each kernel alone, then a step's kernels in one tf.function."""
    import tensorflow as tf

    run = runners(args.batch)
    kernels = [(f"{name}|{way}", passes(name)[way]) for name, way, _ in work(args.batch)]
    alone = {key: median_seconds(tf.function(run[key]), args.repeats) for key, _ in kernels}

    @tf.function
    def step():
        total = tf.constant(0.0)
        for key, times in kernels:
            for _ in range(times):
                total += tf.reduce_sum(run[key]()[:1])
        return total

    return {"alone": alone, "step": median_seconds(step, args.repeats)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--child", action="store_true")
    args = parser.parse_args()
    if args.child:
        import keras_gan  # noqa: F401  (kgan's TF settings: oneDNN on)

        print(json.dumps(child_kernels(args)))
        return

    from results import machine
    from results import publish

    peaks, alone, together, steps = [], {}, [], []
    for round_ in range(args.rounds):
        peaks.append(run_child("peak")["float32"])
        command = [sys.executable, __file__, "--child", "--batch", str(args.batch)]
        command += ["--repeats", str(args.repeats)]
        out = subprocess.run(command, capture_output=True, text=True, cwd=Path(__file__).parent)
        if out.returncode:
            raise RuntimeError(out.stderr[-3000:])
        result = json.loads(out.stdout.strip().splitlines()[-1])
        for key, seconds in result["alone"].items():
            alone.setdefault(key, []).append(seconds)
        together.append(result["step"])
        real = run_child("kgan", data="synthetic:32x32x3", steps=30, batch=args.batch)
        steps.append(args.batch / real["images_per_sec"])
        print(
            f"round {round_}: peak {peaks[-1] / 1e9:.0f}, kernels together "
            f"{together[-1] * 1e3:.1f} ms, kgan step {steps[-1] * 1e3:.1f} ms",
            flush=True,
        )
    peak = statistics.median(peaks)
    step_flops = FLOP_PER_IMAGE * args.batch
    lines = [
        f"\n## What TensorFlow's kernels allow a DCGAN-32 step ({time.strftime('%Y-%m-%d')}, "
        "bench/conv_ceiling.py)\n",
        f"Machine: {machine()}; bf16 units: {bf16_units()}. Command: `.venv/bin/python "
        f"bench/conv_ceiling.py --rounds {args.rounds} --batch {args.batch}`: medians over "
        f"rounds of fresh processes; float32 matmul peak (4096^2, TF) {peak / 1e9:.0f} GFLOP/s. "
        "Each kernel alone in its own tf.function, on tensors of the step's shapes; 'x' is "
        "how often one step runs it.\n",
        "| layer | pass | x | ms (median) | GFLOP/s | of the peak | ms in a step |",
        "|---|---|---|---|---|---|---|",
    ]
    total = 0.0
    for name, way, flops in work(args.batch):
        seconds = statistics.median(alone[f"{name}|{way}"])
        times = passes(name)[way]
        total += times * seconds
        lines.append(
            f"| {name} | {way} | {times} | {seconds * 1e3:.2f} | {flops / seconds / 1e9:.0f} "
            f"| {flops / seconds / peak:.0%} | {times * seconds * 1e3:.2f} |"
        )
    rows = [
        ("the kernels, each alone, summed", total),
        ("the kernels together in one tf.function", statistics.median(together)),
        (
            "kgan's whole step (kgan fit's path: BN, activations, losses, Adam, EMA)",
            statistics.median(steps),
        ),
    ]
    lines += [
        "",
        f"| one step, batch {args.batch} | ms | images/s | of the fp32 peak |",
        "|---|---|---|---|",
    ]
    for label, seconds in rows:
        lines.append(
            f"| {label} | {seconds * 1e3:.1f} | {args.batch / seconds:.0f} "
            f"| {step_flops / seconds / peak:.0%} |"
        )
    publish(lines)


if __name__ == "__main__":
    main()
