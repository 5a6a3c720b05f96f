"""Where a font2font training step's time goes: G and D forward and backward, and every
convolution of both alone, forward and under a gradient tape (to its input and
weights), as the font bases train them (filters 32 up to 256, 64 px, batch 16). Each
figure: milliseconds per call of a `tf.function`, mean of `--calls` after 2 warm-ups.
Run it with the machine otherwise idle (pause other jobs: `kill -STOP PID`).

    .venv/bin/python bench/font2font_layers.py [--styles 110] [--calls 10]
"""

import argparse
import time

import keras
import tensorflow as tf
from results import machine
from results import publish

from keras_gan.models import unet

BATCH, SIZE = 16, 64


def per_call_ms(fn, calls: int) -> float:
    fn = tf.function(fn)
    for _ in range(2):
        fn()
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - start) / calls * 1000


def with_gradients(layer_or_model, inputs, loss):
    """A call that runs `layer_or_model` on `inputs` and takes the gradients of `loss` to
    the inputs and the weights (so neither pass is pruned away)."""

    def call():
        with tf.GradientTape() as tape:
            tape.watch(inputs)
            value = loss(layer_or_model(inputs, training=True))
        return tape.gradient(value, [*tf.nest.flatten(inputs), *layer_or_model.trainable_weights])

    return call


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--styles", type=int, default=110)
    parser.add_argument("--calls", type=int, default=10)
    args = parser.parse_args()
    generator = unet.unet_generator(SIZE, 1, 32, 256, args.styles, 64)
    discriminator = unet.patch_discriminator(SIZE, 1, 32, 256, aux_classes=args.styles)
    images = tf.random.uniform((BATCH, SIZE, SIZE, 1), -1, 1)
    labels = tf.zeros((BATCH,), tf.int32)

    def l1(drawn):
        return tf.reduce_mean(tf.abs(drawn - images))

    def patch_mean(outputs):
        return tf.reduce_mean(tf.abs(outputs[0]))

    def row(name, forward, both):
        times = per_call_ms(forward, args.calls), per_call_ms(both, args.calls)
        return f"| {name} | {times[0]:.1f} | {times[1]:.1f} |"

    lines = [
        f"\n## font2font's layers, forward and backward (bench/font2font_layers.py, {args.styles} "
        "styles, batch 16)\n",
        f"Machine: {machine()}. Milliseconds per call, mean of {args.calls} after 2 warm-ups.\n",
        "| network or layer | forward ms | forward + backward ms |",
        "|---|---|---|",
        row(
            "G",
            lambda: generator([images, labels], training=True),
            with_gradients(generator, [images, labels], l1),
        ),
        row(
            "D",
            lambda: discriminator([images, images], training=True),
            with_gradients(discriminator, [images, images], patch_mean),
        ),
    ]
    print("\n".join(lines), flush=True)
    networks = [layer for layer in generator.layers if isinstance(layer, keras.Model)]
    for network in [*networks, discriminator]:
        for layer in network.layers:
            if not isinstance(layer, keras.layers.Conv2D | keras.layers.Conv2DTranspose):
                continue
            inputs = tf.random.uniform((BATCH, *layer.input.shape[1:]))
            upstream = tf.random.uniform((BATCH, *layer.output.shape[1:]))
            shapes = " -> ".join(
                "x".join(map(str, t.shape[1:])) for t in (layer.input, layer.output)
            )
            lines.append(
                row(
                    f"{network.name} {type(layer).__name__} {shapes} (stride {layer.strides[0]})",
                    lambda: layer(inputs),  # noqa: B023
                    with_gradients(layer, inputs, lambda y: tf.reduce_sum(tf.abs(y) * upstream)),  # noqa: B023
                )
            )
            print(lines[-1], flush=True)
    publish(lines)


if __name__ == "__main__":
    main()
