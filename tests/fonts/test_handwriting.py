"""Handwriting sheets without a person: the template is rendered, real kai glyphs are
written into its boxes, the page is "photographed" (perspective, rotation, blur,
uneven light, JPEG, an EXIF orientation tag) and scanned back."""

import io
import json

import cv2
import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image
from PIL import ImageDraw
from PIL import ImageFont

from keras_gan.data.glyphs import parse_charset
from keras_gan.data.glyphs import select_fonts
from keras_gan.fonts import handwriting as hw
from keras_gan_cli.main import cli
from tests.installed_fonts import KAI

CHARS = "永字八法天地玄黄宇宙洪荒日月盈昃辰宿列张寒来暑往"
CHARSET = f"chars={CHARS}"
EMPTY, CROSSED = "法", "宙"  # left empty; written, then crossed out with an X


def write_in(page):
    """The page with kai glyphs written in the boxes (black, 140 px), and what each
    box's kept area should hold: the written ink alone, as a 0/1 mask."""
    face = select_fonts([KAI])[0]
    font = ImageFont.truetype(face.path, 140, index=face.index)
    page = page.copy()
    draw = ImageDraw.Draw(page)
    expected = {}
    side = hw.BOX - 2 * hw.INSET
    for slot, char in enumerate(CHARS):
        x, y = hw.box_origin(slot)
        left, top = x + hw.INSET, y + hw.INSET
        if char == EMPTY:
            continue
        alone = Image.new("L", (side, side), 255)
        centre = (side / 2, side / 2 + 6)
        ImageDraw.Draw(alone).text(centre, char, font=font, fill=0, anchor="mm")
        draw.text((left + centre[0], top + centre[1]), char, font=font, fill=15, anchor="mm")
        if char == CROSSED:  # a big X over it, corner to corner
            for a, b in (((0, 0), (side, side)), ((side, 0), (0, side))):
                draw.line([(left + a[0], top + a[1]), (left + b[0], top + b[1])], fill=10, width=7)
            continue
        expected[char] = np.asarray(alone) < 128
    return page, expected


def photograph(page, corners, turn_exif=False, angle=0) -> bytes:
    """A phone photo of `page` on a grey table: the page's corners land on `corners`,
    then blur, light falling off to one side, sensor noise and JPEG; `turn_exif`:
    stored sideways with an EXIF tag saying so (as phones do)."""
    rng = np.random.default_rng(0)
    size = (2200, 3000)
    source = np.array([[0, 0], [hw.PAGE_W, 0], [hw.PAGE_W, hw.PAGE_H], [0, hw.PAGE_H]], np.float32)
    matrix = cv2.getPerspectiveTransform(source, np.array(corners, np.float32))
    photo = cv2.warpPerspective(np.asarray(page), matrix, size, borderValue=90)
    photo = cv2.GaussianBlur(photo.astype(np.float32), (0, 0), 1.3)
    light = np.linspace(1.0, 0.55, size[0])[None, :] * np.linspace(1.0, 0.8, size[1])[:, None]
    photo = np.clip(photo * light + rng.normal(0, 4, photo.shape), 0, 255).astype(np.uint8)
    image = Image.fromarray(photo)
    if angle:
        image = image.rotate(angle, expand=True, fillcolor=90)
    exif = Image.Exif()
    if turn_exif:
        image = image.transpose(Image.Transpose.ROTATE_90)  # stored turned left
        exif[0x0112] = 6  # Orientation: turn 90 degrees clockwise to view
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=70, exif=exif)
    return buffer.getvalue()


TILTED = [(260, 180), (1950, 300), (2050, 2800), (120, 2650)]


@pytest.fixture(scope="module")
def written(installed):
    return write_in(hw.template_pages(CHARSET)[0])


def test_every_written_glyph_comes_back_from_a_phone_photo(tmp_path, written):
    page, expected = written
    photo = tmp_path / "IMG_0001.jpg"
    photo.write_bytes(photograph(page, TILTED, turn_exif=True))
    upside_down = tmp_path / "scan.png"  # a second photo of the page, turned around
    upside_down.write_bytes(photograph(page, TILTED, angle=180))
    for shot in (photo, upside_down):
        out = tmp_path / f"glyphs-{shot.stem}"
        report = hw.scan([shot], CHARSET, out)
        assert report.pages == {str(shot): 1}
        assert report.empty == [f"1-{CHARS.index(EMPTY) + 1} {EMPTY}"]
        assert report.crossed_out == [f"1-{CHARS.index(CROSSED) + 1} {CROSSED}"]
        assert set(report.written) == set(expected)
        scores = {}
        for char, ink in expected.items():
            got = np.asarray(Image.open(out / f"U+{ord(char):04X}.png")) < 128
            scores[char] = (got & ink).sum() / (got | ink).sum()
        assert min(scores.values()) >= 0.9, (shot.name, scores)


def test_the_template_is_a_pdf_with_a_page_per_63_characters(tmp_path):
    out = tmp_path / "sheet.pdf"
    seventy = "chars=" + parse_charset("gb2312-1")[:70]
    result = CliRunner().invoke(cli, ["font", "template", "--charset", seventy, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"%PDF") and out.read_bytes().count(b"/Type /Page\n") == 2
    assert "2 pages" in result.output
    again = ["font", "template", "--charset", seventy, "--out", str(out), "--json"]
    assert json.loads(CliRunner().invoke(cli, again).stdout) == {"written": [str(out)], "pages": 2}


def test_bad_photos_are_named_errors_and_nothing_is_written(tmp_path, written):
    page, _ = written
    out = tmp_path / "glyphs"
    junk = tmp_path / "notes.jpg"
    junk.write_text("not a photo")
    with pytest.raises(hw.ScanError, match=r"'.*notes.jpg': not a readable image"):
        hw.scan([junk], CHARSET, out)
    covered = page.copy()
    ImageDraw.Draw(covered).rectangle(
        [hw.PAGE_W - 200, hw.PAGE_H - 200, hw.PAGE_W, hw.PAGE_H], fill=255
    )
    thumb = tmp_path / "thumb.jpg"
    thumb.write_bytes(photograph(covered, TILTED))
    with pytest.raises(hw.ScanError, match=r"thumb.jpg': found 3 corner marks where"):
        hw.scan([thumb], CHARSET, out)
    other = tmp_path / "other.jpg"
    other.write_bytes(photograph(hw.template_pages("chars=一二三")[0], TILTED))
    with pytest.raises(hw.ScanError, match=r"other.jpg': a template page of another charset"):
        hw.scan([other], CHARSET, out)
    assert not out.exists()


def test_scan_cli_writes_a_folder_font_fit_reads(tmp_path, written):
    from keras_gan.data.fontpairs import folder_style

    photo = tmp_path / "page1.jpg"
    photo.write_bytes(photograph(written[0], TILTED))
    out = tmp_path / "mine"
    result = CliRunner().invoke(
        cli, ["font", "scan", str(photo), "--charset", CHARSET, "--out", str(out), "--json"]
    )
    assert result.exit_code == 0, result.output
    assert '"written": 22' in result.output and f"1-4 {EMPTY}" in result.output
    style = folder_style(str(out), 64)
    assert set(style.glyphs) == set(CHARS) - {EMPTY, CROSSED}
