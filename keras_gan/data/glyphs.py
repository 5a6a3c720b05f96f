"""Glyph data sets rendered from real fonts: `glyphs:CHARSET[?fonts=A,B]`.

Fonts come from fontconfig (`fc-list`), the usual font folders, `KGAN_FONT_PATH`
(folders or files, `:`-separated) and explicit paths; every face of a `.ttc`
collection counts. A (character, face) pair enters the data set only if the
face's cmap maps the character and its render has ink and differs from the
face's "no glyph" box; everything skipped is counted by reason.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import os
import shutil
import subprocess
import unicodedata
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image
from PIL import ImageDraw
from PIL import ImageFont

from keras_gan.data.base import DataError
from keras_gan.data.base import ImageData
from keras_gan.files import atomic_write_bytes
from keras_gan.files import cache_root
from keras_gan.progress import track
from keras_gan.registry import DATASETS

RENDER_VERSION = 1  # bump when rendering changes, so cached sets are rebuilt
SUPERSAMPLE = 4
EM_FRACTION = 0.8  # the em box fills 80% of the canvas unless a glyph would not fit
FONT_SUFFIXES = (".ttf", ".otf", ".ttc", ".otc")
FONT_FOLDERS = (
    "/usr/share/fonts",
    "/usr/local/share/fonts",
    "~/.local/share/fonts",
    "~/.fonts",
    "/Library/Fonts",
    "/System/Library/Fonts",
    "C:/Windows/Fonts",
)
CJK_HELP = (
    "install a CJK font, e.g. `sudo apt-get install fonts-wqy-microhei fonts-arphic-uming` "
    "on Debian/Ubuntu, or pass one with fonts=/path/to/font.ttf"
)


@dataclass(frozen=True)
class FontFace:
    """One face of a font file (a `.ttc` holds several).

    Args:
        path: the font file.
        index: the face index inside the file.
        name: the face's full name from its name table ("AR PL UMing CN Light").
    """

    path: str
    index: int
    name: str

    @property
    def key(self) -> str:
        return f"{self.path}#{self.index}"

    @functools.cached_property
    def codepoints(self) -> frozenset[int]:
        return _read_cmap(self.path, self.index)

    @functools.cached_property
    def family(self) -> str:
        """The family its weights and slants share (name ID 16, else 1): "Noto Serif CJK
        SC" for "Noto Serif CJK SC Black"."""
        from fontTools.ttLib import TTFont

        font = TTFont(self.path, fontNumber=self.index, lazy=True)
        names = font["name"]
        family = names.getDebugName(16) or names.getDebugName(1) or self.name
        font.close()
        return str(family)

    def covers(self, char: str) -> bool:
        return ord(char) in self.codepoints


# ----------------------------------------------------------------------------- charsets


def gb2312_level1() -> str:
    """The 3,755 level-1 hanzi of GB 2312 (rows 16-55), decoded from the codec."""
    return _gb2312_rows(0xB0, 0xD8)


def gb2312() -> str:
    """All 6,763 hanzi of GB 2312: level 1, then level 2 (rows 56-87)."""
    return _gb2312_rows(0xB0, 0xF8)


def big5_level1() -> str:
    """The 5,401 frequent hanzi of Big5 (traditional; lead bytes 0xA4-0xC6)."""
    chars = []
    for lead in range(0xA4, 0xC7):
        for trail in (*range(0x40, 0x7F), *range(0xA1, 0xFF)):
            try:
                char = bytes([lead, trail]).decode("big5")
            except UnicodeDecodeError:
                continue
            if is_cjk(char):  # 0xC6 also holds kana after its last hanzi
                chars.append(char)
    return "".join(chars)


def _gb2312_rows(first: int, stop: int) -> str:
    chars = []
    for row in range(first, stop):
        for cell in range(0xA1, 0xFF):
            try:
                chars.append(bytes([row, cell]).decode("gb2312"))
            except UnicodeDecodeError:
                pass  # row 55 ends at cell 89
    return "".join(chars)


LATIN = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


def common_hanzi(count: int = 120) -> str:
    text = (Path(__file__).parent / "common_hanzi.txt").read_text(encoding="utf-8").strip()
    return "".join(dict.fromkeys(text))[:count]


def latin1() -> str:
    """Printable ASCII and Latin-1 letters and signs (no spaces, no soft hyphen)."""
    codes = [*range(0x21, 0x7F), *range(0xA1, 0x100)]
    return "".join(chr(c) for c in codes if c != 0xAD)


def european() -> str:
    """Latin-1, then the letters of Latin Extended-A, Greek and basic Cyrillic: enough
    letters that a held-out tenth of them (`fontpairs`) means something."""
    extended = range(0x100, 0x180)
    greek = [c for c in range(0x391, 0x3CA) if unicodedata.category(chr(c)).startswith("L")]
    cyrillic = range(0x400, 0x460)
    return latin1() + "".join(chr(c) for c in (*extended, *greek, *cyrillic))


CHARSETS = {
    "latin": lambda: LATIN,
    "latin-1": latin1,
    "european": european,
    "letters": lambda: LATIN[:52],
    "gb2312-1": gb2312_level1,
    "gb2312": gb2312,
    "big5-1": big5_level1,
    "common": common_hanzi,
    # The default job: common hanzi plus Latin letters (see README).
    "default": lambda: common_hanzi() + LATIN[:52],
}


def parse_charset(spec: str) -> str:
    """`latin`, `latin-1`, `european`, `letters`, `gb2312-1`, `gb2312`, `big5-1`, `common`,
    `default` or
    `chars=永字八法`, in order, deduplicated."""
    if spec.startswith("chars="):
        chars = spec[len("chars=") :]
    elif spec in CHARSETS:
        chars = CHARSETS[spec]()
    else:
        raise DataError(
            f"unknown charset {spec!r}; expected one of {', '.join(CHARSETS)} or chars=TEXT"
        )
    chars = "".join(dict.fromkeys(c for c in chars if not c.isspace()))
    if not chars:
        raise DataError(f"charset {spec!r} is empty: it names no characters besides spaces")
    return chars


def is_cjk(char: str) -> bool:
    return unicodedata.name(char, "").startswith(("CJK UNIFIED", "CJK COMPATIBILITY"))


# ----------------------------------------------------------------------------- fonts


def find_fonts(extra: tuple[str, ...] = ()) -> list[FontFace]:
    """All font faces on this machine (fontconfig, font folders, `KGAN_FONT_PATH`, `extra`)."""
    files: set[str] = set()
    if shutil.which("fc-list"):
        out = subprocess.run(
            ["fc-list", "--format", "%{file}\n"], capture_output=True, text=True, check=False
        ).stdout
        files.update(line for line in out.splitlines() if line)
    roots = [os.path.expanduser(p) for p in FONT_FOLDERS]
    roots += [p for p in os.environ.get("KGAN_FONT_PATH", "").split(os.pathsep) if p]
    roots += list(extra)
    for root in roots:
        if os.path.isfile(root):
            files.add(root)
        elif os.path.isdir(root):
            for dirpath, _, names in os.walk(root, followlinks=False):
                files.update(
                    os.path.join(dirpath, n) for n in names if n.lower().endswith(FONT_SUFFIXES)
                )
    faces = []
    for path in sorted(os.path.realpath(f) for f in files if f.lower().endswith(FONT_SUFFIXES)):
        try:
            faces.extend(faces_of(path))
        except DataError:
            continue  # a broken file in a system folder must not stop discovery
    return sorted(set(faces), key=lambda f: (f.name.lower(), f.key))


def faces_of(path: str) -> list[FontFace]:
    """Every face in one font file; a clear error if it is not a readable font."""
    from fontTools.ttLib import TTCollection
    from fontTools.ttLib import TTFont

    if not os.path.isfile(path):
        raise DataError(f"font file {path!r} does not exist")
    try:
        with open(path, "rb") as f:
            is_collection = f.read(4) == b"ttcf"
        count = len(TTCollection(path, lazy=True).fonts) if is_collection else 1
        faces = []
        for index in range(count):
            font = TTFont(path, fontNumber=index, lazy=True)
            name = font["name"].getBestFullName() or Path(path).stem
            faces.append(FontFace(path=path, index=index, name=str(name)))
            font.close()
        return faces
    except Exception as e:  # fontTools raises many types for damaged files
        raise DataError(f"font file {path!r} could not be read as TrueType/OpenType: {e}") from None


@functools.lru_cache(maxsize=None)
def _read_cmap(path: str, index: int) -> frozenset[int]:
    from fontTools.ttLib import TTFont

    try:
        font = TTFont(path, fontNumber=index, lazy=True)
        cmap = font.getBestCmap() or {}
        font.close()
    except Exception as e:
        raise DataError(f"font {path!r} (face {index}) has no readable cmap: {e}") from None
    return frozenset(cmap)


def select_fonts(tokens: list[str] | None) -> list[FontFace]:
    """Faces named by `tokens` (file paths, or case-insensitive parts of face names)."""
    if not tokens:
        return find_fonts()
    selected: list[FontFace] = []
    available = None
    for token in tokens:
        if os.sep in token or token.lower().endswith(FONT_SUFFIXES):
            selected.extend(faces_of(os.path.realpath(os.path.expanduser(token))))
            continue
        available = available if available is not None else find_fonts()
        # An exact face name picks that face alone ("WenQuanYi Micro Hei", not its Mono).
        matches = _named(available, token)
        if not matches:
            names = sorted({f.name for f in available})
            raise DataError(
                f"no font face matches {token!r}; faces found: "
                + (", ".join(names[:20]) + (" ..." if len(names) > 20 else "") or "none")
            )
        selected.extend(matches)
    return list(dict.fromkeys(selected))


def one_face(token: str) -> FontFace:
    """The one face a style token names: a font file's first face (`PATH#N` or
    `PATH#NAME` picks another face of a collection), or a face name: exact, else the
    only face whose name contains it."""
    path, _, pick = token.partition("#")
    if os.sep in path or path.lower().endswith(FONT_SUFFIXES):
        faces = faces_of(os.path.realpath(os.path.expanduser(path)))
        if not pick:
            return faces[0]
        chosen = [f for i, f in enumerate(faces) if pick == str(i)] or _named(faces, pick)
        if len(chosen) != 1:
            listed = ", ".join(f"#{i} {f.name}" for i, f in enumerate(faces))
            raise DataError(f"{token!r}: no single face {pick!r} in the file; its faces: {listed}")
        return chosen[0]
    matches = select_fonts([token])
    if len(matches) > 1:
        raise DataError(
            f"{token!r} names {len(matches)} faces ({', '.join(f.name for f in matches)}); "
            "a style is one face: give its full name, or a font file (PATH#N picks a face "
            "of a collection)"
        )
    return matches[0]


def _named(faces: list[FontFace], name: str) -> list[FontFace]:
    """The faces called `name` (case-insensitive), else those whose names contain it."""
    name = name.lower()
    return [f for f in faces if f.name.lower() == name] or [
        f for f in faces if name in f.name.lower()
    ]


# ----------------------------------------------------------------------------- rendering


class GlyphRenderer:
    """Renders one face's glyphs to `size`x`size` grayscale, consistently.

    All glyphs of a face share one scale (the em box fills 80% of the canvas, shrunk
    only if the face's largest glyph of `chars` would not fit) and one centre (the
    middle of the advance width and of ascender..descender), so relative sizes and
    baselines survive: 'o' stays smaller than 'O'.
    """

    def __init__(self, face: FontFace, size: int, chars: str):
        self.face, self.size = face, size
        self.canvas = size * SUPERSAMPLE
        em = int(self.canvas * EM_FRACTION)
        font = ImageFont.truetype(face.path, em, index=face.index)
        extent = 0.0
        for char in chars:
            left, top, right, bottom = font.getbbox(char, anchor="mm")
            extent = max(extent, -left, right, -top, bottom)
        limit = self.canvas * 0.48
        if extent > limit:
            em = int(em * limit / extent)
            font = ImageFont.truetype(face.path, em, index=face.index)
        self.font = font
        # U+10FFFD is a private-use code point no real font maps: its render is the
        # face's "no glyph" box (or blank), which must never enter a data set.
        self.notdef = self._ink("\U0010fffd")

    def _ink(self, char: str) -> np.ndarray:
        image = Image.new("L", (self.canvas, self.canvas), 0)
        ImageDraw.Draw(image).text(
            (self.canvas / 2, self.canvas / 2), char, font=self.font, fill=255, anchor="mm"
        )
        return np.asarray(image.resize((self.size, self.size), Image.Resampling.BOX))

    def render(self, char: str) -> tuple[np.ndarray | None, str]:
        """Returns (paper image: dark ink on white, uint8 HxW) or (None, skip reason)."""
        if not self.face.covers(char):
            return None, "not in cmap"
        ink = self._ink(char)
        if ink.max() < 32:
            return None, "blank render"
        # Near-equal, not equal: the same outline under another glyph id can land a
        # fraction of a pixel differently (seen with FreeType).
        if self.notdef.max() >= 32 and np.abs(ink.astype(np.int16) - self.notdef).mean() < 2.0:
            return None, "no-glyph box"
        return 255 - ink, ""


# ----------------------------------------------------------------------------- data sets


def render_glyphs(chars: str, faces: list[FontFace], image_size: int) -> ImageData:
    """Renders every covered (character, face) pair; cached on disk by content key."""
    if not faces:
        raise DataError(
            "no fonts found (looked at fontconfig, "
            + ", ".join(FONT_FOLDERS[:4])
            + " and KGAN_FONT_PATH); install fonts, e.g. `sudo apt-get install fonts-dejavu-core "
            "fonts-wqy-microhei`, or pass fonts=/path/to/font.ttf"
        )
    cache_file = _cache_path(chars, faces, image_size)
    if cache_file.exists():
        try:
            return _load_cache(cache_file)
        except Exception:
            pass  # a damaged cache file is rebuilt below
    images, labels, styles = [], [], []
    skipped: dict[str, int] = {}
    used_faces: list[FontFace] = []
    reference: dict[int, np.ndarray] = {}
    # Faces that cover more of the charset come first, so the reference glyph of a
    # character is drawn by the most complete font that has it.
    ranked = sorted(faces, key=lambda f: (-sum(map(f.covers, chars)), f.name.lower(), f.key))
    for face in track(ranked, f"rendering {len(chars)} characters", unit="fonts"):
        renderer = GlyphRenderer(face, image_size, chars)
        rendered = 0
        for char_id, char in enumerate(chars):
            image, reason = renderer.render(char)
            if image is None:
                skipped[reason] = skipped.get(reason, 0) + 1
                continue
            if not rendered:
                used_faces.append(face)
            rendered += 1
            images.append(image)
            labels.append(char_id)
            styles.append(len(used_faces) - 1)
            reference.setdefault(char_id, image)
    missing = [c for i, c in enumerate(chars) if i not in reference]
    if missing:
        help_text = CJK_HELP if any(map(is_cjk, missing)) else "pass a font that has them"
        raise DataError(
            f"no font found covers {len(missing)} of the {len(chars)} characters "
            f"(e.g. {''.join(missing[:10])!r}): {help_text}"
        )
    data = ImageData(
        images=np.stack(images)[..., None],
        labels=np.asarray(labels, np.int32),
        label_names=list(chars),
        reference_images=np.stack([reference[i] for i in range(len(chars))])[..., None],
        styles=np.asarray(styles, np.int32),
        style_names=[f.name for f in used_faces],
        report={"skipped": skipped, "faces": len(used_faces), "pairs": len(images)},
    )
    _save_cache(cache_file, data)
    return data


@DATASETS.register("glyphs")
def load_glyphs(rest: str, image_size: int, channels: int) -> ImageData:
    """`glyphs:CHARSET[?fonts=A,B]` where CHARSET is a name or `chars=TEXT`."""
    charset, _, query = rest.partition("?")
    params = urllib.parse.parse_qs(query, keep_blank_values=True)
    unknown = sorted(set(params) - {"fonts"})
    if unknown:
        raise DataError(f"glyphs spec {rest!r}: unknown option {unknown[0]!r}; valid: fonts")
    tokens = [t for v in params.get("fonts", []) for t in v.split(",") if t.strip()]
    chars = parse_charset(urllib.parse.unquote(charset))
    faces = select_fonts([t.strip() for t in tokens])
    if not tokens:
        faces = [f for f in faces if any(map(f.covers, chars))]
    data = render_glyphs(chars, faces, image_size)
    if channels == 3:
        data.images = np.repeat(data.images, 3, axis=-1)
        data.reference_images = np.repeat(data.reference_images, 3, axis=-1)
    return data


def _cache_path(chars: str, faces: list[FontFace], image_size: int) -> Path:
    stats = [(f.path, f.index, os.path.getsize(f.path), os.stat(f.path).st_mtime_ns) for f in faces]
    key = json.dumps([RENDER_VERSION, chars, sorted(stats), image_size], ensure_ascii=False)
    digest = hashlib.sha256(key.encode()).hexdigest()[:20]
    return cache_root() / "glyphs" / f"{digest}.npz"


def _save_cache(path: Path, data: ImageData) -> None:
    meta = {k: getattr(data, k) for k in ("label_names", "style_names", "report")}
    buffer = io.BytesIO()
    np.savez(
        buffer,
        images=data.images,
        labels=data.labels,
        reference_images=data.reference_images,
        styles=data.styles,
        meta=np.frombuffer(json.dumps(meta, ensure_ascii=False).encode(), np.uint8),
    )
    atomic_write_bytes(path, buffer.getvalue())  # readers see the old file or the whole new one


def _load_cache(path: Path) -> ImageData:
    with np.load(path) as f:
        meta = json.loads(f["meta"].tobytes().decode())
        arrays = {k: f[k] for k in ("images", "labels", "reference_images", "styles")}
    return ImageData(**arrays, **meta)


def font_coverage(chars: str, faces: list[FontFace]) -> list[dict]:
    """What each face covers of `chars` (by cmap), for `kgan data fonts`."""
    rows = []
    for face in faces:
        try:
            covered = sum(map(face.covers, chars))
        except DataError as e:
            rows.append(
                {"name": face.name, "path": face.path, "index": face.index, "error": str(e)}
            )
            continue
        rows.append(
            {
                "name": face.name,
                "path": face.path,
                "index": face.index,
                "covered": covered,
                "total": len(chars),
                "cjk": any(is_cjk(chr(cp)) for cp in (0x6C38, 0x4E00) if cp in face.codepoints),
            }
        )
    return rows
