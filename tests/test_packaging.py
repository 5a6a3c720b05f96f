"""A wheel holds every package: editable installs hide a package missing from pyproject."""

from pathlib import Path

import tomllib

ROOT = Path(__file__).parents[1]


def test_every_python_package_is_listed_in_pyproject():
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    folders = {v: k for k, v in setuptools["package-dir"].items()}
    found = set()
    for top in ("keras_gan", *folders):
        for init in (ROOT / top).rglob("__init__.py"):
            parts = init.parent.relative_to(ROOT).parts
            found.add(".".join((folders.get(parts[0], parts[0]), *parts[1:])))
    assert found == set(setuptools["packages"])
