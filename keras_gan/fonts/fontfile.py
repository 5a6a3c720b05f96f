"""Outlines to font files as designers, browsers and validators take them.

Formats: TrueType (`ttf`, quadratic, autohinted where ttfautohint can), OpenType/CFF
(`otf`, potrace's cubic curves kept), WOFF2 (the TrueType font for the web) and UFO 3
sources (a folder that FontForge, Glyphs and fontmake open). Every binary passes the
OpenType Sanitizer and fontbakery's universal profile (tests/fonts/test_fontfile.py).

Contours arrive in TrueType's direction (outer clockwise, y up); CFF and UFO want
the PostScript direction, so they are reversed on the way in.
"""

from __future__ import annotations

import io
import os
import unicodedata
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import Callable

from keras_gan.config import ConfigError
from keras_gan.files import atomic_directory
from keras_gan.files import atomic_write_bytes
from keras_gan.fonts.outline import ASCENT
from keras_gan.fonts.outline import DESCENT
from keras_gan.fonts.outline import UNITS_PER_EM
from keras_gan.fonts.outline import FontGlyphCopier
from keras_gan.fonts.outline import Glyph
from keras_gan.fonts.outline import draw_glyph
from keras_gan.fonts.outline import glyph_name
from keras_gan.fonts.outline import is_full_width

# cu2qu's largest distance from a cubic to its quadratic splines, in font units: 5 is
# a tenth of a pixel at 50 px per em, and a quarter fewer points than 1.
CU2QU_MAX_ERR = 5.0
FORMATS = {"ttf": ".ttf", "otf": ".otf", "woff2": ".woff2", "ufo": ".ufo"}
VERSION = (1, 0)
VENDOR = "NONE"  # no registered vendor: the value ufo2ft writes by default
# Lines 1.2 em apart: the typo/hhea ascender and descender are the em box's (one em
# apart, with the glyph centre in their middle) plus half the leading on each side;
# no line gap, as fontbakery and browsers prefer.
LEADING = 200
LINE_ASCENT, LINE_DESCENT = ASCENT + LEADING // 2, DESCENT - LEADING // 2
# OS/2 fsSelection: REGULAR, and USE_TYPO_METRICS (line spacing from the typo metrics).
FS_REGULAR, FS_USE_TYPO_METRICS = 1 << 6, 1 << 7
# OS/2 code page bits of the East-Asian code pages, by Python codec.
CJK_CODE_PAGES = {"shift_jis": 17, "gb2312": 18, "euc_kr": 19, "big5": 20}
# gasp for unhinted TrueType: grid-fit, grey and symmetric smoothing at every size.
GASP_ALL = 0x000F
# head.flags bit 3: sizes rounded to whole pixels, which TrueType hints assume.
HEAD_INTEGER_PPEM = 1 << 3
# prep of an unhinted TrueType font: smart dropout control (SCANCTRL 511, SCANTYPE 4),
# so thin strokes do not vanish at small sizes (what fontbakery's smart_dropout asks).
SMART_DROPOUT = "PUSHW[ ] 511 SCANCTRL[ ] PUSHB[ ] 4 SCANTYPE[ ]"


@dataclass
class Naming:
    """The name table's words. Copyright and licence belong to the font whose
    outlines are copied into the new one (empty when there is none)."""

    family: str
    description: str
    copyright: str = ""
    license: str = ""
    license_url: str = ""

    @property
    def ps_name(self) -> str:
        ascii_family = "".join(c for c in self.family if c.isascii() and c.isalnum())
        return f"{ascii_family[:28] or 'KganFont'}-Regular"


def naming(family: str, counts: dict, copier: FontGlyphCopier | None, style: str) -> Naming:
    """Names for a completed font: how many glyphs keras-gan generated, and the
    copyright and licence of the target font whose outlines are kept."""
    words = {"font": "copied from the font", "traced sample": "traced from sample images"}
    parts = [f"{n} {words.get(source, source)}" for source, n in sorted(counts.items())]
    description = (
        f"Completed by keras-gan font2font{f' in the style of {style}' if style else ''}; "
        f"glyphs: {', '.join(parts)} (generated: drawn by the model, then traced)."
    )
    if copier is None:
        return Naming(family, description)
    names = copier.font["name"]

    def record(name_id: int) -> str:
        found = names.getDebugName(name_id)
        return found.strip() if found else ""  # fontbakery: no trailing spaces

    return Naming(family, description, record(0), record(13), record(14))


@dataclass
class _Entry:
    name: str
    code: int | None
    advance: int
    draw: Callable  # draw(pen): the outline, TrueType direction
    source: str = ""
    full_width: bool = False


@dataclass
class FontParts:
    """Every glyph of a font to write, in order, with its advance and drawing."""

    entries: list = field(default_factory=list)

    @property
    def codes(self) -> set:
        return {e.code for e in self.entries if e.code is not None}

    def counts(self) -> dict:
        counts: dict[str, int] = {}
        for entry in self.entries:
            if entry.source:
                counts[entry.source] = counts.get(entry.source, 0) + 1
        return counts


def collect(
    glyphs: dict[str, Glyph], copier: FontGlyphCopier | None = None, copied: str = ""
) -> FontParts:
    """The glyphs of the new font: .notdef, `copied` characters drawn from `copier`'s
    font, the traced `glyphs`, then the spaces the font lacks (U+0020 and U+00A0,
    half an em wide in a font of full-width glyphs, else a third)."""
    parts = FontParts([_Entry(".notdef", None, UNITS_PER_EM // 2, _draw_notdef)])
    for char in list(copied) + [c for c in glyphs if c not in copied]:
        full = is_full_width(char)
        if char in copied and copier is not None:
            advance = copier.advance(char)
            draw, source = (lambda pen, c=char: copier.draw(c, pen)), "font"
        else:
            glyph = glyphs[char]
            advance, source = glyph.advance, glyph.source
            draw = lambda pen, g=glyph: draw_glyph(g, pen)  # noqa: E731
        parts.entries.append(_Entry(glyph_name(char), ord(char), advance, draw, source, full))
    widths = {e.advance for e in parts.entries[1:]}
    space = UNITS_PER_EM // 2 if widths <= {UNITS_PER_EM} else UNITS_PER_EM // 3
    for code, name in ((0x20, "space"), (0xA0, "uni00A0")):
        if code not in parts.codes:
            parts.entries.append(_Entry(name, code, space, lambda pen: None))
    return parts


def _draw_notdef(pen) -> None:
    """The usual hollow box: outer clockwise, inner counter-clockwise."""
    for contour in (
        [(50, DESCENT), (50, ASCENT), (450, ASCENT), (450, DESCENT)],
        [(100, DESCENT + 50), (400, DESCENT + 50), (400, ASCENT - 50), (100, ASCENT - 50)],
    ):
        pen.moveTo(contour[0])
        for point in contour[1:]:
            pen.lineTo(point)
        pen.closePath()


def code_page_bits(codes: set) -> set:
    """OS/2 code page bits for the characters `codes`: FontForge's rules (as fontTools
    has them: Latin 1 needs all of ASCII, and so on) and, for Han characters, the
    East-Asian code pages that encode most of them (GB 2312 for simplified Chinese);
    a font of a few Latin letters that cp1252 encodes gets Latin 1."""
    from fontTools.ttLib.tables.O_S_2f_2 import calcCodePageRanges

    bits = set(calcCodePageRanges(codes))
    han = [chr(c) for c in codes if unicodedata.name(chr(c), "").startswith("CJK UNIFIED")]
    for codec, bit in CJK_CODE_PAGES.items():
        if han and sum(_encodes(c, codec) for c in han) * 2 > len(han):
            bits.add(bit)
    if not bits and all(_encodes(chr(c), "cp1252") for c in codes):
        bits.add(0)
    return bits


def _encodes(char: str, codec: str) -> bool:
    try:
        char.encode(codec)
    except UnicodeEncodeError:
        return False
    return True


def build(parts: FontParts, names: Naming, cff: bool = False):
    """The font (a fontTools TTFont): TrueType outlines, or CFF with `cff`."""
    from fontTools.fontBuilder import FontBuilder
    from fontTools.pens.boundsPen import ControlBoundsPen
    from fontTools.pens.cu2quPen import Cu2QuPen
    from fontTools.pens.reverseContourPen import ReverseContourPen
    from fontTools.pens.roundingPen import RoundingPen
    from fontTools.pens.t2CharStringPen import T2CharStringPen
    from fontTools.pens.ttGlyphPen import TTGlyphPen

    order = [e.name for e in parts.entries]
    outlines, bounds, metrics = {}, {}, {}
    for entry in parts.entries:
        # Bounds of the outline as stored (after cu2qu): TrueType places a glyph by
        # its left side bearing, which must be the stored outline's xMin.
        if cff:
            pen = T2CharStringPen(entry.advance, None)
            entry.draw(ReverseContourPen(pen))
            outlines[entry.name] = pen.getCharString()
            bounds_pen = ControlBoundsPen(None)  # the same cubic curves, rounded
            entry.draw(RoundingPen(bounds_pen))
            box = bounds_pen.bounds
        else:
            pen = TTGlyphPen(None)
            entry.draw(Cu2QuPen(pen, max_err=CU2QU_MAX_ERR, reverse_direction=False))
            outline = outlines[entry.name] = pen.glyph()
            outline.recalcBounds(None)
            box = (
                (outline.xMin, outline.yMin, outline.xMax, outline.yMax)
                if outline.numberOfContours
                else None
            )
        bounds[entry.name] = box  # None: no ink
        metrics[entry.name] = (entry.advance, round(box[0]) if box else 0)
    inked = [b for b in bounds.values() if b]
    y_max = max(round(b[3]) for b in inked) if inked else 0
    y_min = min(round(b[1]) for b in inked) if inked else 0

    builder = FontBuilder(UNITS_PER_EM, isTTF=not cff)
    builder.setupGlyphOrder(order)
    cmap = {e.code: e.name for e in parts.entries if e.code is not None}
    builder.setupCharacterMap(cmap)
    if cff:
        builder.setupCFF(
            names.ps_name,
            {"FullName": f"{names.family} Regular", "FamilyName": names.family},
            outlines,
            {},
        )
    else:
        builder.setupGlyf(outlines)
    builder.setupHorizontalMetrics(metrics)
    builder.setupHorizontalHeader(ascent=LINE_ASCENT, descent=LINE_DESCENT, lineGap=0)
    builder.setupNameTable(_name_strings(names), mac=False)
    widths = {e.advance for e in parts.entries[1:] if _printable(e.code)}
    monospaced = len(widths) <= 2  # fixed or duospaced (half and full width), as
    # fontconfig and fontbakery see it
    height = {
        k: round(bounds[cmap[ord(c)]][3]) if bounds.get(cmap.get(ord(c))) else 0
        for k, c in (("sxHeight", "x"), ("sCapHeight", "H"))
    }
    builder.setupOS2(
        version=4,
        achVendID=VENDOR,
        fsType=0,  # installable embedding: the user's own font
        fsSelection=FS_REGULAR | FS_USE_TYPO_METRICS,
        usWeightClass=400,
        sTypoAscender=LINE_ASCENT,
        sTypoDescender=LINE_DESCENT,
        sTypoLineGap=0,
        usWinAscent=max(y_max, LINE_ASCENT),  # Windows clips ink outside the win metrics
        usWinDescent=-min(y_min, LINE_DESCENT),
        usDefaultChar=0,
        usBreakChar=0x20,
        usMaxContext=0,
        panose=_panose(monospaced),
        **height,
    )
    builder.setupPost(
        isFixedPitch=int(len(widths) == 1),
        underlinePosition=-100,
        underlineThickness=50,
    )
    font = builder.font
    os2 = font["OS/2"]
    os2.setCodePageRanges(code_page_bits(parts.codes))
    os2.recalcUnicodeRanges(font)
    os2.recalcAvgCharWidth(font)
    if any(e.full_width for e in parts.entries):
        _vertical_metrics(builder, parts, bounds)
    font["head"].fontRevision = VERSION[0] + VERSION[1] / 1000
    if not cff:
        _unhinted_rasterising(font)
        font["head"].flags |= HEAD_INTEGER_PPEM
    return font


def _printable(code: int | None) -> bool:
    return code is not None and unicodedata.category(chr(code))[0] in "LMNPSZ"


def _panose(monospaced: bool):
    from fontTools.ttLib.tables.O_S_2f_2 import Panose

    panose = Panose()
    for name in vars(Panose()):
        setattr(panose, name, 0)  # 0: any
    panose.bFamilyType = 2  # Latin text: the only family kind with a monospace digit
    panose.bProportion = 9 if monospaced else 0
    return panose


def _name_strings(names: Naming) -> dict:
    version = f"Version {VERSION[0]}.{VERSION[1]:03d}"
    strings = {
        "familyName": names.family,
        "styleName": "Regular",
        "uniqueFontIdentifier": f"{VERSION[0]}.{VERSION[1]:03d};{VENDOR};{names.ps_name}",
        "fullName": f"{names.family} Regular",
        "psName": names.ps_name,
        "version": version,
        "description": names.description,
    }
    for key, value in (
        ("copyright", names.copyright),
        ("licenseDescription", names.license),
        ("licenseInfoURL", names.license_url),
    ):
        if value:
            strings[key] = value
    return strings


def _vertical_metrics(builder, parts: FontParts, bounds: dict) -> None:
    """vhea/vmtx for vertical CJK layout: every glyph one em tall, its top side bearing
    measured from the typo ascender (the vertical origin)."""
    builder.setupVerticalHeader(ascent=UNITS_PER_EM // 2, descent=-UNITS_PER_EM // 2, lineGap=0)
    builder.setupVerticalMetrics(
        {
            e.name: (UNITS_PER_EM, ASCENT - round(bounds[e.name][3]) if bounds[e.name] else 0)
            for e in parts.entries
        }
    )


def _unhinted_rasterising(font) -> None:
    """gasp and a smart-dropout prep: what an unhinted TrueType font needs to render
    well (ttfautohint replaces both when it hints)."""
    from fontTools.ttLib import newTable
    from fontTools.ttLib.tables import ttProgram

    gasp = newTable("gasp")
    gasp.version, gasp.gaspRange = 1, {0xFFFF: GASP_ALL}
    font["gasp"] = gasp
    prep = newTable("prep")
    prep.program = ttProgram.Program()
    prep.program.fromAssembly(SMART_DROPOUT)
    font["prep"] = prep


def autohint(ttf: bytes) -> bytes:
    """ttfautohint's hints for a TrueType font with Latin letters; the font as it is
    when ttfautohint cannot hint it (it has no CJK hinter: Han glyphs stay unhinted,
    scaled only, and rely on gasp + smart dropout)."""
    import ttfautohint

    try:
        return ttfautohint.ttfautohint(
            in_buffer=ttf, fallback_scaling=True, no_info=True, windows_compatibility=True
        )
    except ttfautohint.TAError as e:
        if "standard character" in str(e):  # no 'o' (or its kin) to measure: no Latin
            return ttf
        raise


def to_bytes(font, flavor: str | None = None) -> bytes:
    buffer = io.BytesIO()
    font.flavor = flavor
    font.save(buffer)
    return buffer.getvalue()


def write_ufo(path: Path, parts: FontParts, names: Naming) -> None:
    """UFO 3 sources: cubic outlines (PostScript direction), font info that ufo2ft
    compiles to the same names and metrics as the binaries."""
    import ufoLib2
    from fontTools.pens.reverseContourPen import ReverseContourPen

    ufo = ufoLib2.Font()
    info = ufo.info
    info.familyName, info.styleName = names.family, "Regular"
    info.versionMajor, info.versionMinor = VERSION
    info.unitsPerEm, info.ascender, info.descender = UNITS_PER_EM, LINE_ASCENT, LINE_DESCENT
    info.copyright = names.copyright or None
    info.openTypeNameLicense = names.license or None
    info.openTypeNameLicenseURL = names.license_url or None
    info.openTypeNameDescription = names.description
    info.openTypeOS2VendorID = VENDOR
    info.openTypeOS2Type = []  # installable
    info.openTypeOS2Selection = [7]  # USE_TYPO_METRICS (ufo2ft sets REGULAR itself)
    info.openTypeOS2TypoAscender, info.openTypeOS2TypoDescender = LINE_ASCENT, LINE_DESCENT
    info.openTypeOS2TypoLineGap = info.openTypeHheaLineGap = 0
    info.openTypeHheaAscender, info.openTypeHheaDescender = LINE_ASCENT, LINE_DESCENT
    info.openTypeOS2CodePageRanges = sorted(code_page_bits(parts.codes))
    info.postscriptFontName = names.ps_name
    full_width = any(e.full_width for e in parts.entries)
    if full_width:
        info.openTypeVheaVertTypoAscender = UNITS_PER_EM // 2
        info.openTypeVheaVertTypoDescender = -UNITS_PER_EM // 2
        info.openTypeVheaVertTypoLineGap = 0
    for entry in parts.entries:
        glyph = ufo.newGlyph(entry.name)
        glyph.width = entry.advance
        if full_width:
            glyph.height = UNITS_PER_EM
        if entry.code is not None:
            glyph.unicodes = [entry.code]
        entry.draw(ReverseContourPen(glyph.getPen()))
    ufo.lib["public.glyphOrder"] = [e.name for e in parts.entries]
    with atomic_directory(path, replace=True) as tmp:
        ufo.save(tmp, overwrite=True)


def parse_formats(formats, out: Path) -> list[str]:
    """The formats to write: `formats` (names or a comma list), else `out`'s suffix."""
    if not formats:
        suffix = out.suffix.lower().lstrip(".")
        formats = [suffix]
    chosen = [f.strip().lower() for item in formats for f in str(item).split(",") if f.strip()]
    unknown = [f for f in chosen if f not in FORMATS]
    if unknown:
        raise ConfigError(
            f"unknown font format {unknown[0]!r} (from --format or --out {str(out)!r}); "
            f"expected one of: {', '.join(FORMATS)}"
        )
    return list(dict.fromkeys(chosen))


@dataclass
class Written:
    paths: dict  # format -> path
    counts: dict  # glyph source -> count
    ttf: bytes  # the TrueType font (for a specimen)


def write(
    out: str | os.PathLike,
    glyphs: dict[str, Glyph],
    family: str,
    style: str = "",
    copier: FontGlyphCopier | None = None,
    copied: str = "",
    formats: list[str] | None = None,
    hint: bool = True,
) -> Written:
    """Writes the font of the traced `glyphs` and the `copied` characters of
    `copier`'s font to `out`, once per format (`parse_formats`), each under its
    suffix. Every binary is built before the first file is written, and each file is
    written whole (temporary file, then rename). `hint`: ttfautohint (Latin)."""
    out = Path(out)
    formats = parse_formats(formats, out)
    parts = collect(glyphs, copier, copied)
    counts = parts.counts()
    names = naming(family, counts, copier, style)
    ttf = to_bytes(build(parts, names))
    if hint:
        ttf = autohint(ttf)
    blobs = {"ttf": ttf}
    if "woff2" in formats:
        from fontTools.ttLib import TTFont

        blobs["woff2"] = to_bytes(TTFont(io.BytesIO(ttf)), "woff2")
    if "otf" in formats:
        blobs["otf"] = to_bytes(build(parts, names, cff=True))
    stem = out.with_suffix("") if out.suffix.lower() in FORMATS.values() else out
    paths = {fmt: stem.with_name(stem.name + FORMATS[fmt]) for fmt in formats}
    for fmt, path in paths.items():
        if fmt == "ufo":
            write_ufo(path, parts, names)
        else:
            atomic_write_bytes(path, blobs[fmt])
    return Written(paths, counts, ttf)
