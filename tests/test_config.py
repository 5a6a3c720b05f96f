import json
import re

import pytest

from keras_gan import presets
from keras_gan import runs
from keras_gan.config import ConfigError
from keras_gan.config import RunConfig
from keras_gan.config import load_config_file
from keras_gan.data import load_dataset
from keras_gan.registry import Registry


def test_defaults_are_the_default_job():
    config = RunConfig().validate()
    assert (config.model, config.data.spec, config.data.image_size) == (
        "glyph_style_gan",
        "glyphs:default",
        64,
    )


def test_a_run_without_steps_trains_on_the_default_images():
    data_size = 5092
    assert RunConfig().train.batch_size == 16
    assert runs.total_steps(RunConfig(), data_size) == 3000
    assert runs.total_steps(RunConfig().override(["train.batch_size=64"]), data_size) == 750
    assert runs.total_steps(RunConfig().override(["train.batch_size=36"]), data_size) == 1334
    assert runs.total_steps(RunConfig().override(["train.steps=7"]), data_size) == 7
    two_epochs = RunConfig().override(["train.steps=7", "train.epochs=2"])
    assert runs.total_steps(two_epochs, data_size) == 2 * data_size // 16 + 1
    with pytest.raises(ConfigError, match="train.steps must be a positive integer, got 0"):
        RunConfig().override(["train.steps=0"]).validate()


def test_override_parses_json_values_and_plain_strings():
    config = RunConfig().override(
        [
            "train.steps=10",
            "train.d_learning_rate=1e-3",
            "data.spec=glyphs:latin",
            "model_kwargs.latent_dim=16",
            "train.run_eagerly=true",
            "export_name=x",
        ]
    )
    assert config.train.steps == 10 and config.train.d_learning_rate == 1e-3
    assert config.data.spec == "glyphs:latin" and config.model_kwargs == {"latent_dim": 16}
    assert config.train.run_eagerly is True and config.export_name == "x"


def test_round_trip_through_json():
    config = RunConfig().override(["train.steps=7", "model_kwargs.filters=8"])
    assert RunConfig.from_dict(json.loads(json.dumps(config.to_dict()))) == config


@pytest.mark.parametrize(
    "assignment, message",
    [
        (
            "train.stpes=3",
            "unknown config key 'train.stpes'; valid keys: train.steps, train.epochs",
        ),
        ("modle=dcgan", "unknown config key 'modle'; valid keys: model, model_kwargs"),
        ("train.steps=many", "train.steps expects int | None, got 'many'"),
        ("train.steps", "--set expects KEY=VALUE"),
        ("train.batch_size=true", "train.batch_size expects int"),
        ("data=3", "data must be an object"),
    ],
)
def test_bad_overrides_say_what_is_wrong(assignment, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")):
        RunConfig().override([assignment])


@pytest.mark.parametrize(
    "assignment, message",
    [
        ("train.steps=0", "train.steps must be a positive integer, got 0"),
        (
            "train.sample_every=175",
            r"train.sample_every \(175\) must be a multiple of train.log_every",
        ),
        ("data.channels=2", "data.channels must be 1 or 3"),
        ("train.strategy=tpu", "train.strategy must be one of auto, one, mirrored"),
        ('train.init_styles={"mine": [0.5]}', r"train.init_styles needs train.init_from"),
    ],
)
def test_validate(assignment, message):
    with pytest.raises(ConfigError, match=message):
        RunConfig().override([assignment]).validate()


def test_init_styles_are_lists_of_numbers():
    warm = RunConfig().override(["train.init_from=base"])
    good = warm.override(['train.init_styles={"mine": [0.5, -1]}']).validate()
    assert good.train.init_styles == {"mine": [0.5, -1]}
    with pytest.raises(ConfigError, match=r"init_styles\['mine'\] must be a list of numbers"):
        warm.override(['train.init_styles={"mine": [0.5, "x"]}']).validate()


def test_model_kwargs_merge_instead_of_replacing():
    config = RunConfig().override(["model_kwargs.a=1"]).merge({"model_kwargs": {"b": 2}})
    assert config.model_kwargs == {"a": 1, "b": 2}


def test_config_file_errors(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_config_file(tmp_path / "nope.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ConfigError, match="is not valid JSON"):
        load_config_file(bad)


def test_presets_are_valid_configs():
    for name in presets.PRESETS:
        RunConfig().merge(presets.get(name)).validate()
    with pytest.raises(ConfigError, match="unknown preset 'x'; valid presets: glyphs-32"):
        presets.get("x")


def test_a_preset_trains_at_the_batch_its_reference_states():
    stated = 0
    for name, preset in presets.PRESETS.items():
        match = re.search(r"batch (\d+)", preset.reference)
        if match:
            stated += 1
            config = RunConfig().merge(presets.get(name)).validate()
            assert config.train.batch_size == int(match.group(1)), name
    assert stated >= 10


def test_a_preset_named_for_a_size_trains_at_that_size():
    sized = [name for name in presets.PRESETS if name.rsplit("-", 1)[-1].isdigit()]
    assert len(sized) >= 12
    for name in sized:
        config = RunConfig().merge(presets.get(name)).validate()
        assert config.data.image_size == int(name.rsplit("-", 1)[-1]), name


def test_literature_presets_build_their_papers_models():
    from keras_gan.data import load_dataset

    built = {}
    for name in ("dcgan-32", "lsgan-32", "wgan-gp-32", "sngan-32", "cgan-pd-32", "acgan-32"):
        config = RunConfig().merge(presets.get(name))
        data = load_dataset("synthetic:32x32x1?n=8&classes=4", 32, 1)
        model, _ = runs.build_for_data(config.validate(), data)
        built[name] = model
        assert "arXiv:" in presets.PRESETS[name].reference
    assert built["wgan-gp-32"].regularization.gradient_penalty == 10.0
    assert built["wgan-gp-32"].regularization.n_critic == 5
    assert built["sngan-32"].adversarial_loss.name == "hinge"
    assert built["lsgan-32"].adversarial_loss.name == "least_squares"
    assert built["acgan-32"].latent_dim == 110 and built["cgan-pd-32"].num_classes == 4
    # train.* settings override the paper's: one flag away.
    config = RunConfig().merge(presets.get("wgan-gp-32")).override(["train.n_critic=2"])
    data = load_dataset("synthetic:32x32x1?n=8", 32, 1)
    assert runs.build_for_data(config, data)[0].regularization.n_critic == 2
    bad = RunConfig().merge(presets.get("wgan-gp-32")).override(["train.r1_interval=0"])
    with pytest.raises(ConfigError, match="train: r1_interval must be a positive integer"):
        runs.build_for_data(bad, data)


def test_registry_lists_valid_names():
    registry = Registry("widget")
    registry.register("b")(object)
    registry.register("a")(int)
    assert registry.get("a") is int
    with pytest.raises(KeyError, match="unknown widget 'c'; valid names: a, b"):
        registry.get("c")
    with pytest.raises(ValueError, match="already registered"):
        registry.register("a")(str)


def test_shipped_config_files_are_valid():
    from pathlib import Path

    for path in sorted(Path(__file__).parent.parent.joinpath("configs").glob("*.json")):
        RunConfig().merge(load_config_file(path)).validate()


def test_every_regularisation_setting_reaches_the_model_as_given():
    from keras_gan.regularization import Regularization

    given = {
        "gradient_penalty": 1.0,
        "r1_gamma": 0.5,
        "r2_gamma": 0.25,
        "r1_interval": 2,
        "n_critic": 2,
        "ema_kimg": 0.5,
        "augment": "color",
        "ada_target": 0.5,
        "ada_kimg": 50.0,
    }
    assert set(given) == set(Regularization.names())
    sets = [f"train.regularization.{k}={json.dumps(v)}" for k, v in given.items()]
    config = RunConfig().override(["model=dcgan", "model_kwargs.filters=4", *sets])
    data = load_dataset("synthetic:32x32x1?n=8", 32, 1)
    model = runs.build_for_data(config.validate(), data)[0]
    assert model.regularization == Regularization(**given)


def test_regularisation_is_one_nested_setting_with_the_flat_names_accepted():
    config = RunConfig().override(["train.n_critic=2", "train.regularization.r1_gamma=0.5"])
    assert config.train.regularization == {"n_critic": 2, "r1_gamma": 0.5}
    assert config.to_dict()["train"]["regularization"] == {"n_critic": 2, "r1_gamma": 0.5}
    assert "n_critic" not in config.to_dict()["train"]
    # A config.json written before the nested setting (flat train.NAME) still loads.
    old = RunConfig().to_dict()
    del old["train"]["regularization"]
    old["train"].update({"ema_kimg": 0.5, "augment": "color", "gradient_penalty": None})
    loaded = RunConfig.from_dict(old)
    assert loaded.train.regularization == {
        "ema_kimg": 0.5,
        "augment": "color",
        "gradient_penalty": None,
    }
    # The later layer wins, whichever spelling each uses.
    assert (
        config.override(["train.regularization.n_critic=3"]).train.regularization["n_critic"] == 3
    )
    with pytest.raises(ConfigError, match="train.regularization: unknown regularisation setting"):
        RunConfig().override(["train.regularization.r3_gamma=1"]).validate()
    with pytest.raises(
        ConfigError, match="train.regularization: n_critic must be a positive integer"
    ):
        RunConfig().override(["train.n_critic=0"]).validate()
