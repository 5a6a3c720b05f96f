"""Handwriting sheets: print a template, write in its boxes, photograph or scan it, get
one image per character (`kgan font template`, `kgan font scan`).

A page (A4 at `DPI`) has four corner marks (the top-left one hollow, so a photo's
orientation is known), a row of code cells between the top marks (the page number and
a hash of the charset, so a page from another charset is caught), and a grid of boxes,
each with its character printed small and light in a corner as a guide and its page
and box number in another. Scanning finds the marks, undoes rotation and perspective
(EXIF orientation first), flattens uneven light, cuts each box, blanks the printed
guide and number (their pixels are known from the template), and writes the ink as a
glyph image named by character, for `kgan font fit --target FOLDER`.
"""

from __future__ import annotations

import hashlib
import io
import itertools
import os
from dataclasses import dataclass
from dataclasses import field
from functools import cache
from pathlib import Path

import numpy as np

from keras_gan.config import ConfigError
from keras_gan.data.glyphs import parse_charset
from keras_gan.files import atomic_directory
from keras_gan.files import atomic_write_bytes

DPI = 200
PAGE_W, PAGE_H = 1654, 2339  # A4 at 200 dpi
MARK, MARK_INSET = 64, 80  # corner marks: side, distance from the paper's edge
COLUMNS, ROWS, BOX, GAP = 7, 9, 190, 14
GRID_LEFT = (PAGE_W - COLUMNS * BOX - (COLUMNS - 1) * GAP) // 2
GRID_TOP = 250
PER_PAGE = COLUMNS * ROWS
INSET = 8  # the part of a box kept: inside its printed border
GUIDE_SIZE, GUIDE_GREY, BORDER_GREY = 34, 190, 150
CODE_BITS, CODE_CELL = 24, 34  # page number (10 bits) and charset hash (14 bits)
CODE_LEFT, CODE_TOP = MARK_INSET + MARK + 60, MARK_INSET + (MARK - CODE_CELL) // 2
WHITE_POINT = 0.7  # of the paper's brightness; the guides are printed at 75% of white
EMPTY_INK, CROSSED_INK = 0.003, 0.40  # ink fractions of a box: nothing written; inked over


class ScanError(ValueError):
    """A photo or scan that cannot be read as a template page; names the file."""


def marks() -> list[tuple[float, float]]:
    """Centres of the corner marks, clockwise from the (hollow) top-left one, in
    OpenCV's coordinates (pixel centres at whole numbers: a mark drawn on pixels
    80..143 is centred at 111.5)."""
    low = MARK_INSET + MARK / 2 - 0.5
    right, bottom = PAGE_W - MARK_INSET - MARK / 2 - 0.5, PAGE_H - MARK_INSET - MARK / 2 - 0.5
    return [(low, low), (right, low), (right, bottom), (low, bottom)]


def box_origin(slot: int) -> tuple[int, int]:
    row, col = divmod(slot, COLUMNS)
    return GRID_LEFT + col * (BOX + GAP), GRID_TOP + row * (BOX + GAP)


def charset_hash(chars: str) -> int:
    return int.from_bytes(hashlib.sha256(chars.encode("utf-8")).digest()[:2], "big") & 0x3FFF


def _code(page: int, chars: str) -> list[int]:
    value = (page & 0x3FF) << 14 | charset_hash(chars)
    return [(value >> (CODE_BITS - 1 - i)) & 1 for i in range(CODE_BITS)]


@cache
def _fonts():
    """The one CJK face the sheet is printed in: guide, box number and title sizes."""
    from PIL import ImageFont

    from keras_gan.data.glyphs import select_fonts

    guide = select_fonts(["WenQuanYi Micro Hei"])[0]
    return (
        ImageFont.truetype(guide.path, GUIDE_SIZE, index=guide.index),
        ImageFont.truetype(guide.path, 18, index=guide.index),
        ImageFont.truetype(guide.path, 24, index=guide.index),
    )


def _draw_page(chars: str, page: int, pages: int, charset: str):
    """The page as a greyscale image, and the mask of what scanning blanks (guides,
    numbers) in page coordinates."""
    from PIL import Image
    from PIL import ImageDraw

    guide_font, small_font, title_font = _fonts()
    image = Image.new("L", (PAGE_W, PAGE_H), 255)
    mask = Image.new("L", (PAGE_W, PAGE_H), 0)
    draw, masked = ImageDraw.Draw(image), ImageDraw.Draw(mask)
    for i, (x, y) in enumerate(marks()):
        left, top = round(x + 0.5 - MARK / 2), round(y + 0.5 - MARK / 2)
        draw.rectangle([left, top, left + MARK - 1, top + MARK - 1], fill=0)
        if i == 0:  # hollow: the page's top-left, whatever way the photo is turned
            q = MARK // 4
            draw.rectangle([left + q, top + q, left + MARK - q - 1, top + MARK - q - 1], fill=255)
    for i, bit in enumerate(_code(page, chars)):
        x = CODE_LEFT + i * CODE_CELL
        box = [x + 3, CODE_TOP + 3, x + CODE_CELL - 4, CODE_TOP + CODE_CELL - 4]
        draw.rectangle(box, fill=0 if bit else None, outline=0, width=2)
    draw.text(
        (CODE_LEFT, CODE_TOP + CODE_CELL + 12),
        f"keras-gan handwriting sheet  ·  charset {_short(charset)}  ·  page {page + 1} of "
        f"{pages}  ·  "
        "write one character in each box, inside the border",
        font=title_font,
        fill=0,
    )
    first = page * PER_PAGE
    for slot, char in enumerate(chars[first : first + PER_PAGE]):
        x, y = box_origin(slot)
        draw.rectangle([x, y, x + BOX - 1, y + BOX - 1], outline=BORDER_GREY, width=2)
        for where, text, font, anchor in (
            ((x + INSET + 4, y + INSET + 2), char, guide_font, "la"),
            (
                (x + BOX - INSET - 4, y + BOX - INSET - 2),
                f"{page + 1}-{slot + 1}",
                small_font,
                "rd",
            ),
        ):
            draw.text(where, text, font=font, fill=GUIDE_GREY, anchor=anchor)
            masked.text(where, text, font=font, fill=255, anchor=anchor)
    return image, mask


def _short(text: str, limit: int = 24) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def template_pages(charset: str) -> list:
    """The template's pages (Pillow images) for every character of `charset`."""
    chars = parse_charset(charset)
    pages = _page_count(chars)
    return [_draw_page(chars, p, pages, charset)[0] for p in range(pages)]


def _page_count(chars: str) -> int:
    return max(1, -(-len(chars) // PER_PAGE))


def write_template(charset: str, out: str | os.PathLike) -> int:
    """Writes the template as a PDF (temporary file, then rename); returns its pages."""
    out = Path(out)
    if out.suffix.lower() != ".pdf":
        raise ConfigError(f"--out must name a .pdf file, got {str(out)!r}")
    pages = [p.convert("RGB") for p in template_pages(charset)]
    buffer = io.BytesIO()
    pages[0].save(buffer, "PDF", resolution=DPI, save_all=True, append_images=pages[1:])
    atomic_write_bytes(out, buffer.getvalue())
    return len(pages)


# ----------------------------------------------------------------------------- scanning


@dataclass
class ScanReport:
    written: dict = field(default_factory=dict)  # char -> path
    empty: list = field(default_factory=list)  # "page-box char"
    crossed_out: list = field(default_factory=list)
    pages: dict = field(default_factory=dict)  # photo -> page number (1-based)

    def to_dict(self) -> dict:
        return {
            "written": len(self.written),
            "empty": self.empty,
            "crossed_out": self.crossed_out,
            "pages": self.pages,
        }


def load_photo(path: str | os.PathLike) -> np.ndarray:
    """A photo or scan as greyscale uint8, turned upright by its EXIF orientation."""
    from keras_gan.data.folder import decode_image

    image, reason = decode_image(Path(path), "L")
    if image is None:
        raise ScanError(f"{str(path)!r}: {reason}")
    return np.asarray(image)


def find_marks(gray: np.ndarray, name: str) -> np.ndarray:
    """The four corner marks' centres in the photo, in page order (clockwise from the
    hollow top-left one)."""
    import cv2

    scale = 1600 / max(gray.shape)
    small = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    binary = cv2.adaptiveThreshold(
        small, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, 51, 15
    )
    contours, _ = cv2.findContours(binary, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
    side = min(small.shape)
    found = []
    for contour in contours:
        area = cv2.contourArea(contour)
        if not (0.015 * side) ** 2 < area < (0.12 * side) ** 2:
            continue
        hull = cv2.convexHull(contour)
        quad = cv2.approxPolyDP(hull, 0.08 * cv2.arcLength(hull, True), True)
        (_, _), (w, h), _ = cv2.minAreaRect(contour)
        if len(quad) != 4 or max(w, h) > 1.4 * min(w, h):
            continue
        filled = np.zeros_like(binary)
        cv2.drawContours(filled, [hull], -1, 255, -1)
        ink = binary[filled > 0].mean() / 255
        if ink < 0.6:  # an outlined box or a letter, not a mark
            continue
        moments = cv2.moments(hull)
        cx, cy = moments["m10"] / moments["m00"], moments["m01"] / moments["m00"]
        hollow = binary[int(cy), int(cx)] == 0
        # back to the photo's pixels (centres at whole numbers in both)
        found.append(((cx + 0.5) / scale - 0.5, (cy + 0.5) / scale - 0.5, hollow, area))
    # duplicates (the hollow mark's inner edge is a contour too) merge by position
    merged: list = []
    for mark in sorted(found, key=lambda m: -m[3]):
        if all(np.hypot(mark[0] - m[0], mark[1] - m[1]) > 0.02 * max(gray.shape) for m in merged):
            merged.append(mark)
    if len(merged) < 4:
        raise ScanError(
            f"{name}: found {len(merged)} corner marks where a template page has 4; "
            "photograph the whole page, marks included"
        )
    # The page's marks span the largest quadrilateral (a bold written glyph may look
    # like a mark, but lies inside it).
    corners = max(itertools.combinations(merged, 4), key=_area)
    if sum(m[2] for m in corners) != 1:
        raise ScanError(
            f"{name}: {sum(m[2] for m in corners)} of the 4 corner marks are hollow where a "
            "template page has one (its top-left); is this a keras-gan sheet?"
        )
    centre = np.mean([m[:2] for m in corners], axis=0)
    corners = sorted(corners, key=lambda m: np.arctan2(m[1] - centre[1], m[0] - centre[0]))
    start = next(i for i, m in enumerate(corners) if m[2])
    ordered = corners[start:] + corners[:start]  # clockwise from the hollow one
    return np.array([m[:2] for m in ordered], np.float32)


def _area(quad) -> float:
    """Area of the convex hull of four points (x, y, ...)."""
    import cv2

    return cv2.contourArea(cv2.convexHull(np.array([m[:2] for m in quad], np.float32)))


def rectify(gray: np.ndarray, name: str) -> np.ndarray:
    """The photo mapped onto the template page, light flattened: paper 255, ink dark."""
    import cv2

    corners = find_marks(gray, name)
    transform = cv2.getPerspectiveTransform(corners, np.array(marks(), np.float32))
    page = cv2.warpPerspective(
        gray, transform, (PAGE_W, PAGE_H), flags=cv2.INTER_LINEAR, borderValue=255
    )
    # Uneven light: divide by the paper's brightness, estimated by closing away the
    # ink (dark strokes narrower than the kernel) and blurring.
    paper = cv2.morphologyEx(page, cv2.MORPH_CLOSE, np.ones((31, 31), np.uint8))
    paper = cv2.GaussianBlur(paper, (0, 0), 15).astype(np.float32)
    flat = np.clip(page.astype(np.float32) / np.maximum(paper, 1) * 255, 0, 255)
    return flat.astype(np.uint8)


def read_code(page: np.ndarray) -> list[int]:
    bits = []
    for i in range(CODE_BITS):
        x = CODE_LEFT + i * CODE_CELL
        cell = page[CODE_TOP + 9 : CODE_TOP + CODE_CELL - 9, x + 9 : x + CODE_CELL - 9]
        bits.append(int(cell.mean() < 128))
    return bits


def scan(photos: list[str | os.PathLike], charset: str, out: str | os.PathLike) -> ScanReport:
    """Reads filled template pages (any order, any number) into `out`: one PNG per
    written box, named by character; the folder appears whole or not at all."""
    from PIL import Image

    chars = parse_charset(charset)
    pages_total = _page_count(chars)
    report = ScanReport()
    cells: dict[str, np.ndarray] = {}
    for photo in photos:
        name = repr(str(photo))
        page = rectify(load_photo(photo), name)
        bits = read_code(page)
        value = int("".join(map(str, bits)), 2)
        number, hashed = value >> 14, value & 0x3FFF
        if hashed != charset_hash(chars):
            raise ScanError(
                f"{name}: a template page of another charset (code {hashed:04x}, "
                f"{charset!r} has {charset_hash(chars):04x}); scan it with its own --charset"
            )
        if number >= pages_total:
            raise ScanError(f"{name}: page {number + 1} of a {pages_total}-page template")
        report.pages[str(photo)] = number + 1
        _, mask = _draw_page(chars, number, pages_total, charset)
        guide = np.asarray(mask.filter(_grow())) > 0
        first = number * PER_PAGE
        for slot, char in enumerate(chars[first : first + PER_PAGE]):
            x, y = box_origin(slot)
            area = (slice(y + INSET, y + BOX - INSET), slice(x + INSET, x + BOX - INSET))
            cell = page[area].copy()
            ink = cell < 128  # the printed guide is light grey: not ink, but not paper
            cell[guide[area]] = 255  # so it is blanked in the image written
            label = f"{number + 1}-{slot + 1} {char}"
            if ink.mean() < EMPTY_INK:
                report.empty.append(label)
            elif ink.mean() > CROSSED_INK or _crossed(ink):
                report.crossed_out.append(label)
            else:
                cells[char] = _normalise(cell)
    with atomic_directory(out, replace=True) as tmp:
        for char, cell in cells.items():
            path = tmp / f"U+{ord(char):04X}.png"
            Image.fromarray(cell).save(path)
            report.written[char] = Path(out) / path.name
    return report


def _crossed(ink: np.ndarray) -> bool:
    """Struck out with an X: two long straight strokes, one along each diagonal."""
    import cv2

    side = ink.shape[0]
    lines = cv2.HoughLinesP(
        ink.astype(np.uint8) * 255, 1, np.pi / 180, threshold=side // 2,
        minLineLength=int(0.7 * side), maxLineGap=8,
    )  # fmt: skip
    slopes = set()
    for x1, y1, x2, y2 in lines.reshape(-1, 4) if lines is not None else []:
        angle = np.degrees(np.arctan2(y2 - y1, x2 - x1)) % 180
        if 30 <= angle <= 60:
            slopes.add("down")
        elif 120 <= angle <= 150:
            slopes.add("up")
    return slopes == {"down", "up"}


def _grow():
    from PIL import ImageFilter

    return ImageFilter.MaxFilter(9)  # the printed guide's soft edge, and misregistration


def _normalise(cell: np.ndarray) -> np.ndarray:
    """Ink black on white paper: the darkest ink becomes 0 and the paper 255 (so a
    stroke keeps its width at half grey); anything lighter than `WHITE_POINT` of the
    paper (grain, a trace of the printed guide) becomes paper."""
    darkest, paper = float(np.percentile(cell, 0.5)), float(np.median(cell))
    scaled = (cell.astype(np.float32) - darkest) / max(paper - darkest, 1) * 255
    scaled[cell > WHITE_POINT * paper] = 255
    return np.clip(scaled, 0, 255).astype(np.uint8)
