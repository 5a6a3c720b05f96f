"""Every zoo model on the same glyph set with the same CPU budget, scored the same way.

Each model trains on glyphs:default (120 hanzi + A-Z a-z from the fonts found, 32 px)
for `--seconds` of wall time (with `--cpu`: of the process's CPU time, all threads,
fair when another job shares the machine; steps counted, batch 64), with its own defaults (loss,
optimizer, n_critic) at a CPU-sized width, then is scored with the glyph classifier
(FID, KID and, for conditional models, CAS: the classifier's accuracy on generated
glyphs against the label asked for) on 1,000 samples. Models run one after another
in one process, so they share the machine's conditions. Appends to bench/RESULTS.md.

    .venv/bin/python bench/zoo_quality.py [--seconds 150] [--cpu] [--models dcgan,sngan]

Learning rates given in the train settings (the lite StyleGAN2's) are set after the
model compiles, as `kgan fit` does.
"""

import argparse
import time
from pathlib import Path

import keras
from results import machine
from results import publish

from keras_gan import runs
from keras_gan.config import RunConfig
from keras_gan.config import TrainConfig
from keras_gan.data import load_dataset
from keras_gan.data.pipeline import make_dataset
from keras_gan.metrics.evaluate import evaluate
from keras_gan.metrics.extractors import GlyphClassifier
from keras_gan.models.stylegan2 import LITE
from keras_gan.presets import LITE_TRAIN as LITE_RATES
from keras_gan.sampling import ModelSampler

ROOT = Path(__file__).parents[1]
# CPU-sized widths; everything else is the model's default (the paper's settings).
SMALL = {"filters": 32, "latent_dim": 64}
# name -> (model, model kwargs, train settings)
MODELS = {
    "glyph_gan": ("glyph_gan", {}, {}),
    "dcgan": ("dcgan", SMALL, {}),
    "lsgan": ("lsgan", SMALL, {}),
    "wgan_gp": ("wgan_gp", SMALL, {}),
    "sngan": ("sngan", SMALL, {}),
    "cdcgan": ("cdcgan", SMALL, {}),
    "cgan_pd": ("cgan_pd", SMALL, {}),
    "acgan": ("acgan", SMALL, {}),
    "stylegan2": ("stylegan2", SMALL, {}),
    "stylegan2-lite": ("stylegan2", {**SMALL, **LITE, "mapping_layers": 2}, LITE_RATES),
    "stylegan2-lite+ada:glyphs": (
        "stylegan2",
        {**SMALL, **LITE, "mapping_layers": 2},
        {**LITE_RATES, "regularization": {"augment": "ada:glyphs", "ada_target": 0.6}},
    ),
    "dcgan+relativistic": ("dcgan", SMALL, {"loss": "relativistic"}),
    "dcgan+relativistic_average": ("dcgan", SMALL, {"loss": "relativistic_average"}),
    "dcgan+ada:glyphs": (
        "dcgan",
        SMALL,
        {"regularization": {"augment": "ada:glyphs", "ada_target": 0.6}},
    ),
}


class TimeBudget(keras.callbacks.Callback):
    """Stops training after `seconds` of `clock` (wall time; `time.process_time`: the
    process's CPU time, all threads, fair when another job shares the machine)."""

    def __init__(self, seconds, clock=time.perf_counter):
        super().__init__()
        self.seconds, self.clock, self.steps = seconds, clock, 0

    def on_train_begin(self, logs=None):
        self.start = self.clock()

    def on_train_batch_end(self, batch, logs=None):
        self.steps += 1
        if self.clock() - self.start > self.seconds:
            self.model.stop_training = True


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=150.0)
    parser.add_argument(
        "--cpu", action="store_true", help="budget the process's CPU time, not wall time"
    )
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--num-samples", type=int, default=1000)
    args = parser.parse_args()
    extractor = GlyphClassifier.load(ROOT / "saved_models" / "glyph_classifier")
    data = load_dataset("glyphs:default", 32, 1)
    rows = []
    for name in args.models.split(","):
        model_name, kwargs, train = MODELS[name]
        config = RunConfig(model=model_name, model_kwargs=kwargs, train=TrainConfig(**train))
        model, _ = runs.build_for_data(config, data)
        dataset = make_dataset(
            data, 64, (model.noise_draws, model.latent_dim), 0, 0, model.conditional
        )
        budget = TimeBudget(
            args.seconds, clock=time.process_time if args.cpu else time.perf_counter
        )
        model.fit(
            dataset, epochs=1, steps_per_epoch=10**6, verbose=0, shuffle=False, callbacks=[budget]
        )
        sampler = ModelSampler(model, data.label_names, name)
        metrics = ("fid", "kid", "cas") if model.conditional else ("fid", "kid")
        result = evaluate(sampler, data, extractor, metrics, args.num_samples, log=lambda x: None)
        scores = result["scores"]
        rows.append((name, budget.steps, model.regularization.n_critic, scores))
        print(name, budget.steps, scores, flush=True)
    lines = [
        f"\n## Zoo on one glyph set, {args.seconds:.0f} {'CPU-' if args.cpu else ''}s of "
        "training each "
        f"(bench/zoo_quality.py, {time.strftime('%Y-%m-%d')})\n",
        f"{machine()}, glyphs:default at 32 px ({len(data)} images, "
        f"{data.num_classes} classes), batch 64, models' default losses/optimizers at "
        "CPU-sized widths (filters 32, z 64; glyph_gan as shipped; a +X after the name "
        "is the loss or augmentation changed), scored on "
        f"{args.num_samples} samples with the glyph classifier "
        "(real vs real: FID 1.13, accuracy 0.80).\n",
        "| model | G steps in budget | D steps per G step | FID | KID | CAS |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for name, steps, n_critic, scores in rows:
        cas = f"{scores['cas']:.3f}" if "cas" in scores else "-"
        lines.append(
            f"| {name} | {steps} | {n_critic} | {scores['fid']:.1f} | {scores['kid']:.3f} | {cas} |"
        )
    publish(lines)


if __name__ == "__main__":
    main()
