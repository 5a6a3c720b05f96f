"""A completed font in a real browser: headless Chromium (Debian's chromium-headless-shell,
installed by scripts/setup.sh) opens the specimen page, which loads the WOFF2 through
`@font-face`; each generated character on the screenshot must look like the font's own
rendering of it, and not like the fallback font the browser would use otherwise."""

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PIL import ImageDraw
from PIL import ImageFont

from keras_gan.data.glyphs import select_fonts
from keras_gan.fonts.complete import complete_font
from keras_gan.fonts.specimen import COLUMNS
from keras_gan.fonts.specimen import HTML_CELL
from keras_gan.fonts.specimen import HTML_TOP
from tests.installed_fonts import HEI

BASE = Path(__file__).parents[2] / "saved_models" / "font2font-zh"
CHARS = "國龍鬱體靈讀書寫樂風"  # AR PL KaitiM GB lacks them: all generated
BROWSERS = ("chromium-headless-shell", "chromium", "chromium-browser")


@pytest.fixture(scope="module")
def browser():
    found = next((shutil.which(b) for b in BROWSERS if shutil.which(b)), None)
    assert found, f"no headless Chromium ({', '.join(BROWSERS)}): run scripts/setup.sh"
    return found


def screenshot(browser, page: Path, width: int, height: int) -> np.ndarray:
    shot = page.with_suffix(".shot.png")
    done = subprocess.run(
        [
            browser,
            "--no-sandbox",  # tests may run as root
            "--hide-scrollbars",
            f"--window-size={width},{height}",
            "--virtual-time-budget=10000",  # let the web font load before the picture
            f"--screenshot={shot}",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert shot.exists(), done.stderr[-2000:]
    return np.asarray(Image.open(shot).convert("L"))


def centred_ink(gray: np.ndarray, side: int = 2 * HTML_CELL) -> np.ndarray:
    """A glyph's ink, moved so that its centre of mass is the middle of a square:
    the browser and Pillow place glyphs differently, but draw them at the same size."""
    ink = gray < 160  # the generated glyphs are blue: about 64 in grey
    ys, xs = np.nonzero(ink)
    assert len(ys), "an empty cell"
    out = np.zeros((side, side), bool)
    out[ys - round(ys.mean()) + side // 2, xs - round(xs.mean()) + side // 2] = True
    return out


def drawn(font_file, char: str) -> np.ndarray:
    font = ImageFont.truetype(str(font_file), HTML_CELL * 3 // 4)
    image = Image.new("L", (HTML_CELL * 2, HTML_CELL * 2), 255)
    ImageDraw.Draw(image).text((HTML_CELL, HTML_CELL), char, font=font, fill=0, anchor="mm")
    return np.asarray(image)


def iou(a, b, reach: int = 3):
    """The best IoU of two ink masks over shifts of up to `reach` pixels (the centre of
    mass of anti-aliased ink is only good to a pixel or so)."""
    return max(
        (a & np.roll(b, (dy, dx), (0, 1))).sum() / (a | np.roll(b, (dy, dx), (0, 1))).sum()
        for dy in range(-reach, reach + 1)
        for dx in range(-reach, reach + 1)
    )


def test_the_browser_draws_the_generated_glyphs_from_the_web_font(tmp_path, browser, installed):
    done = complete_font(
        BASE, f"chars=永字八法天地玄黄{CHARS}", tmp_path / "Kai Web", like="AR PL KaitiM GB",
        formats=["woff2", "ttf"], log=lambda line: None,
    )  # fmt: skip
    assert sorted(done.generated) == sorted(CHARS)
    page = Path(done.report["specimen_html"])
    assert 'url("Kai%20Web.woff2") format("woff2")' in page.read_text()
    shot = screenshot(browser, page, COLUMNS * HTML_CELL, HTML_TOP + HTML_CELL)
    fallback = select_fonts([HEI])[0].path  # a CJK face the browser could fall back on
    for i, char in enumerate(CHARS, start=8):  # after the 8 of KaitiM's own glyphs
        x = i * HTML_CELL
        cell = centred_ink(shot[HTML_TOP : HTML_TOP + HTML_CELL, x : x + HTML_CELL])
        # measured: ours 0.81-0.92, the fallback face 0.21-0.31
        ours = iou(cell, centred_ink(drawn(tmp_path / "Kai Web.ttf", char)))
        other = iou(cell, centred_ink(drawn(fallback, char)))
        assert ours >= 0.75 and ours > other + 0.3, (char, ours, other)
