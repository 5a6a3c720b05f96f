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


def test_a_built_wheel_works_from_an_empty_folder(tmp_path):
    """The wheel carries the shipped models: `kgan sample`, `kgan evaluate` and
    `kgan font complete` (both font bases) name them as `saved_models/...` from a folder
    that has none."""
    import os
    import subprocess
    import sys

    dist, target, work = tmp_path / "dist", tmp_path / "site", tmp_path / "empty"
    work.mkdir()
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run(
        [*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", dist, ROOT],
        check=True, capture_output=True, cwd=tmp_path,
    )  # fmt: skip
    (wheel,) = dist.glob("keras_gan-*.whl")
    subprocess.run([*pip, "install", "--no-deps", "--target", target, wheel], check=True)
    # The wheel's packages come first; dependencies from this environment.
    env = {**os.environ, "PYTHONPATH": str(target), "KGAN_HOME": ""}

    def kgan(*args):
        done = subprocess.run(
            [sys.executable, "-m", "keras_gan_cli.main", *map(str, args)],
            cwd=work, env=env, capture_output=True, text=True, timeout=600,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr[-3000:]
        return done.stdout

    where = subprocess.run(
        [sys.executable, "-c", "import keras_gan, keras_gan_models; print(keras_gan.__file__)"],
        cwd=work, env=env, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert where.startswith(str(target))
    kgan("sample", "saved_models/glyphs", "--labels", "永", "--seeds", "0", "--out", "s.png")
    assert (work / "s.png").stat().st_size > 0
    assert '"cas"' in kgan(
        "evaluate", "saved_models/glyphs", "--metrics", "cas", "--num-samples", 64, "--json"
    )
    kgan(
        "font", "complete", "saved_models/font2font-zh", "--charset", "chars=永字八法天地",
        "--like", "/usr/share/fonts/truetype/arphic/ukai.ttc", "--out", "Mine.ttf",
    )  # fmt: skip
    assert (work / "Mine.ttf").stat().st_size > 0
    kgan(
        "font", "complete", "saved_models/font2font-latin", "--charset", "chars=AbCdEfgΩЖ",
        "--like", "/usr/share/fonts/truetype/freefont/FreeSerifItalic.ttf", "--out", "L.otf",
    )  # fmt: skip
    assert sorted(p.name for p in work.iterdir()) == [
        "L.html", "L.otf", "L.png", "Mine.html", "Mine.png", "Mine.ttf", "s.png",
    ]  # fmt: skip
