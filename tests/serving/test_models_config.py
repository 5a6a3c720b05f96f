from pathlib import Path

from google.protobuf import text_format
from tensorflow_serving.config import model_server_config_pb2

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
