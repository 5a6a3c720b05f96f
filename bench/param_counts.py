"""Parameter counts of the presets against the reference implementations (issue #24).

Each preset's networks are built at the reference's setting (RGB, unconditional, the
preset's size) and their trainable weights counted; the reference's count is computed
from the reference code's layer shapes, transcribed below with where they come from.
Appends the table to bench/RESULTS.md.

    .venv/bin/python bench/param_counts.py
"""

import time

import numpy as np
from results import machine
from results import publish

from keras_gan import models  # noqa: F401  (registers the models)
from keras_gan import presets
from keras_gan.registry import MODELS


def count(network) -> int:
    return int(sum(np.prod(w.shape) for w in network.trainable_weights))


def pytorch_dcgan(widths, latent=100, channels=3):
    """PyTorch's examples/dcgan/main.py, its layer list cut to `widths` (512, 256, 128 at
    32 px): every convolution without bias, BatchNorm (2 per channel) after every
    layer but G's last and D's first; G starts with a 4x4 transposed convolution of z,
    D ends with a 4x4 convolution to one logit."""
    g = latent * widths[0] * 16 + 2 * widths[0]
    for a, b in zip(widths, widths[1:]):
        g += a * b * 16 + 2 * b
    g += widths[-1] * channels * 16
    d_widths = widths[::-1]
    d = channels * d_widths[0] * 16
    for a, b in zip(d_widths, d_widths[1:]):
        d += a * b * 16 + 2 * b
    d += d_widths[-1] * 16
    return g, d


def stylegan2_ada(resolution, channels=3, z=512, w=512, mapping=8, base=32768, most=512,
                  d_skips=True):  # fmt: skip
    """NVlabs/stylegan2-ada-pytorch training/networks.py, unconditional: mapping
    (FullyConnectedLayer: weight + bias), synthesis blocks 4..res (const; SynthesisLayer:
    affine w->in with bias, weight out*in*3*3, noise strength, bias; ToRGBLayer: affine,
    weight, bias), D blocks res..8 (fromrgb on the first; conv0, conv1 with bias; a 1x1
    skip without bias when resnet) and the epilogue (conv over channels + 1 minibatch-std
    channel, fc from 4x4, out). Channels at a resolution: min(base / res, most)."""
    sizes = [2**k for k in range(2, int(np.log2(resolution)) + 1)]
    ch = {r: min(base // r, most) for r in sizes}
    g = z * w + w + (mapping - 1) * (w * w + w)

    def layer(i, o):
        return w * i + i + o * i * 9 + 1 + o

    def to_rgb(i):
        return w * i + i + channels * i + channels

    g += ch[4] * 16 + layer(ch[4], ch[4]) + to_rgb(ch[4])
    for r in sizes[1:]:
        g += layer(ch[r // 2], ch[r]) + layer(ch[r], ch[r]) + to_rgb(ch[r])
    d = channels * ch[resolution] + ch[resolution]
    for r in reversed(sizes[1:]):
        tmp, out = ch[r], ch[r // 2]
        d += tmp * tmp * 9 + tmp + out * tmp * 9 + out + (out * tmp if d_skips else 0)
    c = ch[4]
    d += (c + 1) * c * 9 + c + c * 16 * c + c + c + 1
    return g, d


def sngan_projection(classes=0, ch_g=256, ch_d=128, z=128, channels=3):
    """pfnet-research/sngan_projection, gen_models/resnet_32.py and
    dis_models/snresnet_32.py: G a linear layer to 4x4, three upsampling residual
    blocks (two 3x3 convolutions with bias, a 1x1 shortcut, two batch norms: 2 per
    channel, or per class and channel when conditional), a batch norm, a 3x3
    convolution to RGB; D an optimised first block, one downsampling and two plain
    residual blocks (a 1x1 shortcut only where the shape changes), a linear logit and,
    conditional, a class embedding for the projection. Spectral norm's u vectors are
    buffers, not counted."""
    conv = lambda i, o, k=3: i * o * k * k + o  # noqa: E731
    norm = 2 * ch_g * (classes or 1)
    g = z * 16 * ch_g + 16 * ch_g
    g += 3 * (2 * norm + 2 * conv(ch_g, ch_g) + conv(ch_g, ch_g, 1))
    g += 2 * ch_g + conv(ch_g, channels)
    d = conv(channels, ch_d) + conv(ch_d, ch_d) + conv(channels, ch_d, 1)
    d += 2 * conv(ch_d, ch_d) + conv(ch_d, ch_d, 1)
    d += 2 * 2 * conv(ch_d, ch_d)
    d += ch_d + 1 + classes * ch_d
    return g, d


# preset -> (reference, its (G, D) count, why the counts may differ)
REFERENCES = {
    "dcgan-32": ("PyTorch examples/dcgan at 32 px", pytorch_dcgan([512, 256, 128]), ""),
    "sngan-32": ("sngan_projection's ResNet, CIFAR", sngan_projection(), ""),
    "cgan-pd-32": ("sngan_projection's ResNet, 10 classes", sngan_projection(classes=10), ""),
    "wgan-gp-32": ("", None, "DCGAN networks (with layer norm in D), not the paper's ResNet"),
    "stylegan2-32": ("StyleGAN2-ADA --cfg=stylegan2, 32 px", stylegan2_ada(32), ""),
    "stylegan2-64": ("StyleGAN2-ADA --cfg=stylegan2, 64 px", stylegan2_ada(64), ""),
    "stylegan2-lite-32": (
        "StyleGAN2-ADA --cfg=cifar, 32 px",
        stylegan2_ada(32, mapping=2, d_skips=False),
        "narrower on purpose (128 channels for CPUs, the reference 512; z/w 128, "
        "the reference 512); resnet D where cifar's is 'orig'",
    ),
}


def main():
    rows = []
    for name, preset in presets.PRESETS.items():
        config = preset.config
        model_name = config.get("model", "glyph_style_gan")
        size = config.get("data", {}).get("image_size", 64)
        kwargs = {**config.get("model_kwargs", {}), "image_size": size, "channels": 3}
        model = MODELS.get(model_name)(**kwargs)
        ours = count(model.generator), count(model.discriminator)
        reference, theirs, why = REFERENCES.get(name, ("", None, ""))
        rows.append((name, model_name, size, ours, reference, theirs, why))
        print(name, ours, theirs, flush=True)
    lines = [
        f"\n## Parameter counts of the presets (bench/param_counts.py, "
        f"{time.strftime('%Y-%m-%d')})\n",
        f"{machine()}. Trainable weights of G and D built at the preset's size with 3 "
        "channels (conditional models with their default classes); the reference's count from its "
        "code's layer shapes (bench/param_counts.py says which file).\n",
        "| preset | model | px | G | D | reference | reference G | reference D | note |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, model_name, size, ours, reference, theirs, why in rows:
        if theirs is None:
            ref = f"| - | - | - | {why or 'no reference implementation at this size'} |"
        else:
            same = "equal" if tuple(theirs) == ours else why or "differs"
            ref = f"| {reference} | {theirs[0]:,} | {theirs[1]:,} | {same} |"
        lines.append(f"| `{name}` | {model_name} | {size} | {ours[0]:,} | {ours[1]:,} {ref}")
    publish(lines)


if __name__ == "__main__":
    main()
