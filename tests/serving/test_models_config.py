import shutil
from pathlib import Path

import pytest
from google.protobuf import text_format
from tensorflow_serving.config import model_server_config_pb2

from keras_gan_serving import model_config
from keras_gan_serving.repository import ModelRepository
from keras_gan_serving.repository import ModelSource
from keras_gan_serving.tensors import RequestError
from tests.serving.conftest import SHIPPED

ROOT = Path(__file__).parents[2]


def test_models_config_parses_and_points_at_shipped_models():
    text = (ROOT / "serving" / "models.config").read_text()
    config = text_format.Parse(text, model_server_config_pb2.ModelServerConfig())
    models = config.model_config_list.config
    assert [m.name for m in models] == ["glyphs"]
    for model in models:
        folder = ROOT / "saved_models" / model.base_path.removeprefix("/models/")
        versions = [p for p in folder.iterdir() if p.name.isdigit()]
        assert versions and all((v / "saved_model.pb").is_file() for v in versions)


def two_versions(tmp_path):
    """A model folder with versions 1 and 2 (the shipped model's newest, twice)."""
    from keras_gan.export.layout import newest_version

    folder = tmp_path / "glyphs"
    for version in (1, 2):
        shutil.copytree(newest_version(SHIPPED), folder / str(version))
    return folder


def test_a_model_config_file_names_models_folders_and_version_policies(tmp_path):
    folder = two_versions(tmp_path)
    config = tmp_path / "models.config"
    config.write_text(
        f"""model_config_list {{
  config {{ name: "pinned" base_path: "{folder}" model_platform: "tensorflow"
           model_version_policy {{ specific {{ versions: 1 }} }} }}
  config {{ name: "every" base_path: "{folder}" model_version_policy {{ all {{}} }} }}
  config {{ name: "newest" base_path: "{folder}" }}
}}"""
    )
    sources = model_config.read(config)
    assert sources == {
        "pinned": ModelSource(folder, 1, frozenset({1})),
        "every": ModelSource(folder, 0),
        "newest": ModelSource(folder, 1),
    }
    repository = ModelRepository(sources=sources)
    repository.refresh()
    assert repository.models() == ["every", "newest", "pinned"]
    assert {n: sorted(repository.status(n)) for n in repository.models()} == {
        "every": [1, 2], "newest": [2], "pinned": [1],
    }  # fmt: skip
    assert repository.get("pinned").version == 1 and repository.get("every").version == 2
    with pytest.raises(RequestError, match=r"model 'pinned' has no available version 2"):
        repository.get("pinned", 2)


@pytest.mark.parametrize(
    "text, message",
    [
        ("model_config_list { config { name: 'a' } }", "model 'a': base_path is required"),
        ("model_config_list { config { name: 'a' base_path: 'x' model_platform: 'onnx' } }",
         "model_platform 'onnx' is not supported"),
        ("model_config_list { config { name: 'a/b' base_path: 'x' } }", "plain folder name"),
        ("model_config_list { config { name: 'a' base_path: 'x' } config { name: 'a' "
         "base_path: 'y' } }", "model 'a': named twice"),
        ("model_config_list { config { name: 'a' base_path: 'x' version_labels { key: 'stable' "
         "value: 1 } } }", "version_labels are not supported"),
        ("model_config_list { config { name: 'a' base_path: 'x' model_version_policy "
         "{ specific { } } } }", "specific lists no versions"),
        ("model_config_list { }", "lists no model"),
        ("model_config_list { config { nme: 'a' } }", r"not a ModelServerConfig in text format "
         r"\(1:30 : .*no field named \"nme\""),
    ],
)  # fmt: skip
def test_bad_model_config_files_are_named_errors(tmp_path, text, message):
    config = tmp_path / "models.config"
    config.write_text(text)
    with pytest.raises(ValueError, match=f"model config file '{config}'.*{message}"):
        model_config.read(config)
    with pytest.raises(FileNotFoundError, match="'nope.config' does not exist"):
        model_config.read("nope.config")
