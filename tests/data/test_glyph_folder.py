"""Glyph folders: names, formats, modes and sizes users send, each reported by reason."""

import numpy as np
import pytest
from PIL import Image

from keras_gan.data import DataError
from keras_gan.data.glyph_folder import char_of
from keras_gan.data.glyph_folder import ink_box
from keras_gan.data.glyph_folder import load_glyph_folder
from keras_gan.data.glyph_folder import moved
from keras_gan.data.glyph_folder import placement
from keras_gan.data.glyph_folder import write_glyph_folder
from keras_gan.data.glyphs import EM_FRACTION


def glyph(size=48, mode="L", ink=0, paper=255):
    image = Image.new("L", (size, size), paper)
    image.paste(ink, (size // 4, size // 4, 3 * size // 4, 3 * size // 4))
    return image.convert(mode)


@pytest.mark.parametrize(
    "stem, char",
    [
        ("永", "永"),
        ("U+6C38", "永"),
        ("u+6c38", "永"),
        ("U+1F600", "\U0001f600"),
        ("A", "A"),
        ("永字", None),
        ("U+D800", None),
        ("U+110000", None),
        ("U+0020", None),
        ("U+000A", None),
        (" ", None),
        ("", None),
        ("U+6C3", None),
    ],
)
def test_file_names_name_one_character(stem, char):
    assert char_of(stem) == char


def test_every_kind_of_bad_file_is_counted_by_reason(tmp_path):
    folder = tmp_path / "mine"
    folder.mkdir()
    glyph().save(folder / "永.png")
    glyph(mode="RGB").save(folder / "字.jpg")
    glyph(mode="RGBA").save(folder / "八.png")
    glyph(mode="P").save(folder / "法.gif")
    glyph(mode="CMYK").save(folder / "天.tiff")
    Image.fromarray((np.asarray(glyph()).astype(np.uint16) * 257)).save(folder / "地.png")  # 16-bit
    glyph(size=300).save(folder / "玄.png")  # large: rescaled
    glyph(ink=255, paper=0).save(folder / "黄.png")  # light on dark: inverted
    glyph().save(folder / "U+6C38.png")  # 永 again
    glyph().save(folder / "hello.png")
    (folder / "宇.png").write_bytes(b"")  # zero bytes
    (folder / "宙.png").write_bytes(b"not a png at all")  # fake extension
    (folder / "洪.png").write_bytes(glyph()._repr_png_()[:60])  # truncated
    glyph(size=8).save(folder / "荒.png")
    Image.new("L", (200, 20), 255).save(folder / "日.png")  # a strip, not a cell
    Image.new("L", (40, 40), 255).save(folder / "月.png")  # no ink
    (folder / "notes.txt").write_text("my glyphs")
    (folder / "sub").mkdir()
    (folder / "loop").symlink_to(folder)

    glyphs, report = load_glyph_folder(folder, 32)
    assert sorted(glyphs) == sorted("永字八法天地玄黄")
    assert report["used"] == 8
    assert report["skipped"] == {
        "duplicate character": 1,
        "name is not one character or U+XXXX": 1,
        "empty file": 1,
        "not a readable image": 1,
        "truncated or corrupt image": 1,
        "smaller than 16 px": 1,
        "not a glyph cell (sides over 4:1)": 1,
        "no ink": 1,
        "not an image name (expected .png, .jpg, .jpeg, ...)": 1,
        "not a file": 2,
    }
    assert report["examples"]["duplicate character"] == ["永.png"] or report["examples"][
        "duplicate character"
    ] == ["U+6C38.png"]
    assert report["inverted (light ink on dark paper)"] == 1
    assert report["rescaled"] == 8
    for char, image in glyphs.items():
        assert image.shape == (32, 32) and image.dtype == np.uint8
        # The cell fills the em box: ink is the middle half of it, as drawn.
        ink = np.argwhere(image < 128)
        em = round(32 * EM_FRACTION)
        offset = (32 - em) // 2
        assert abs(ink[:, 0].min() - (offset + em / 4)) <= 1, char
        assert abs(ink[:, 0].max() - (offset + 3 * em / 4)) <= 1.5, char


def test_a_folder_with_nothing_usable_says_why(tmp_path):
    (tmp_path / "a.png").write_bytes(b"")
    glyph().save(tmp_path / "hello.png")
    with pytest.raises(
        DataError,
        match=r"no usable glyph image \(1 empty file, 1 name is not one character.*e\.g\. 永\.png",
    ):
        load_glyph_folder(tmp_path, 32)
    with pytest.raises(DataError, match="does not exist or is not a folder"):
        load_glyph_folder(tmp_path / "nope", 32)


def test_placement_recovers_the_scale_and_shift_that_moved_applied():
    rng = np.random.default_rng(0)
    glyphs = []
    for _ in range(12):  # boxes of ink of random size and place
        glyph = np.full((64, 64), 255, np.uint8)
        top, left, height, width = rng.integers(12, 24, 4)
        glyph[top : top + height, left : left + width] = 0
        glyphs.append(glyph)
    placed = [moved(g, 1.25, np.array([3.0, -2.0])) for g in glyphs]
    scale, shift = placement(glyphs, placed)
    assert scale == pytest.approx(1.25, abs=0.06)
    np.testing.assert_allclose(shift, [3.0, -2.0], atol=0.75)
    assert placement(placed, placed)[0] == 1 and not placement(placed, placed)[1].any()
    # Paper fills what comes in from outside; nothing but the ink box is dark.
    row, col, _ = ink_box(placed[0])
    assert placed[0][0, 0] == 255 and placed[0][int(row), int(col)] < 128
    assert ink_box(np.full((64, 64), 255, np.uint8)) is None
    # Scale 1 / s and shift -t / s undo it (how pseudo-glyphs go back to a folder's cells).
    back = [moved(g, 1 / 1.25, np.array([-3.0, 2.0]) / 1.25) for g in placed]
    assert all(np.array_equal(a < 128, b < 128) for a, b in zip(back, glyphs))


def test_a_written_glyph_folder_reads_back_as_written(tmp_path):
    rng = np.random.default_rng(0)
    size = 64
    em, offset = int(round(size * EM_FRACTION)), (size - int(round(size * EM_FRACTION))) // 2
    glyphs = {}
    for char in "永A畫":
        glyph = np.full((size, size), 255, np.uint8)  # gray strokes inside the em box
        inner = slice(offset + 4, offset + em - 4)  # the cell's border stays paper
        glyph[inner, inner] = rng.integers(0, 256, (em - 8, em - 8))
        glyphs[char] = glyph
    write_glyph_folder(glyphs, tmp_path / "glyphs")
    assert sorted(p.name for p in (tmp_path / "glyphs").iterdir()) == [
        "U+0041.png", "U+6C38.png", "U+756B.png"
    ]  # fmt: skip
    back, report = load_glyph_folder(tmp_path / "glyphs", size)
    assert back.keys() == glyphs.keys() and report["skipped"] == {}
    for char in glyphs:
        np.testing.assert_array_equal(back[char], glyphs[char])
    write_glyph_folder({"A": glyphs["A"]}, tmp_path / "glyphs")  # replaces the folder
    assert load_glyph_folder(tmp_path / "glyphs", size)[0].keys() == {"A"}
