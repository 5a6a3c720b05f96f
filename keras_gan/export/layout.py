"""TF Serving's model layout: `NAME/<version>/` folders, each a SavedModel with keras-gan's
metadata in `assets.extra/kgan.json`. No TensorFlow here: the server and samplers
read the layout before they load anything."""

from __future__ import annotations

import json
from pathlib import Path

KGAN_METADATA = "assets.extra/kgan.json"


def version_folders(model_dir: Path) -> list[Path]:
    """The integer-named version folders of a model folder, oldest first."""
    if not model_dir.is_dir():
        return []
    versions = [p for p in model_dir.iterdir() if p.is_dir() and p.name.isdigit()]
    return sorted(versions, key=lambda p: int(p.name))


def newest_version(model_dir: Path) -> Path | None:
    versions = version_folders(model_dir)
    return versions[-1] if versions else None


def next_version(model_dir: Path) -> int:
    versions = version_folders(model_dir)
    return int(versions[-1].name) + 1 if versions else 1


def read_metadata(version_dir: str | Path) -> dict:
    return json.loads((Path(version_dir) / KGAN_METADATA).read_text(encoding="utf-8"))
