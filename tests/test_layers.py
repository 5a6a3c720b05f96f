"""The import structure: no module imports a layer above its own, no import circles."""

import importlib.util
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "layers.py"


def load_checker():
    spec = importlib.util.spec_from_file_location("layers", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_no_upward_import_and_no_circle():
    assert load_checker().check() == []


def test_the_checker_finds_an_upward_import_and_a_circle(tmp_path, monkeypatch):
    layers = load_checker()
    for folder in ("keras_gan", "cli", "serving"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "__init__.py").write_text("")
    (tmp_path / "keras_gan" / "files.py").write_text("from keras_gan import training\n")
    (tmp_path / "keras_gan" / "training.py").write_text(
        "def f():\n    from keras_gan.files import x\n"
    )
    monkeypatch.setattr(layers, "ROOT", tmp_path)
    assert layers.check() == [
        "upward import: keras_gan.files (base) imports keras_gan.training (training)",
        "import circle: keras_gan.files <-> keras_gan.training",
    ]
