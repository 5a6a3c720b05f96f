"""The models keras-gan ships (`saved_models/`: the glyph generator, the glyph
classifier, the font2font base), found from any folder.

A path that starts with `saved_models/` and does not exist where it is given (the
working directory) names a shipped model: it is looked up under `$KGAN_HOME/
saved_models`, then in the installed package (`keras_gan_models`, the wheel's copy
of the repository's `saved_models/`), then in the source checkout.
"""

from __future__ import annotations

import os
from pathlib import Path

SHIPPED = "saved_models"


def shipped_roots() -> list[Path]:
    """Folders that may hold the shipped models, first match wins."""
    roots = []
    if os.environ.get("KGAN_HOME"):
        roots.append(Path(os.environ["KGAN_HOME"]).expanduser() / SHIPPED)
    try:
        from importlib.resources import files

        roots.append(Path(str(files("keras_gan_models"))))
    except ModuleNotFoundError:  # not installed: a source checkout
        pass
    roots.append(Path(__file__).resolve().parents[1] / SHIPPED)
    return roots


def find_model(path: str | os.PathLike) -> Path:
    """`path` itself when it exists; else, for `saved_models/NAME...`, the shipped copy
    (see the module doc); else `path` unchanged, for the caller's error message."""
    path = Path(path)
    if path.exists() or path.is_absolute() or path.parts[:1] != (SHIPPED,):
        return path
    for root in shipped_roots():
        candidate = root.joinpath(*path.parts[1:])
        if candidate.exists():
            return candidate
    return path
