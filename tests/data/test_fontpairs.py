"""Font pairs: the held-out split never leaks, rows pair the right glyphs, specs fail clearly."""

import numpy as np
import pytest
from PIL import Image

from keras_gan.data import DataError
from keras_gan.data import load_dataset
from keras_gan.data.fontpairs import build_pairs
from keras_gan.data.fontpairs import held_out
from keras_gan.data.fontpairs import load_style
from keras_gan.data.fontpairs import split_chars
from keras_gan.data.glyph_folder import write_glyph_folder
from keras_gan.data.glyphs import LATIN
from keras_gan.data.glyphs import gb2312_level1
from keras_gan.data.glyphs import select_fonts
from tests.installed_fonts import HEI
from tests.installed_fonts import KAI
from tests.installed_fonts import SOURCE

CHARS = "永字八法天地玄黄宇宙洪荒日月盈昃辰宿列张寒来暑往秋收冬藏闰余成岁律吕调阳"


def test_held_out_split_is_fixed_disjoint_and_about_a_tenth():
    chars = gb2312_level1()
    train, test = split_chars(chars, "train"), split_chars(chars, "heldout")
    assert not set(train) & set(test)
    assert sorted(train + test) == sorted(chars)
    assert 0.08 < len(test) / len(chars) < 0.12
    # A character's side depends on the character only, not on what else is asked for.
    assert split_chars(chars[::-1], "heldout") == test[::-1]
    assert all(held_out(c) for c in test) and not any(held_out(c) for c in train)
    assert split_chars(chars, "heldout", 0.5) != test
    # Pinned: the split is a fixed hash of the character (a salted hash() would move it).
    assert (
        split_chars(chars[:200], "heldout")
        == "蔼艾爱胺肮盎霸佰拜版扮邦傍剥爆本蹦逼边濒柄秉玻拨波搏"
    )
    assert split_chars(LATIN, "heldout") == "On"


def test_training_pairs_never_contain_held_out_characters(installed, tmp_path):
    chars = gb2312_level1()[:400]
    test = split_chars(chars, "heldout")
    assert test, "the first 400 level-1 hanzi hold some held-out characters"
    # A folder target with held-out characters in it: they stay out of training too.
    folder = tmp_path / "mine"
    folder.mkdir()
    for char in chars[:60] + test:
        Image.new("L", (40, 40), 255).save(folder / f"{char}.png")
        image = Image.new("L", (40, 40), 255)
        image.paste(0, (10, 10, 30, 30))
        image.save(folder / f"{char}.png")
    train_pairs = build_pairs(chars, SOURCE, [KAI, str(folder)], 32, split="train")
    assert not set(train_pairs.chars) & set(test)
    test_pairs = build_pairs(chars, SOURCE, [KAI, str(folder)], 32, split="heldout")
    assert set(test_pairs.chars) == set(test)
    assert train_pairs.report["styles"]["mine"]["used"] == len(set(chars[:60] + test))


def test_rows_pair_the_source_and_target_glyph_of_one_character(installed):
    pairs = build_pairs(CHARS, SOURCE, [KAI, HEI], 32, split="all")
    assert [s.name for s in pairs.styles] == [KAI, HEI]
    assert len(pairs.chars) == 2 * len(CHARS)
    for i in (0, 5, len(CHARS) + 3):
        char, style = pairs.chars[i], pairs.styles[pairs.style_ids[i]]
        np.testing.assert_array_equal(pairs.sources[i], pairs.source.glyphs[char])
        np.testing.assert_array_equal(pairs.targets[i], style.glyphs[char])
    assert not np.array_equal(pairs.targets[0], pairs.targets[len(CHARS)])  # two styles
    data = pairs.image_data()
    assert data.images.shape == data.sources.shape == (2 * len(CHARS), 32, 32, 1)
    assert data.label_names == [KAI, HEI] and data.paired


def test_spec_loads_and_counts_what_the_source_lacks(installed):
    # Droid Sans Fallback has no Latin letters; UKai has both scripts.
    data = load_dataset(f"fontpairs:chars=永字Ab?source={SOURCE}&targets={KAI}&split=all", 32)
    assert len(data) == 2
    assert data.report["skipped"] == {"source font lacks the character": 2}
    with pytest.raises(
        DataError, match=r"no \(character, style\) pair.*source font lacks the character': 2"
    ):
        load_dataset(f"fontpairs:chars=Ab?source={SOURCE}&targets={KAI}&split=all", 32)


@pytest.mark.parametrize(
    "spec, message",
    [
        ("fontpairs:common", "needs source=FONT"),
        ("fontpairs:common?source=x&colour=red", "unknown option 'colour'"),
        ("fontpairs:common?source=x&holdout=lots", "holdout must be a number"),
        (f"fontpairs:common?source={SOURCE}&holdout=1.5", r"holdout must be in \[0, 1\)"),
        (
            f"fontpairs:common?source={SOURCE}&split=test",
            "split must be one of train, heldout, all",
        ),
        ("fontpairs:common?source=No Such Font Anywhere", "no font face matches"),
        (f"fontpairs:common?source={SOURCE}&targets=/no/such/dir/", "does not exist"),
    ],
)
def test_bad_specs_are_clear_errors(installed, spec, message):
    with pytest.raises(DataError, match=message):
        load_dataset(spec, 32)


def test_a_target_is_one_face_even_in_a_collection(installed):
    ukai = select_fonts([KAI])[0].path  # a .ttc of four faces: CN, HK, TW, TW MBE
    assert load_style(ukai, "永", 32).name == "AR PL UKai CN Book"  # its first face
    assert load_style(f"{ukai}#2", "永", 32).name == "AR PL UKai TW Book"
    assert load_style(f"{ukai}#ai hk", "永", 32).name == "AR PL UKai HK Book"
    with pytest.raises(DataError, match=r"no single face '9'.*#0 AR PL UKai CN Book, #1"):
        load_style(f"{ukai}#9", "永", 32)
    with pytest.raises(DataError, match=r"no single face 'TW'.*#3 AR PL UKai TW MBE Book"):
        load_style(f"{ukai}#TW", "永", 32)  # TW and TW MBE
    with pytest.raises(DataError, match=r"'AR PL UKai' names 4 faces \(AR PL UKai CN Book, "):
        load_style("AR PL UKai", "永", 32)
    pairs = load_dataset(f"fontpairs:chars=永字?source={SOURCE}&targets={ukai}&split=all", 32)
    assert pairs.label_names == ["AR PL UKai CN Book"]  # one style, so complete needs no --style


def test_pseudo_glyphs_stand_in_for_the_characters_the_target_lacks(installed, tmp_path):
    chars = CHARS + gb2312_level1()[:400]
    test = split_chars(chars, "heldout")
    hei = load_style(HEI, chars, 32)
    folder = tmp_path / "pseudo"  # stand-ins: HEI's glyphs, some of characters KAI has
    write_glyph_folder({c: hei.glyphs[c] for c in CHARS + test[:3]}, folder)
    kai = str(tmp_path / "kai")
    write_glyph_folder({c: load_style(KAI, CHARS[:10], 32).glyphs[c] for c in CHARS[:10]}, kai)
    pairs = build_pairs(chars, SOURCE, [kai], 32, split="train", pseudo=str(folder))
    own = split_chars(CHARS[:10], "train")
    stand_ins = split_chars(CHARS[10:], "train")  # never a held-out one, nor one KAI has
    assert sorted(pairs.chars) == sorted(own + stand_ins) and set(pairs.style_ids) == {0}
    assert pairs.report["pseudo"] == {"folder": str(folder), "pairs": len(stand_ins)}
    assert pairs.report["pairs"] == len(own + stand_ins)
    for i, char in enumerate(pairs.chars):
        np.testing.assert_array_equal(
            pairs.targets[i], (hei if char in stand_ins else pairs.styles[0]).glyphs[char]
        )
        np.testing.assert_array_equal(pairs.sources[i], pairs.source.glyphs[char])
    with pytest.raises(DataError, match=r"pseudo=.* needs exactly one target style"):
        build_pairs(chars, SOURCE, [KAI, HEI], 32, pseudo=str(folder))
    with pytest.raises(DataError, match="glyph folder .* does not exist"):
        load_dataset(f"fontpairs:chars=永?source={SOURCE}&targets={KAI}&pseudo=/no/such", 32)
