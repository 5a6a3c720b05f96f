import csv
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import unittest.mock

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from keras_gan import checkpoints
from keras_gan import runs
from keras_gan import training
from keras_gan.config import ConfigError
from keras_gan.config import RunConfig
from keras_gan.data import load_dataset
from keras_gan.data.pipeline import make_dataset
from keras_gan.images import from_uint8
from keras_gan.images import to_uint8
from keras_gan.noise import noise_for_seeds
from tests.tiny import TINY as TINY_BASE

TINY = TINY_BASE + [
    "model=cdcgan",
    "data.spec=synthetic:16x16x1?n=40&classes=3",
    "model_kwargs.embedding_dim=4",
    "train.sample_seeds=2",
]


def tiny(tmp_path, *extra):
    return RunConfig(runs_root=str(tmp_path / "runs")).override(TINY + list(extra))


def all_weights(model):
    return [
        v.numpy()
        for v in model.variables + model.d_optimizer.variables + model.g_optimizer.variables
    ]


def test_run_directory_contents(tmp_path):
    model, run_dir = training.fit(tiny(tmp_path, "train.steps=4"), log=lambda line: None)
    assert run_dir.name == "00000-cdcgan"
    config = json.loads((run_dir / "config.json").read_text())
    assert config["model_kwargs"] == {
        "latent_dim": 8,
        "filters": 4,
        "embedding_dim": 4,
        "image_size": 16,
        "channels": 1,
        "num_classes": 3,
        "seed": 0,
    }
    with open(run_dir / "log.csv") as f:
        rows = list(csv.DictReader(f))
    assert [int(r["step"]) for r in rows] == [2, 4]
    assert set(rows[0]) == {
        "step",
        "loss",
        "d_loss",
        "g_loss",
        "d_overfit",
        "images_per_sec",
        "sample_diversity",
    }
    assert all(float(r["sample_diversity"]) > 0 for r in rows)  # sample_every=2
    assert all(-1 <= float(r["d_overfit"]) <= 1 for r in rows)
    grid = Image.open(run_dir / "samples" / "step_000004.png")
    assert "generated" in grid.text["Description"].lower()
    assert sorted(p.name for p in (run_dir / "checkpoints").glob("*.index")) == [
        "ckpt-0.index",  # the start: what a divergence before step 2 rolls back to
        "ckpt-2.index",
        "ckpt-4.index",
    ]
    manifest = json.loads((run_dir / "checkpoints" / "manifest.json").read_text())
    assert sorted(manifest) == ["ckpt-0", "ckpt-2", "ckpt-4"]
    assert sorted(manifest["ckpt-4"]["files"]) == [
        "ckpt-4.data-00000-of-00001",
        "ckpt-4.index",
    ]
    assert list((run_dir / "tensorboard").glob("events.out.tfevents.*"))
    assert (run_dir / "model.keras").is_file()
    assert runs.next_run_dir(tmp_path / "runs", "x").name == "00001-x"


def test_resume_equals_uninterrupted_training(tmp_path):
    straight, _ = training.fit(tiny(tmp_path / "a", "train.steps=6"), log=lambda line: None)
    _, run_dir = training.fit(tiny(tmp_path / "b", "train.steps=3"), log=lambda line: None)
    resumed, same_dir = training.fit(
        tiny(tmp_path / "b", "train.steps=6"), run_dir=run_dir, resume=True, log=lambda line: None
    )
    assert same_dir == run_dir
    assert int(resumed.g_optimizer.iterations) == 6
    for a, b in zip(all_weights(straight), all_weights(resumed)):
        np.testing.assert_array_equal(a, b)
    with open(run_dir / "log.csv") as f:
        assert [int(r["step"]) for r in csv.DictReader(f)] == [2, 3, 4, 6]


def test_data_order_is_a_function_of_the_step():
    data = load_dataset("synthetic:16x16x1?n=10&classes=3", image_size=16)
    full = list(make_dataset(data, 4, (2, 8), seed=1).take(5))
    late = list(make_dataset(data, 4, (2, 8), seed=1, start_step=3).take(2))
    for a, b in zip(full[3:], late):
        for key in a:
            np.testing.assert_array_equal(a[key], b[key])
    # Every epoch is a permutation: 10 images, batches of 4 -> steps 0..4 cover 2 epochs.
    seen = np.concatenate([b["labels"].numpy() for b in full])
    assert sorted(seen[:10]) == sorted(data.labels) and sorted(seen[10:20]) == sorted(data.labels)


def test_bad_model_kwargs_list_valid_ones(tmp_path):
    with pytest.raises(
        ConfigError, match="model 'cdcgan' has no argument 'width'; valid model_kwargs: num_classes"
    ):
        training.fit(tiny(tmp_path, "model_kwargs.width=3"), log=lambda line: None)
    with pytest.raises(ConfigError, match="model_kwargs.image_size=32 conflicts with the data"):
        training.fit(tiny(tmp_path, "model_kwargs.image_size=32"), log=lambda line: None)
    with pytest.raises(ConfigError, match="is conditional but the data has no labels"):
        training.fit(tiny(tmp_path, "data.spec=synthetic:16x16x1"), log=lambda line: None)
    assert not (tmp_path / "runs").exists()  # nothing written for a bad config


def test_resume_without_a_run_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigError, match="no run directory with a config.json"):
        training.fit(tiny(tmp_path), resume=True, log=lambda line: None)


def test_a_damaged_run_directory_is_a_clear_error(tmp_path):
    _, run_dir = training.fit(tiny(tmp_path), log=lambda line: None)
    (run_dir / "dataset.json").write_text("{trunc")
    with pytest.raises(ConfigError, match="is damaged: Expecting property name"):
        runs.load_run(run_dir)
    (run_dir / "dataset.json").unlink()
    with pytest.raises(ConfigError, match="is damaged: .*dataset.json"):
        runs.load_run(run_dir)


def test_a_run_directory_is_never_overwritten(tmp_path):
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "config.json").write_text("{}")
    with pytest.raises(ConfigError, match="already holds a run; continue it with --resume"):
        training.fit(tiny(tmp_path), run_dir=tmp_path / "run", log=lambda line: None)
    assert (tmp_path / "run" / "config.json").read_text() == "{}"


def fit_command(run_dir, *extra):
    # --set outranks --steps, so the tiny config's step count stays out.
    kept = [a for a in TINY if not a.startswith("train.steps=")]
    sets = [arg for assignment in kept for arg in ("--set", assignment)]
    return [
        sys.executable,
        "-m",
        "keras_gan_cli.main",
        "fit",
        "--run-dir",
        str(run_dir),
        *sets,
        *extra,
    ]


def start_and_wait_for_step(command, cwd, step=None):
    """Starts `kgan fit` and returns once it logs `step` (or any step, if None)."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True, env=env, cwd=cwd)
    for line in process.stderr:
        if line.startswith(f"step {step}/" if step else "step "):
            return process
    raise AssertionError(f"training ended before step {step}: exit {process.wait()}")


def resume(run_dir, cwd, steps):
    command = fit_command(run_dir, "--resume", "--steps", str(steps))
    return subprocess.run(command, capture_output=True, text=True, cwd=cwd, timeout=300)


def kill_during_checkpoint_write(process, folder, deadline=60.0) -> list[str]:
    """SIGKILLs `process` as soon as a TF checkpoint write starts in `folder` (its
    `*_temp` folder appears); returns the temporary files the kill left behind."""
    start = time.monotonic()
    while time.monotonic() - start < deadline and process.poll() is None:
        if any("_temp" in name for name in os.listdir(folder)):
            break
    process.kill()  # at once when the write started; at the deadline otherwise
    process.wait(timeout=60)
    return [name for name in os.listdir(folder) if "_temp" in name]


def checkpoint_tensors(path):
    reader = tf.train.load_checkpoint(str(path))
    names = [
        name
        for name in reader.get_variable_to_shape_map()
        if not name.startswith(("save_counter", "_CHECKPOINTABLE_OBJECT_GRAPH"))
    ]
    return {name: reader.get_tensor(name) for name in names}


def test_signals_and_kills_at_any_moment_resume_to_identical_weights(tmp_path):
    deterministic = ("--set", "train.deterministic=true")
    straight = subprocess.run(
        fit_command(tmp_path / "straight", "--steps", "30", *deterministic),
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
    )
    assert straight.returncode == 0, straight.stderr
    run_dir = tmp_path / "run"
    # SIGTERM: checkpoint at the end of the step, exit 143, say how to continue.
    command = fit_command(run_dir, "--steps", "100000", *deterministic)
    process = start_and_wait_for_step(command, tmp_path, 4)
    process.send_signal(signal.SIGTERM)
    message = process.stderr.read()
    assert process.wait(timeout=120) == 128 + signal.SIGTERM
    stopped_at = int(tf.train.latest_checkpoint(str(run_dir / "checkpoints")).rsplit("-", 1)[1])
    assert stopped_at >= 4 and f"continue with: kgan fit --resume --run-dir {run_dir}" in message
    # SIGKILL while TF writes a checkpoint (every 2 steps): killed the moment its
    # temporary folder appears, and shown to have landed mid-write by the folder left.
    for _ in range(2):
        process = start_and_wait_for_step(command + ["--resume"], tmp_path)
        assert kill_during_checkpoint_write(process, run_dir / "checkpoints")
    done = resume(run_dir, tmp_path, 30)
    assert done.returncode == 0, done.stderr
    assert re.search(rf"resumed {re.escape(str(run_dir))} from ckpt-\d+ \(step \d+\)", done.stderr)
    assert (run_dir / "model.keras").is_file()
    assert not list((run_dir / "checkpoints").glob("*_temp*"))
    with open(run_dir / "log.csv") as f:
        steps = [int(row["step"]) for row in csv.DictReader(f)]
    assert steps == sorted(set(steps)) and steps[-1] == 30
    expected = checkpoint_tensors(tmp_path / "straight" / "checkpoints" / "ckpt-30")
    got = checkpoint_tensors(run_dir / "checkpoints" / "ckpt-30")
    assert sorted(got) == sorted(expected) and len(got) > 20
    for name, value in expected.items():
        np.testing.assert_array_equal(got[name], value, err_msg=name)


def damage(run_dir, how):
    folder = run_dir / "checkpoints"
    if how == "flipped bit":
        data = folder / "ckpt-4.data-00000-of-00001"
        raw = bytearray(data.read_bytes())
        raw[len(raw) // 2] ^= 1
        data.write_bytes(bytes(raw))
        return "ckpt-4 is corrupt (ckpt-4.data-00000-of-00001 does not match its checksum)"
    if how == "truncated":
        index = folder / "ckpt-4.index"
        index.write_bytes(index.read_bytes()[:-9])
        return "ckpt-4 is corrupt (ckpt-4.index does not match its checksum)"
    if how == "missing file":
        (folder / "ckpt-4.index").unlink()
        return "ckpt-4 is missing ckpt-4.index"
    # Killed after TF wrote the checkpoint but before its manifest entry.
    manifest = json.loads((folder / "manifest.json").read_text())
    del manifest["ckpt-4"]
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return "ckpt-4 has no manifest entry (the run stopped while saving it)"


@pytest.fixture(scope="module")
def four_steps(tmp_path_factory):
    """(a run of 4 steps: checkpoints 0, 2, 4; the weights of an uninterrupted 6-step run)."""
    root = tmp_path_factory.mktemp("four_steps")
    _, run_dir = training.fit(tiny(root / "b", "train.steps=4"), log=lambda line: None)
    straight, _ = training.fit(tiny(root / "a", "train.steps=6"), log=lambda line: None)
    return run_dir, all_weights(straight)


@pytest.mark.parametrize("how", ["flipped bit", "truncated", "missing file", "unconfirmed"])
def test_a_damaged_checkpoint_is_skipped_for_the_one_before(four_steps, tmp_path, how):
    run_dir = tmp_path / "run"
    shutil.copytree(four_steps[0], run_dir)
    problem = damage(run_dir, how)
    lines = []
    found = checkpoints.latest_verified(run_dir / "checkpoints", lines.append)
    assert found == str(run_dir / "checkpoints" / "ckpt-2")
    assert lines == [f"checkpoint {run_dir / 'checkpoints' / problem}; trying the one before"]


def test_resume_past_a_damaged_checkpoint_equals_uninterrupted_training(four_steps, tmp_path):
    run_dir = tmp_path / "run"
    shutil.copytree(four_steps[0], run_dir)
    damage(run_dir, "flipped bit")
    lines = []
    loaded, _, _ = runs.load_run(run_dir, log=lines.append)
    assert int(loaded.g_optimizer.iterations) == 2 and "ckpt-4 is corrupt" in lines[0]
    resumed, _ = training.fit(
        tiny(tmp_path, "train.steps=6"), run_dir=run_dir, resume=True, log=lines.append
    )
    assert f"resumed {run_dir} from ckpt-2 (step 2)" in lines
    for a, b in zip(four_steps[1], all_weights(resumed)):
        np.testing.assert_array_equal(a, b)
    assert runs.load_run(run_dir, log=lines.append)[0].g_optimizer.iterations == 6


def test_divergence_stops_with_the_last_good_checkpoint_and_never_saves_nan(tmp_path):
    config = tiny(tmp_path, "train.steps=8", "train.g_learning_rate=1e30")
    with pytest.raises(training.TrainingDiverged) as error:
        training.fit(config, run_dir=tmp_path / "run", log=lambda line: None)
    message = str(error.value)
    assert re.match(
        r"training diverged at step (\d+) \((\w+ is nan|a weight is NaN/Inf)\); no checkpoint "
        r"of it was written; the last good one is .*ckpt-\d+; lower the learning rates",
        message,
    ), message
    saved = sorted((tmp_path / "run" / "checkpoints").glob("ckpt-*.index"))
    assert saved
    for index in saved:
        for name, value in checkpoint_tensors(index.with_suffix("")).items():
            assert np.isfinite(value).all(), (index.name, name)


def test_the_cli_exits_130_on_ctrl_c_and_1_on_divergence(tmp_path):
    """README: Ctrl-C during `fit` saves a checkpoint and exits 130; a failure exits 1."""
    run_dir = tmp_path / "interrupted"
    process = start_and_wait_for_step(fit_command(run_dir, "--steps", "100000"), tmp_path, 2)
    process.send_signal(signal.SIGINT)
    message = process.stderr.read()
    assert process.wait(timeout=120) == 130
    assert tf.train.latest_checkpoint(str(run_dir / "checkpoints")) is not None
    assert f"continue with: kgan fit --resume --run-dir {run_dir}" in message
    diverged = subprocess.run(
        fit_command(tmp_path / "diverged", "--steps", "8", "--set", "train.g_learning_rate=1e30"),
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
    )
    assert diverged.returncode == 1
    assert re.search(r"Error: training diverged at step \d+ ", diverged.stderr), diverged.stderr


def test_divergence_rolls_back_and_retries_with_cut_learning_rates(tmp_path):
    lines = []
    config = tiny(
        tmp_path,
        "train.steps=6",
        "train.g_learning_rate=1e30",
        "train.d_learning_rate=1e30",
        "train.nan_retries=2",
        "train.nan_lr_factor=1e-33",
    )
    model, run_dir = training.fit(config, log=lines.append)
    rolled = [line for line in lines if "rolled back" in line]
    assert len(rolled) == 1, lines
    assert re.search(
        r"rolled back to step \d+, learning rates cut to D 0.001, G 0.001 \(1 retries left\)",
        rolled[0],
    )
    assert float(model.g_optimizer.learning_rate.numpy()) == pytest.approx(1e-3)
    assert all(np.isfinite(w).all() for w in all_weights(model))
    with open(run_dir / "log.csv") as f:
        assert [int(r["step"]) for r in csv.DictReader(f)] == [2, 4, 6]
    # The cut learning rates are in the checkpoints: a resumed run keeps them.
    resumed, _ = training.fit(
        tiny(tmp_path, "train.steps=8"), run_dir=run_dir, resume=True, log=lambda line: None
    )
    assert float(resumed.d_optimizer.learning_rate.numpy()) == pytest.approx(1e-3)


@pytest.mark.parametrize("left", [b"", b"\x00" * 40], ids=["empty", "zeros"])
def test_a_log_csv_a_power_cut_emptied_starts_again_on_resume(tmp_path, left):
    """Unsynced appends come back as nothing or as zeros after a power cut."""
    _, run_dir = training.fit(tiny(tmp_path), log=lambda line: None)
    (run_dir / "log.csv").write_bytes(left)
    training.fit(tiny(tmp_path, "train.steps=4"), run_dir=run_dir, resume=True, log=print)
    with open(run_dir / "log.csv") as f:
        assert [int(r["step"]) for r in csv.DictReader(f)] == [4]


def test_a_nan_weight_is_caught_at_the_step_it_appears(tmp_path):
    """A weight that is NaN/Inf after a step makes that step's logged loss NaN (what
    TerminateOnNaN and StepGuard stop on), even when every loss term is finite."""
    from keras_gan.models.step import nan_unless_finite

    config = tiny(tmp_path)
    data = load_dataset(config.data.spec, config.data.image_size, config.data.channels)
    model, _ = runs.build_for_data(config, data)
    batch = next(iter(make_dataset(data, 8, (model.noise_draws, 8), 0)))
    assert np.isfinite(float(model.train_step(batch)["loss"]))
    weight = model.generator.trainable_weights[0]
    weight.assign(np.where(np.arange(weight.shape[-1]) == 0, np.inf, weight.numpy()))
    assert np.isnan(float(model.train_step(batch)["loss"]))
    assert float(nan_unless_finite(2.0, [np.ones(3)])) == 2.0
    assert np.isnan(float(nan_unless_finite(2.0, [np.ones(3), np.array([1.0, np.inf])])))


def test_sample_diversity_and_the_mode_collapse_warning(tmp_path):
    from keras_gan.callbacks import RunState
    from keras_gan.callbacks import samples as samples_lib

    config = tiny(tmp_path)
    model, run_dir = training.fit(config, log=lambda line: None)
    data = load_dataset(config.data.spec, config.data.image_size, config.data.channels)
    lines = []
    monitor = samples_lib.SampleGrid(RunState(None, 0, 2), run_dir, config, data, lines.append)
    monitor.set_model(model)
    rows = np.random.default_rng(0).permutation(len(data))[: samples_lib.DIVERSITY_SAMPLES]
    real = from_uint8(data.images[rows])
    with unittest.mock.patch.object(model, "generate", lambda z, labels, training: real):
        assert monitor.sample_diversity(2) == pytest.approx(1.0) and not lines  # as the data
    for weight in model.generator.weights:  # one image for every z
        weight.assign(np.zeros(weight.shape))
    assert monitor.sample_diversity(3) == 0.0
    assert re.match(
        r"warning: step 3: possible mode collapse: samples differ by 0.000 on average, "
        r"training images by \d+\.\d{3} \(sample_diversity 0.00 < 0.25\)",
        lines[0],
    ), lines
    images = np.array([[0.0, 0.0], [3.0, 4.0], [0.0, 4.0]])
    assert samples_lib.mean_pairwise_distance(images) == pytest.approx((5 + 4 + 3) / 3)


def zoo_config(root, *extra):
    return RunConfig(runs_root=str(root / "runs")).override(TINY_BASE + list(extra))


@pytest.mark.parametrize("policy", ["translation,cutout,color", "ada:bgcfnc"])
def test_resume_is_exact_with_penalties_critic_steps_ema_and_ada(tmp_path, policy):
    extra = [
        "model=wgan_gp",
        "data.spec=synthetic:16x16x1?n=40",
        "train.n_critic=2",
        "train.r1_gamma=0.5",
        "train.r1_interval=2",
        "train.ema_kimg=0.02",
        "model_kwargs.latent_dim=12",
        f"train.augment={policy}",
        "train.ada_target=0.6",
        "train.ada_kimg=0.1",
        "train.run_eagerly=true",  # exactness in graph mode: test_resume_equals_...
    ]
    quiet = lambda line: None  # noqa: E731
    straight, run_a = training.fit(zoo_config(tmp_path / "a", "train.steps=4", *extra), log=quiet)
    _, run_dir = training.fit(zoo_config(tmp_path / "b", "train.steps=2", *extra), log=quiet)
    resumed, _ = training.fit(
        zoo_config(tmp_path / "b", "train.steps=4", *extra), run_dir=run_dir, resume=True, log=quiet
    )
    assert straight.ema_generator is not None
    assert int(resumed.d_optimizer.iterations) == 8
    for a, b in zip(all_weights(straight), all_weights(resumed)):
        np.testing.assert_array_equal(a, b)
    with open(run_a / "log.csv") as f:
        row = next(csv.DictReader(f))
    assert {"gp", "r1", "augment_p"} <= set(row) and float(row["gp"]) > 0
    assert float(straight.augment_p.value) == float(resumed.augment_p.value) > 0


@pytest.mark.parametrize("name", ["acgan", "stylegan2"])  # the others: contract tests
def test_every_zoo_model_fits_exports_and_samples(tmp_path, name):
    from keras_gan import sampling
    from keras_gan.export import export_generator

    # stylegan2 is conditional when the data has labels: its conditional path is tested here.
    classes = "&classes=3" if name in ("cgan_pd", "acgan", "stylegan2") else ""
    config = zoo_config(
        tmp_path,
        f"model={name}",
        f"data.spec=synthetic:16x16x1?n=40{classes}",
        "train.n_critic=1",
        "train.ema_kimg=0.01",
        "train.run_eagerly=true",  # graph mode is the contract tests' job
    )
    model, run_dir = training.fit(config, log=lambda line: None)
    labels = [0, 2] if model.conditional else None
    target = export_generator(
        model, tmp_path / "saved_models" / name, labels=["a", "b", "c"] if labels else None
    )
    from_export = sampling.load_sampler(target).generate([5, 6], labels)
    from_run = sampling.load_sampler(run_dir).generate([5, 6], labels)
    np.testing.assert_array_equal(from_export, from_run)
    # Samples and exports come from the EMA generator.
    z = noise_for_seeds([5, 6], 8)
    ema = model.ema_generator([z, tf.constant(labels)] if labels else z, training=False)
    np.testing.assert_array_equal(from_export, to_uint8(ema).numpy())


def test_images_outside_the_model_range_are_a_clear_error():
    """The Python API: uint8 pixels or [0, 255] floats are refused, naming the range."""
    import tensorflow as tf

    from keras_gan.models.dcgan import DCGAN

    model = DCGAN(latent_dim=4, image_size=8, channels=1, filters=4)
    model.compile()
    pixels = np.random.default_rng(0).integers(0, 256, (8, 8, 8, 1), np.uint8)
    with pytest.raises(ValueError, match=r"training images are uint8; .* floats in \[-1, 1\]"):
        model.fit(pixels, batch_size=4, epochs=1, verbose=0)
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"must lie in \[-1, 1\]"):
        model.fit(pixels.astype("float32"), batch_size=4, epochs=1, verbose=0)
    history = model.fit(pixels / 127.5 - 1, batch_size=4, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][-1])
