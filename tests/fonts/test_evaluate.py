"""Pixel scores of font translation, against values known by construction."""

import numpy as np

from keras_gan.data.fontpairs import Style
from keras_gan.fonts import evaluate


def test_l1_and_ssim_known_values():
    rng = np.random.default_rng(0)
    glyphs = rng.integers(0, 256, (3, 32, 32), dtype=np.uint8)
    np.testing.assert_array_equal(evaluate.l1(glyphs, glyphs), [0, 0, 0])
    white, black = np.full((1, 32, 32), 255, np.uint8), np.zeros((1, 32, 32), np.uint8)
    np.testing.assert_allclose(evaluate.l1(white, black), [1.0])
    half = glyphs.copy()
    half[:, :16] = 255 - half[:, :16]
    expected = np.abs(half.astype(float) - glyphs).mean(axis=(1, 2)) / 255
    np.testing.assert_allclose(evaluate.l1(half, glyphs), expected)
    np.testing.assert_allclose(evaluate.ssim(glyphs, glyphs), [1, 1, 1], rtol=1e-6)
    assert np.all(evaluate.ssim(255 - glyphs, glyphs) < 0)  # inverted: anti-correlated


def test_glyph_set_labels_characters_and_styles():
    a = Style("a", {"永": np.zeros((8, 8), np.uint8), "字": np.ones((8, 8), np.uint8)}, 6.0)
    b = Style("b", {"字": np.full((8, 8), 2, np.uint8)}, 6.0)
    data = evaluate.glyph_set([a, b], "字永")
    assert data.label_names == ["字", "永"] and data.style_names == ["a", "b"]
    np.testing.assert_array_equal(data.labels, [0, 1, 0])
    np.testing.assert_array_equal(data.styles, [0, 0, 1])
    np.testing.assert_array_equal(data.images[:, 0, 0, 0], [1, 0, 2])


def test_reader_faces_keep_the_found_ones_first(installed, tmp_path, monkeypatch):
    """Faces added with `also` come after the found ones, so the faces held out of a
    reader's training (every fifth) do not change."""
    import shutil

    from keras_gan.data.glyphs import select_fonts

    monkeypatch.delenv("KGAN_FONT_PATH", raising=False)
    found = evaluate.reader_faces("Ag")
    extra = select_fonts(["DejaVu Sans Bold"])[0]
    shutil.copy(extra.path, tmp_path / "copy.ttf")
    (tmp_path / "not-a-font.ttf").write_bytes(b"nope")
    faces = evaluate.reader_faces("Ag", (str(tmp_path),))
    assert faces[: len(found)] == found and len(faces) == len(found) + 1
    assert faces[-1].path == str(tmp_path / "copy.ttf") and faces[-1].name == extra.name
    assert evaluate.reader_faces("Ag", (extra.path,)) == found  # found already
