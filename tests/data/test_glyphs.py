import os

import numpy as np
import pytest

from keras_gan.data import DataError
from keras_gan.data import glyphs
from keras_gan.data import load_dataset
from tests.installed_fonts import HEI
from tests.installed_fonts import LATIN


def test_gb2312_level1_is_derived_from_the_codec():
    chars = glyphs.gb2312_level1()
    assert len(chars) == 3755
    assert len(set(chars)) == 3755
    assert chars[0] == "啊" and chars[-1] == "座"
    assert all(glyphs.is_cjk(c) for c in chars)
    whole = glyphs.parse_charset("gb2312")  # level 1, then level 2
    assert len(whole) == 6763 and whole.startswith(chars) and whole[-1] == "齄"
    big5 = glyphs.parse_charset("big5-1")  # traditional, by stroke count
    assert len(big5) == 5401 and big5[:3] == "一乙丁" and "國" in big5 and "国" not in big5


def test_charsets():
    assert glyphs.parse_charset("latin") == glyphs.LATIN
    assert glyphs.parse_charset("chars=永字永 八") == "永字八"
    default = glyphs.parse_charset("default")
    assert len(default) == 120 + 52 and default.endswith("xyz")
    # The README's table: sizes and what each set starts and ends with.
    letters = glyphs.parse_charset("letters")
    assert letters == "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
    latin1 = glyphs.parse_charset("latin-1")
    assert len(latin1) == 188 and latin1[:3] == '!"#' and latin1[-3:] == "ýþÿ"
    assert "\xad" not in latin1 and " " not in latin1 and "\xa0" not in latin1
    european = glyphs.parse_charset("european")  # + Latin Extended-A, Greek, Cyrillic
    assert len(european) == 188 + 128 + 56 + 96 and european.startswith(latin1)
    assert european[188] == "Ā" and "Ω" in european and "ω" in european and european[-1] == "џ"
    common = glyphs.parse_charset("common")
    assert len(common) == 120 and len(set(common)) == 120 and common[:4] == "永字八法"
    assert all(map(glyphs.is_cjk, common)) and default == common + letters
    with pytest.raises(DataError, match="empty"):
        glyphs.parse_charset("chars=  ")
    with pytest.raises(DataError, match="unknown charset 'klingon'; expected one of latin"):
        glyphs.parse_charset("klingon")


def test_every_face_of_a_collection_is_found(installed):
    faces = glyphs.find_fonts()
    collections = {f.path for f in faces if f.path.endswith(".ttc")}
    assert collections, "setup installs .ttc collections (fonts-wqy-zenhei, fonts-arphic-*)"
    path = sorted(collections)[0]
    assert len([f for f in faces if f.path == path]) == len(glyphs.faces_of(path)) > 1


def test_coverage_checks_cmap_blank_and_no_glyph_box(test_font):
    # Only 'A' is a real glyph: B maps to the .notdef box, C is empty, 永 is not in the cmap.
    face = glyphs.faces_of(test_font)[0]
    renderer = glyphs.GlyphRenderer(face, 32, "ABC")
    assert renderer.render("A")[1] == ""
    assert renderer.render("B") == (None, "no-glyph box")
    assert renderer.render("C") == (None, "blank render")
    assert renderer.render("永") == (None, "not in cmap")


def test_skipped_pairs_are_counted_by_reason(test_font, installed):
    dejavu = [f.path for f in glyphs.find_fonts() if f.name == LATIN]
    data = load_dataset(f"glyphs:chars=ABC?fonts={test_font},{dejavu[0]}", image_size=32)
    assert data.report["skipped"] == {"no-glyph box": 1, "blank render": 1}
    assert sorted(data.label_names[i] for i in data.labels) == ["A", "A", "B", "C"]


def test_missing_characters_are_an_error_naming_them(test_font):
    with pytest.raises(
        DataError, match=r"no font found covers 3 of the 4 characters \(e\.g\. 'BC永'\)"
    ) as error:
        load_dataset(f"glyphs:chars=ABC永?fonts={test_font}", image_size=32)
    # Hanzi among the missing: the error says how to get a CJK font.
    assert "install a CJK font, e.g. `sudo apt-get install fonts-wqy-microhei" in str(error.value)


def test_latin_only_font_never_yields_cjk_boxes(installed):
    dejavu = [f for f in glyphs.find_fonts() if f.name == LATIN]
    renderer = glyphs.GlyphRenderer(dejavu[0], 32, "A永")
    assert renderer.render("永") == (None, "not in cmap")
    image, reason = renderer.render("A")
    assert reason == "" and image.shape == (32, 32) and image.dtype == np.uint8


@pytest.mark.parametrize("size", [16, 32, 64])
def test_rendering_is_consistent_and_deterministic(test_font, size):
    data = load_dataset(f"glyphs:chars=A?fonts={test_font}", image_size=size)
    again = glyphs.GlyphRenderer(glyphs.faces_of(test_font)[0], size, "A").render("A")[0]
    assert data.images.shape == (1, size, size, 1)
    np.testing.assert_array_equal(data.images[0, :, :, 0], again)
    ink = 255 - data.images[0, :, :, 0].astype(int)
    rows, cols = np.nonzero(ink > 64)
    # Centred, inside the canvas, paper white around the glyph.
    assert abs((rows.min() + rows.max()) / 2 - (size - 1) / 2) <= size * 0.15
    assert abs((cols.min() + cols.max()) / 2 - (size - 1) / 2) <= size * 0.1
    assert data.images[0, 0].min() == 255 and data.images[0, -1].min() == 255


@pytest.mark.parametrize("face_name, char", [(LATIN, "H"), (LATIN, "g"), (HEI, "国")])
def test_a_real_glyph_sits_where_the_font_metrics_put_it(installed, face_name, char):
    """The ink box of a rendered glyph against the one computed from the font's own
    tables (fontTools): em = 80% of the canvas, the advance width centred, the middle
    of ascender..descender (hhea) on the canvas' middle, within a pixel."""
    from fontTools.ttLib import TTFont

    face = next(f for f in glyphs.find_fonts() if f.name == face_name)
    size = 64
    image, _ = glyphs.GlyphRenderer(face, size, char).render(char)
    rows, cols = np.nonzero(image < 128)
    font = TTFont(face.path, fontNumber=face.index)
    name = font.getBestCmap()[ord(char)]
    glyph = font["glyf"][name]
    glyph.recalcBounds(font["glyf"])
    canvas = size * glyphs.SUPERSAMPLE
    scale = int(canvas * glyphs.EM_FRACTION) / font["head"].unitsPerEm
    advance = font["hmtx"][name][0]
    baseline = canvas / 2 + (font["hhea"].ascent + font["hhea"].descent) / 2 * scale
    left = canvas / 2 + (glyph.xMin - advance / 2) * scale
    right = canvas / 2 + (glyph.xMax - advance / 2) * scale
    top, bottom = baseline - glyph.yMax * scale, baseline - glyph.yMin * scale
    expected = np.array([left, right, top, bottom]) / glyphs.SUPERSAMPLE
    found = np.array([cols.min(), cols.max() + 1, rows.min(), rows.max() + 1])
    np.testing.assert_allclose(found, expected, atol=1.0)


def test_real_fonts_render_hanzi_and_latin(installed):
    data = load_dataset("glyphs:chars=永A", image_size=32)
    cjk_faces = [f for f in glyphs.find_fonts() if f.covers("永")]
    assert len(cjk_faces) >= 3  # setup installs WenQuanYi, AR PL, Droid Sans Fallback
    assert data.label_names == ["永", "A"]
    assert (data.labels == 0).sum() == len(cjk_faces)
    assert data.reference_images.shape == (2, 32, 32, 1)
    assert len(data.style_names) == data.report["faces"]


def test_cache_is_keyed_and_reused(test_font, tmp_path, monkeypatch):
    monkeypatch.setenv("KGAN_CACHE_DIR", str(tmp_path / "cache"))
    first = load_dataset(f"glyphs:chars=A?fonts={test_font}", image_size=32)
    cached = list((tmp_path / "cache" / "glyphs").glob("*.npz"))
    assert len(cached) == 1
    second = load_dataset(f"glyphs:chars=A?fonts={test_font}", image_size=32)
    np.testing.assert_array_equal(first.images, second.images)
    load_dataset(f"glyphs:chars=A?fonts={test_font}", image_size=16)
    assert len(list((tmp_path / "cache" / "glyphs").glob("*.npz"))) == 2
    assert not list((tmp_path / "cache" / "glyphs").glob("*.tmp*"))
    cached[0].write_bytes(b"PK\x03\x04 truncated")  # a damaged entry is rebuilt, not trusted
    again = load_dataset(f"glyphs:chars=A?fonts={test_font}", image_size=32)
    np.testing.assert_array_equal(first.images, again.images)
    # A font file changed in place (a new release of it) is rendered anew, not served stale.
    from fontTools.ttLib import TTFont

    font = TTFont(test_font)
    font["glyf"]["A"].coordinates.scale((0.5, 0.5))
    font.save(test_font)
    changed = load_dataset(f"glyphs:chars=A?fonts={test_font}", image_size=32)
    assert (changed.images < 128).sum() < (first.images < 128).sum() / 2  # a quarter the ink


@pytest.mark.parametrize(
    "spec, message",
    [
        ("glyphs:chars=A?fonts=/no/such/font.ttf", "font file '/no/such/font.ttf' does not exist"),
        ("glyphs:chars=A?fonts=NoSuchFontName", "no font face matches 'NoSuchFontName'"),
        ("glyphs:chars=A?size=3", "unknown option 'size'"),
        ("glyphs:chars=", "is empty"),
        ("pictures:foo", "unknown dataset scheme 'pictures'"),
        ("glyphs", "has no scheme"),
    ],
)
def test_bad_specs_name_the_problem(spec, message):
    with pytest.raises(DataError, match=message):
        load_dataset(spec, image_size=32)


def test_damaged_font_file_is_a_clear_error(tmp_path):
    bad = tmp_path / "broken.ttf"
    bad.write_bytes(b"\x00\x01\x00\x00" + os.urandom(64))
    with pytest.raises(DataError, match="could not be read as TrueType/OpenType"):
        load_dataset(f"glyphs:chars=A?fonts={bad}", image_size=32)


def test_synthetic_spec_checks_shape():
    data = load_dataset("synthetic:16x16x3?n=8&classes=2", image_size=16, channels=3)
    assert data.images.shape == (8, 16, 16, 3) and data.num_classes == 2
    with pytest.raises(DataError, match="use synthetic:32x32x1"):
        load_dataset("synthetic:16x16x3", image_size=32, channels=1)


def test_fonts_in_kgan_font_path_are_found(tmp_path, monkeypatch):
    """README: KGAN_FONT_PATH adds font folders (os.pathsep-separated) to discovery."""
    from tests.conftest import make_test_font

    (tmp_path / "a" / "deep").mkdir(parents=True)
    (tmp_path / "b").mkdir()
    make_test_font(tmp_path / "a" / "deep" / "one.ttf", family="KganPathOne")
    make_test_font(tmp_path / "b" / "two.ttf", family="KganPathTwo")
    names = {f.name for f in glyphs.find_fonts()}
    assert not any(n.startswith("KganPath") for n in names)
    monkeypatch.setenv(
        "KGAN_FONT_PATH", os.pathsep.join([str(tmp_path / "a"), str(tmp_path / "b")])
    )
    found = {f.name: f.path for f in glyphs.find_fonts() if f.name.startswith("KganPath")}
    assert found == {
        "KganPathOne": str(tmp_path / "a" / "deep" / "one.ttf"),
        "KganPathTwo": str(tmp_path / "b" / "two.ttf"),
    }
