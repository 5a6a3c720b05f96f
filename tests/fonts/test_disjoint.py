"""The few-shot targets that bench/font_quality.py scores are fonts the shipped base
models never learned: no font family in common, nor one drawn from the same outlines
(issue #19: held-out styles)."""

import json
import sys
from pathlib import Path

import pytest

from keras_gan.data.glyphs import select_fonts

ROOT = Path(__file__).parents[2]
sys.path.insert(0, str(ROOT / "bench"))
try:
    from font_quality import SCRIPTS
    from font_quality import origin
finally:
    sys.path.remove(str(ROOT / "bench"))


def base_families(base: Path) -> set[str]:
    """The families of a base's source and styles, as its training recorded them."""
    report = json.loads((base / "dataset.json").read_text(encoding="utf-8"))["report"]
    return {report["source"]["family"], *(s["family"] for s in report["styles"].values())}


@pytest.mark.parametrize("script, base", [("zh", "font2font-zh"), ("latin", "font2font-latin")])
def test_bench_targets_share_no_family_with_the_shipped_base(script, base, installed):
    learned = base_families(ROOT / "saved_models" / base)
    targets = {select_fonts([name])[0].family for name in SCRIPTS[script]["targets"].values()}
    assert len(targets) == len(SCRIPTS[script]["targets"]) and len(learned) >= 2
    assert not learned & targets, f"{base} learned the target families {learned & targets}"
    target_origins = {origin(t) for t in targets}
    relatives = {f for f in learned if origin(f) in target_origins}
    assert not relatives, f"{base} learned {relatives}, drawn from a target's outlines"


def test_relatives_share_an_origin():
    assert origin("BabelStone Han") == origin("AR PL UMing CN") == origin("AR PL KaitiM GB")
    assert origin("TW-Kai") == "TW-Kai" != origin("AR PL UKai CN")
    assert origin("TeX Gyre Termes") == origin("FreeSerif") != origin("Liberation Serif")
