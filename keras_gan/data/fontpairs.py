"""Font-to-font training pairs: the same character in a source font and in target styles.

`fontpairs:CHARSET?source=FONT&targets=A,B,DIR&split=train|heldout|all&holdout=0.1&pseudo=DIR`

- `source`: one font face (a path or part of a face name).
- `targets`: font faces or folders of glyph images named by character; each is one
  style. Default: one face per font file found (the first face of a collection)
  that covers at least half of the charset, the source's file excluded.
- `split`: characters are split into training and held-out sets by a hash of the
  character itself, so the split is the same for every font, run and machine and
  a held-out character is never trained on (`held_out`).
- `pseudo`: a folder of glyph images that stand in for the (one) target's glyphs of
  characters it lacks, e.g. a model's drawings in its style (`kgan font fit`'s
  pseudo-glyphs); training pairs like the target's own, never its glyphs in a font.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import urllib.parse
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path

import numpy as np

from keras_gan.data.base import DataError
from keras_gan.data.base import ImageData
from keras_gan.data.glyph_folder import load_glyph_folder
from keras_gan.data.glyphs import EM_FRACTION
from keras_gan.data.glyphs import RENDER_VERSION
from keras_gan.data.glyphs import SUPERSAMPLE
from keras_gan.data.glyphs import FontFace
from keras_gan.data.glyphs import GlyphRenderer
from keras_gan.data.glyphs import find_fonts
from keras_gan.data.glyphs import one_face
from keras_gan.data.glyphs import parse_charset
from keras_gan.data.glyphs import select_fonts
from keras_gan.files import atomic_write_bytes
from keras_gan.files import cache_root
from keras_gan.registry import DATASETS

HOLDOUT = 0.1
SPLITS = ("train", "heldout", "all")
OPTIONS = ("source", "targets", "split", "holdout", "pseudo")
# Tall and wide glyphs that decide a face's scale (those it covers): nothing else may.
SCALE_PROBE = "永國龍鬱ÅÉÇÑgjpqy[]{}|@W"


def held_out(char: str, fraction: float = HOLDOUT) -> bool:
    """Whether `char` is in the held-out set: a fixed hash of the character, < fraction."""
    digest = hashlib.sha256(("kgan-holdout\0" + char).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2.0**64 < fraction


def split_chars(chars: str, split: str, fraction: float = HOLDOUT) -> str:
    if split not in SPLITS:
        raise DataError(f"split must be one of {', '.join(SPLITS)}, got {split!r}")
    if split == "all":
        return chars
    return "".join(c for c in chars if held_out(c, fraction) == (split == "heldout"))


@dataclass
class Style:
    """Glyphs of one style: a font face, or a folder of images (`face` None).

    `em_pixels` is the em size in pixels at the training size: what maps a generated
    bitmap back to font units (`keras_gan.fonts.outline`).
    """

    name: str
    glyphs: dict[str, np.ndarray]
    em_pixels: float
    face: FontFace | None = None
    report: dict = field(default_factory=dict)


def face_style(face: FontFace, chars: str, image_size: int) -> Style:
    """Every covered character of `chars` rendered from `face` (cached on disk).

    The scale is fixed per face (from `SCALE_PROBE`), not by `chars`: a character is
    drawn the same in training, evaluation and completion whatever else is asked for.
    """
    stat = os.stat(face.path)
    key = json.dumps(
        [RENDER_VERSION, face.path, face.index, stat.st_size, stat.st_mtime_ns, chars, image_size],
        ensure_ascii=False,
    )
    path = cache_root() / "faces" / (hashlib.sha256(key.encode()).hexdigest()[:20] + ".npz")
    try:
        with np.load(path) as f:
            meta = json.loads(f["meta"].tobytes().decode())
            glyphs = dict(zip(meta["chars"], f["images"]))
        return Style(face.name, glyphs, meta["em_pixels"], face, with_family(meta["report"], face))
    except (OSError, ValueError, KeyError):
        pass  # not cached yet, or a damaged cache file: render
    renderer = GlyphRenderer(face, image_size, SCALE_PROBE)
    glyphs, skipped = {}, {}
    for char in chars:
        image, reason = renderer.render(char)
        if image is None:
            skipped[reason] = skipped.get(reason, 0) + 1
        else:
            glyphs[char] = image
    em_pixels = renderer.font.size / SUPERSAMPLE
    report = {"used": len(glyphs), "skipped": skipped}
    meta = {"chars": list(glyphs), "em_pixels": em_pixels, "report": report}
    buffer = io.BytesIO()
    images = (
        np.stack(list(glyphs.values()))
        if glyphs
        else np.zeros((0, image_size, image_size), np.uint8)
    )
    np.savez(
        buffer,
        images=images,
        meta=np.frombuffer(json.dumps(meta, ensure_ascii=False).encode(), np.uint8),
    )
    atomic_write_bytes(path, buffer.getvalue())
    return Style(face.name, glyphs, em_pixels, face, with_family(report, face))


def with_family(report: dict, face: FontFace) -> dict:
    """A style's report names its font family: what tells a base model's styles and a
    few-shot target apart as fonts, not only as faces (`dataset.json`)."""
    return {**report, "family": face.family}


def folder_style(path: str, image_size: int) -> Style:
    glyphs, report = load_glyph_folder(path, image_size)
    return Style(Path(path).resolve().name, glyphs, image_size * EM_FRACTION, None, report)


def default_targets(chars: str, source: FontFace) -> list[FontFace]:
    """The first face of every font file but the source's, covering half the charset."""
    firsts: dict[str, FontFace] = {}
    for face in find_fonts():
        if face.path != source.path:
            current = firsts.get(face.path)
            firsts[face.path] = face if current is None or face.index < current.index else current
    return [f for f in firsts.values() if 2 * sum(map(f.covers, chars)) >= len(chars)]


def load_style(token: str, chars: str, image_size: int) -> Style:
    """The style a target token names: a folder of glyph images, else one font face
    (`glyphs.one_face`: a collection's first face unless `PATH#N` picks another)."""
    expanded = os.path.expanduser(token)
    if os.path.isdir(expanded):
        return folder_style(expanded, image_size)
    return face_style(one_face(token), chars, image_size)


@dataclass
class FontPairs:
    """Row i: `sources[i]` (char `chars[i]` in the source font) -> `targets[i]` (style
    `style_ids[i]`)."""

    sources: np.ndarray
    targets: np.ndarray
    style_ids: np.ndarray
    chars: list[str]
    source: Style
    styles: list[Style]
    report: dict

    def image_data(self, channels: int = 1) -> ImageData:
        sources, targets = self.sources[..., None], self.targets[..., None]
        if channels == 3:
            sources, targets = np.repeat(sources, 3, -1), np.repeat(targets, 3, -1)
        return ImageData(
            images=targets,
            labels=self.style_ids,
            label_names=[s.name for s in self.styles],
            sources=sources,
            report=self.report,
        )


def source_style(token: str, chars: str, image_size: int) -> Style:
    """The first face `token` names (select_fonts raises if none)."""
    return face_style(select_fonts([token])[0], chars, image_size)


def build_pairs(
    chars: str,
    source: str,
    targets: list[str] | None,
    image_size: int,
    split: str = "train",
    holdout: float = HOLDOUT,
    pseudo: str | None = None,
) -> FontPairs:
    """Pairs of the `split` characters of `chars` for every target style (see module doc)."""
    if not 0 <= holdout < 1:
        raise DataError(f"holdout must be in [0, 1), got {holdout}")
    if pseudo and len(targets or []) != 1:
        raise DataError(f"pseudo={pseudo} needs exactly one target style, got targets={targets}")
    stand_ins = folder_style(pseudo, image_size).glyphs if pseudo else {}
    if targets:
        styles = [load_style(token, chars, image_size) for token in targets]
        extra = "".join(c for s in styles if s.face is None for c in s.glyphs) + "".join(stand_ins)
        source_glyphs = source_style(source, "".join(dict.fromkeys(chars + extra)), image_size)
    else:
        source_glyphs = source_style(source, chars, image_size)
        styles = [
            face_style(f, chars, image_size) for f in default_targets(chars, source_glyphs.face)
        ]
        if not styles:
            raise DataError(
                f"no target font besides {source_glyphs.name!r} covers half of the charset; "
                "pass targets=FONT,FOLDER"
            )
    names = [s.name for s in styles]
    if len(set(names)) < len(names):
        raise DataError(f"target styles must have distinct names, got {names}")
    wanted = split_chars(chars, split, holdout)
    rows: list[tuple[str, int, np.ndarray]] = []
    skipped: dict[str, int] = {}
    for style_id, style in enumerate(styles):
        # A folder style brings its own characters (split like any other).
        candidates = wanted if style.face else split_chars("".join(style.glyphs), split, holdout)
        for char in candidates:
            if char not in style.glyphs:
                continue  # the style's own report counts what its font lacks
            if char not in source_glyphs.glyphs:
                reason = "source font lacks the character"
                skipped[reason] = skipped.get(reason, 0) + 1
                continue
            rows.append((char, style_id, style.glyphs[char]))
    if not rows:
        raise DataError(
            f"no (character, style) pair to use in split {split!r}: source {source_glyphs.name!r}, "
            f"styles {names}, skipped {skipped}"
        )
    own = len(rows)
    lacking = "".join(
        c for c in stand_ins if c not in styles[0].glyphs and c in source_glyphs.glyphs
    )
    rows += [(char, 0, stand_ins[char]) for char in split_chars(lacking, split, holdout)]
    report = {
        "pairs": len(rows),
        "characters": len({c for c, _, _ in rows}),
        "skipped": skipped,
        "source": {"name": source_glyphs.name, **source_glyphs.report},
        "styles": {s.name: s.report for s in styles},
        "split": split,
        "holdout": holdout,
        **({"pseudo": {"folder": pseudo, "pairs": len(rows) - own}} if pseudo else {}),
    }
    return FontPairs(
        sources=np.stack([source_glyphs.glyphs[c] for c, _, _ in rows]),
        targets=np.stack([glyph for _, _, glyph in rows]),
        style_ids=np.asarray([s for _, s, _ in rows], np.int32),
        chars=[c for c, _, _ in rows],
        source=source_glyphs,
        styles=styles,
        report=report,
    )


def parse_spec(rest: str) -> dict:
    """`CHARSET?source=..&targets=..&split=..&holdout=..` -> build_pairs keyword arguments."""
    charset, _, query = rest.partition("?")
    params = urllib.parse.parse_qs(query, keep_blank_values=True)
    unknown = sorted(set(params) - set(OPTIONS))
    if unknown:
        raise DataError(
            f"fontpairs spec {rest!r}: unknown option {unknown[0]!r}; valid: {', '.join(OPTIONS)}"
        )
    if not params.get("source", [""])[0]:
        raise DataError(
            f"fontpairs spec {rest!r} needs source=FONT (a path or part of a face name)"
        )
    try:
        holdout = float(params.get("holdout", [HOLDOUT])[0])
    except ValueError:
        raise DataError(f"fontpairs spec {rest!r}: holdout must be a number") from None
    targets = [t.strip() for v in params.get("targets", []) for t in v.split(",") if t.strip()]
    return {
        "chars": parse_charset(urllib.parse.unquote(charset)),
        "source": params["source"][0],
        "targets": targets or None,
        "split": params.get("split", ["train"])[0],
        "holdout": holdout,
        "pseudo": params.get("pseudo", [""])[0] or None,
    }


@DATASETS.register("fontpairs")
def load_font_pairs(rest: str, image_size: int, channels: int) -> ImageData:
    return build_pairs(image_size=image_size, **parse_spec(rest)).image_data(channels)
