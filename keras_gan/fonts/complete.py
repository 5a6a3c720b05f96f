"""`kgan font fit` and `kgan font complete`: learn a style, then write a whole font.

fit: fine-tune a multi-style font2font model (a shipped base, from the source font it
carries: `font2font-zh`, 20 CJK faces of scripts/base_fonts.sh, or for characters
without hanzi `font2font-latin`, 107 Latin faces; `default_base`) on the target's
glyphs, a font or a folder of images named by character, and on pseudo-glyphs, the base's
zero-shot drawings of other characters in the target's style (`draw_pseudo_glyphs`);
the target becomes a new style (its embedding starts at the style vector fitted to
its glyphs, `like_style`, the one the pseudo-glyphs are drawn in), learned from L1 and
the constant loss alone with G's batch statistics kept (`FINE_TUNING`).
complete: a new style zero-shot (`--like`: a style vector fitted to samples, which are
placed first as the model's fonts are, `align_samples`), or a fitted one; every
character of a charset, the target's own glyphs where it has them
(outlines copied from a font, or traced from the images), generated and traced where
it does not; written as TrueType, OpenType/CFF, WOFF2 or UFO sources (`fontfile`).
"""

from __future__ import annotations

import json
import os
import urllib.parse
from dataclasses import dataclass
from dataclasses import replace
from pathlib import Path
from typing import Callable

import numpy as np

from keras_gan.config import ConfigError
from keras_gan.config import RunConfig
from keras_gan.data import load_dataset
from keras_gan.data.fontpairs import load_style
from keras_gan.data.fontpairs import parse_spec
from keras_gan.data.fontpairs import source_style
from keras_gan.data.fontpairs import split_chars
from keras_gan.data.glyph_folder import char_of
from keras_gan.data.glyph_folder import moved
from keras_gan.data.glyph_folder import placement
from keras_gan.data.glyph_folder import write_glyph_folder
from keras_gan.data.glyphs import is_cjk
from keras_gan.data.glyphs import parse_charset
from keras_gan.data.glyphs import select_fonts
from keras_gan.files import atomic_write_bytes
from keras_gan.fonts import fontfile
from keras_gan.fonts import outline
from keras_gan.fonts.specimen import FONT_FORMATS
from keras_gan.fonts.specimen import specimen_html
from keras_gan.fonts.specimen import specimen_png
from keras_gan.images import from_uint8
from keras_gan.images import to_uint8
from keras_gan.progress import track
from keras_gan.shipped import find_model

# The shipped bases (bench/RESULTS.md has their training commands and scores).
ZH_BASE, LATIN_BASE = "saved_models/font2font-zh", "saved_models/font2font-latin"
# A shipped base carries the font it translates from, subset to these characters (all
# of GB 2312, the frequent traditional hanzi of Big5, ASCII and the `european`
# letters), so it works on any machine.
SOURCE_CHARS = ("gb2312", "big5-1", "european")
# Zero-shot (`--like`): the fewest and the most sample glyphs a style is fitted to, and
# the Adam steps on them (held-out SSIM stops changing by 100 on every bench target,
# from 16 and from 200 samples: bench/RESULTS.md, "How many steps a style fit needs").
MIN_LIKE_SAMPLES, LIKE_SAMPLES, LIKE_STEPS = 4, 256, 100
# `align_samples`: how many samples measure a folder's placement, and how far beyond
# the span of the model's own styles it may lie (relative size; fraction of the
# canvas side) before it is moved.
PLACEMENT_SAMPLES, PLACEMENT_SCALE_MARGIN, PLACEMENT_SHIFT_MARGIN = 64, 0.05, 0.02
# A fine-tuned model takes its base's hyperparameters except these (the data decides).
FROM_DATA = ("num_classes", "image_size", "channels", "seed")
# ... and fine-tunes on L1 and the constant loss with G's batch statistics kept: against
# the adversarial fine-tuning, held-out SSIM +0.01-0.04 for kai, song and hei from 16,
# 50 and 200 glyphs, content better from few (kai at 16: 0.79 against 0.58); the
# adversarial term still buys style accuracy from 50 up (bench/RESULTS.md, "Few-shot
# fine-tuning without the discriminator"; `--set model_kwargs.adversarial_weight=1`).
FINE_TUNING = {"adversarial_weight": 0.0, "frozen_norm": True}
# Fine-tuning steps by default: 3 per training pair, at least 200 and at most 1000.
# Held-out content and SSIM stop moving after about 200 steps from 16 samples and 400-600
# from 200 (kai, song, hei from the shipped base; bench/RESULTS.md, "Few-shot
# fine-tuning: how many steps"); a whole font keeps the former default, 1000.
STEPS_PER_PAIR, MIN_STEPS, MAX_STEPS = 3, 200, 1000
# Pseudo-glyphs per sample glyph: fine-tuning also learns from the base's zero-shot
# drawings (`like_style`) of other characters of the charset, which keeps it from
# unlearning legibility on few samples. Kai from 16 / 50 / 200 samples: held-out
# content 0.73 / 0.75 / 0.73 -> 0.74 / 0.81 / 0.83; song and hei 0 to +0.03; at a cost
# of about 0.01 SSIM and some style-reader rate (bench/RESULTS.md, "Font completion
# with pseudo-glyphs"; one pseudo-glyph per sample reads better still for kai and costs
# song and hei more SSIM: "Few-shot with pseudo-glyphs").
PSEUDO_GLYPHS = 0.5
PSEUDO_FOLDER = "pseudo-glyphs"


def pairs_spec(charset: str, source: str, targets: list[str], split: str) -> str:
    query = urllib.parse.urlencode({"source": source, "targets": ",".join(targets), "split": split})
    return f"fontpairs:{urllib.parse.quote(charset, safe='=-_.')}?{query}"


def base_info(base: str | os.PathLike) -> tuple[RunConfig, dict]:
    base = find_model(base)
    try:
        config = RunConfig.from_dict(json.loads((base / "config.json").read_text("utf-8")))
        info = json.loads((base / "dataset.json").read_text("utf-8"))
    except (OSError, ValueError) as e:
        raise ConfigError(
            f"base model {str(base)!r} needs config.json and dataset.json ({e}); pass "
            "--base PATH, or --base none"
        ) from None
    if config.model != "font2font":
        raise ConfigError(f"base model {str(base)!r} is a {config.model}, not a font2font model")
    return config, info


def source_token(folder: str | os.PathLike, spec: str) -> str:
    """The source font of a font2font model folder: the copy it carries (a shipped
    base, `save_base`), else the font its data spec names."""
    token = parse_spec(spec.partition(":")[2])["source"]
    own = find_model(folder) / token
    return str(own.resolve()) if own.is_file() else token


def spec_charset(spec: str) -> str:
    """The charset a font2font data spec names (`pairs_spec`'s first part)."""
    return urllib.parse.unquote(spec.partition(":")[2].partition("?")[0])


def default_base(target: str, charset: str | None) -> str:
    """The shipped base for the characters a fit learns from (a glyph folder's own, else
    the charset's, else the target font's): the Latin one when none is a hanzi. The zh
    base never saw a Latin letter, the Latin one never a hanzi."""
    if Path(target).is_dir():
        chars = "".join(char_of(os.path.splitext(e.name)[0]) or "" for e in os.scandir(target))
    elif charset is None:
        chars = "".join(map(chr, select_fonts([target])[0].codepoints))
    else:
        chars = parse_charset(charset)
    return ZH_BASE if any(is_cjk(c) for c in chars) else LATIN_BASE


def fit_config(
    target: str,
    source_font: str | None = None,
    charset: str | None = None,
    base: str | None = "auto",
    steps: int | None = None,
    batch_size: int = 16,
    holdout: bool = False,
    overrides: list[str] = (),
    run_dir: str | os.PathLike | None = None,
    pseudo_glyphs: float = PSEUDO_GLYPHS,
    log: Callable[[str], None] = print,
) -> RunConfig:
    """The run config of `kgan font fit` (see the module doc), and its pseudo-glyphs
    drawn into `run_dir`/pseudo-glyphs.

    Args:
        target: a font (path or face name) or a folder of glyph images.
        source_font: the font translated from; by default the base model's source.
        charset: the characters learned from (a font's; a folder brings its own) and
            drawn as pseudo-glyphs; None: the base's (without a base, gb2312-1).
        base: folder of the multi-style base model to fine-tune; "auto": the shipped one
            for the characters (`default_base`); None: train from scratch.
        steps: training steps; None: `fit_steps` of the training pairs.
        holdout: leave the held-out characters out (to evaluate on them afterwards).
        run_dir: the run's folder (needed for pseudo-glyphs; the run is not started).
        pseudo_glyphs: pseudo-glyphs per sample glyph (`PSEUDO_GLYPHS`); with a base only.
    """
    model_kwargs, image_size, train = {}, 64, {}
    if base == "auto":
        base = default_base(target, charset)
        log(f"fine-tuning the shipped base {base}")
    if base:
        base_config, info = base_info(base)
        model_kwargs = {k: v for k, v in base_config.model_kwargs.items() if k not in FROM_DATA}
        model_kwargs.update(FINE_TUNING)
        image_size = base_config.data.image_size
        source_font = source_font or source_token(base, info["spec"])
        charset = charset or spec_charset(info["spec"])
        train = {"init_from": str(base)}
    charset = charset or "gb2312-1"
    if not source_font:
        raise ConfigError("--source-font is needed when there is no base model")
    split = "train" if holdout else "all"
    spec = pairs_spec(charset, source_font, [target], split)
    if base and pseudo_glyphs > 0:
        if run_dir is None:
            raise ValueError("pseudo-glyphs need the run directory")
        if (Path(run_dir) / "config.json").exists():
            raise ConfigError(
                f"run directory {str(run_dir)!r} already holds a run; pick another --run-dir"
            )
        folder = (Path(run_dir) / PSEUDO_FOLDER).resolve()
        count, styles = draw_pseudo_glyphs(base, target, charset, split, pseudo_glyphs, folder, log)
        if count:
            spec += "&" + urllib.parse.urlencode({"pseudo": str(folder)})
            train["init_styles"] = styles
    if steps is None:
        steps = fit_steps(len(load_dataset(spec, image_size, 1)))
    config = RunConfig().merge(
        {
            "model": "font2font",
            "model_kwargs": model_kwargs,
            "data": {
                "spec": spec,
                "image_size": image_size,
                "channels": 1,
            },
            "train": {
                "steps": steps,
                "batch_size": batch_size,
                "log_every": 50,
                "sample_every": 250,
                "checkpoint_every": 250,
                **train,
            },
        }
    )
    return config.override(list(overrides)).validate()


def draw_pseudo_glyphs(
    base: str | os.PathLike,
    target: str,
    charset: str,
    split: str,
    per_sample: float,
    folder: Path,
    log: Callable[[str], None] = print,
) -> tuple[int, dict]:
    """Writes the base's zero-shot drawings of `per_sample` times as many characters as
    the target has sample glyphs in `split` (characters of `charset` in `split` that it
    lacks, picked at random) into `folder` as glyph images, placed in their cells as the
    samples are; returns how many (none if the target lacks none), and the style they
    are drawn in as `train.init_styles` ({target's label: vector}; the fine-tuning
    starts there rather than fitting the same samples again)."""
    model, config, _ = load_font_model(base)
    size = config.data.image_size
    chars = parse_charset(charset)
    target = load_style(target, chars, size)
    chars = "".join(dict.fromkeys(chars + "".join(target.glyphs)))
    source = source_style(source_token(base, config.data.spec), chars, size)
    own = [c for c in split_chars("".join(target.glyphs), split) if c in source.glyphs]
    lacking = [
        c for c in split_chars(chars, split) if c in source.glyphs and c not in target.glyphs
    ]
    count = min(len(lacking), round(per_sample * len(own)))
    if count == 0:
        return 0, {}
    # Only the split's samples: held-out characters shape nothing, not even the style.
    target = replace(target, glyphs={c: target.glyphs[c] for c in own})
    aligned = align_samples(model, source, target, log)
    picked = [str(c) for c in np.random.default_rng(0).permutation(lacking)[:count]]
    log(f"drawing {count} pseudo-glyphs in the style of {target.name!r}")
    vector = like_style(model, source, aligned, log)
    drawn = translate(model, np.stack([source.glyphs[c] for c in picked]), vector)
    if "placed" in aligned.report:  # back where the samples sit in their cells
        scale, shift = aligned.report["placed"]["scale"], aligned.report["placed"]["shift_px"]
        drawn = [moved(g, 1 / scale, -np.asarray(shift) / scale) for g in drawn]
    write_glyph_folder(dict(zip(picked, drawn)), folder)
    return count, {target.name: vector.tolist()}


def fit_steps(pairs: int) -> int:
    """Fine-tuning steps for `pairs` (source, target) glyph pairs (see `STEPS_PER_PAIR`)."""
    return min(MAX_STEPS, max(MIN_STEPS, STEPS_PER_PAIR * pairs))


@dataclass
class Completion:
    """What `complete_font` wrote, and the bitmaps it generated (char -> uint8)."""

    report: dict
    generated: dict


def _target_token(spec_params: dict, style: str) -> str:
    """The target token (font name or folder) of a style name of a run."""
    for token in spec_params["targets"] or []:
        if os.path.isdir(os.path.expanduser(token)) and Path(token).resolve().name == style:
            return token
    return style


def load_font_model(path: str | os.PathLike):
    """(model, config, dataset info) from a run directory (its latest checkpoint) or a
    folder holding model.keras, config.json and dataset.json (a shipped base)."""
    import keras

    from keras_gan.runs import load_run

    path = find_model(path)
    if (path / "checkpoints").is_dir():
        return load_run(path)
    config, info = base_info(path)
    try:
        model = keras.saving.load_model(path / "model.keras", compile=False)
    except (OSError, ValueError) as e:
        raise ConfigError(f"{str(path)!r}: cannot load model.keras: {e}") from None
    return model, config, info


def translate(model, source_images: np.ndarray, style, batch: int = 64) -> np.ndarray:
    """uint8 paper glyphs (N, S, S) in `style`: one of the model's style ids, or a style
    vector (from `like_style`)."""
    out = []
    for start in range(0, len(source_images), batch):
        x = from_uint8(source_images[start : start + batch, ..., None])
        if isinstance(style, (int, np.integer)):
            drawn = model.generate(x, np.full(len(x), style, np.int32), training=False)
        else:
            drawn = model.translate_in_style(x, style)
        out.append(to_uint8(drawn).numpy()[..., 0])
    return np.concatenate(out) if out else np.zeros((0,) + source_images.shape[1:], np.uint8)


def like_style(
    model, source, target, log: Callable[[str], None] = print, steps: int = LIKE_STEPS
) -> np.ndarray:
    """The style vector of a font the model never saw, fitted to the target's glyphs
    of characters the source has (`Font2Font.fit_style`, `steps` Adam steps; no weight
    changes)."""
    shared = [c for c in target.glyphs if c in source.glyphs][:LIKE_SAMPLES]
    if len(shared) < MIN_LIKE_SAMPLES:
        raise ConfigError(
            f"--like {target.name!r}: {len(shared)} usable sample glyphs (characters the "
            f"source font {source.name!r} has); at least {MIN_LIKE_SAMPLES} are needed"
        )
    log(f"fitting the style of {target.name!r} to {len(shared)} sample glyphs")
    return model.fit_style(model_input(source, shared), model_input(target, shared), steps)


def align_samples(model, source, target, log: Callable[[str], None] = print):
    """`target` with a folder's glyphs placed in the canvas as the model places glyphs.

    A font's em box is known; an image's cell is not: a render saved as a file, a scan
    or a tablet's export may hold the glyph much smaller or off centre, and the model
    reads size and position as style (zero-shot from such a folder draws no legible
    character). When the samples' size or position relative to the source lies outside
    the span of the model's known styles, the whole folder is scaled and moved (one
    transform for all) onto the known style it then matches best; else, and for a
    font, `target` is returned as is.
    """
    shared = [c for c in target.glyphs if c in source.glyphs][:PLACEMENT_SAMPLES]
    if target.face is not None or not shared:
        return target
    samples = np.stack([target.glyphs[c] for c in shared])
    sources = np.stack([source.glyphs[c] for c in shared])
    codes = model.encoder(from_uint8(sources[..., None]))
    known = to_uint8(model.draw_in_styles(codes, model.style_table)).numpy()[..., 0]
    spans = np.array([[scale, *shift] for scale, shift in (placement(sources, d) for d in known)])
    scale, shift = placement(sources, samples)
    low, high = spans.min(axis=0), spans.max(axis=0)
    margin = PLACEMENT_SHIFT_MARGIN * len(samples[0])
    if (
        low[0] / (1 + PLACEMENT_SCALE_MARGIN) <= scale <= high[0] * (1 + PLACEMENT_SCALE_MARGIN)
        and np.all(low[1:] - margin <= shift)
        and np.all(shift <= high[1:] + margin)
    ):
        return target
    fits = [placement(samples, drawn) for drawn in known]
    errors = [
        np.mean(np.abs(np.stack([moved(g, *fit) for g in samples]) - drawn.astype(np.float32)))
        for fit, drawn in zip(fits, known)
    ]
    fit = fits[int(np.argmin(errors))]
    dy, dx = fit[1]
    log(
        f"{target.name!r}: its glyphs sit in their cells unlike any font the model knows; "
        f"scaled x{fit[0]:.2f}, moved {abs(dy):.1f} px {'down' if dy >= 0 else 'up'} and "
        f"{abs(dx):.1f} px {'right' if dx >= 0 else 'left'}"
    )
    glyphs = {c: moved(g, *fit) for c, g in target.glyphs.items()}
    placed = {"scale": round(fit[0], 3), "shift_px": [round(float(v), 2) for v in fit[1]]}
    return replace(target, glyphs=glyphs, report={**target.report, "placed": placed})


def model_input(style, chars):
    """The glyphs of `chars` in `style` as a model's input batch, (N, S, S, 1) in [-1, 1]."""
    return from_uint8(np.stack([style.glyphs[c] for c in chars])[..., None])


def complete_font(
    run_dir: str | os.PathLike,
    charset: str | None,
    out: str | os.PathLike,
    style: str | None = None,
    family: str | None = None,
    like: str | None = None,
    formats: list[str] | None = None,
    hint: bool = True,
    log: Callable[[str], None] = print,
) -> Completion:
    """Writes `out` in each of `formats` (`fontfile.FORMATS`; default: `out`'s suffix)
    and `out` with `.png` (a specimen sheet); see module doc. `charset`: the font's
    characters (None: the model's, as its data spec names them). `hint`: autohint the
    TrueType outlines where ttfautohint can (Latin).

    `like`: zero-shot, a font or folder of sample glyphs whose style the multi-style
    model in `run_dir` never learned: its style vector is fitted to the samples
    (`like_style`), no weight changes; `style` is then not used.
    """
    out = Path(out)
    formats = fontfile.parse_formats(formats, out)
    if like is not None and style is not None:
        raise ConfigError("--like and --style exclude each other: --like draws a new style")
    model, config, info = load_font_model(run_dir)
    if config.model != "font2font":
        raise ConfigError(
            f"{str(run_dir)!r} holds a {config.model} run; font complete needs font2font"
        )
    styles = list(info["label_names"])
    params = parse_spec(config.data.spec.partition(":")[2])
    size = config.data.image_size
    chars = parse_charset(charset) if charset else params["chars"]
    source = source_style(source_token(run_dir, config.data.spec), chars, size)
    if like is not None:
        target = align_samples(model, source, load_style(like, chars, size), log)
        drawn_as = like_style(model, source, target, log)
        style = target.name
    else:
        if style is None:
            if len(styles) != 1:
                raise ConfigError(
                    f"the run knows {len(styles)} styles; pick one with --style (or a new "
                    f"one with --like): {', '.join(styles)}"
                )
            style = styles[0]
        if style not in styles:
            raise ConfigError(f"unknown style {style!r}; the run knows: {', '.join(styles)}")
        target = load_style(_target_token(params, style), chars, size)
        drawn_as = styles.index(style)
    missing = [c for c in chars if c not in target.glyphs]
    to_generate = [c for c in missing if c in source.glyphs]
    lacking = [c for c in missing if c not in source.glyphs]
    log(
        f"{len(chars)} characters: {len(chars) - len(missing)} from the target, "
        f"{len(to_generate)} to generate, {len(lacking)} the source font lacks (left out)"
    )
    bitmaps = translate(
        model,
        np.stack([source.glyphs[c] for c in to_generate])
        if to_generate
        else np.zeros((0, size, size), np.uint8),
        drawn_as,
    )
    generated = dict(zip(to_generate, bitmaps))
    glyphs = {}
    for char in track(to_generate, "tracing generated glyphs", unit="glyphs"):
        glyphs[char] = outline.trace(generated[char], target.em_pixels, outline.is_full_width(char))
    copier, copied = None, ""
    if target.face is not None:
        copier = outline.FontGlyphCopier(target.face.path, target.face.index)
        copied = "".join(c for c in chars if c in target.glyphs)
    else:
        for char in (c for c in chars if c in target.glyphs):
            glyph = outline.trace(
                target.glyphs[char], target.em_pixels, outline.is_full_width(char)
            )
            glyph.source = "traced sample"
            glyphs[char] = glyph
    family = family or out.stem
    written = fontfile.write(out, glyphs, family, style, copier, copied, formats, hint)
    specimen = written.paths[formats[0]].with_suffix(".png")
    atomic_write_bytes(specimen, specimen_png(written.ttf, chars, set(generated)))
    report = {
        "font": str(written.paths[formats[0]]),
        "fonts": {fmt: str(path) for fmt, path in written.paths.items()},
        "specimen": str(specimen),
    }
    # The page uses the font file beside it, the web's own format first.
    web = next((f for f in FONT_FORMATS if f in written.paths), None)
    if web is not None:
        page = specimen.with_suffix(".html")
        url = urllib.parse.quote(written.paths[web].name)
        body = specimen_html(url, web, family, chars, set(generated))
        atomic_write_bytes(page, body)
        report["specimen_html"] = str(page)
    report |= {
        "family": family,
        "style": style,
        "characters": len(chars) - len(lacking),
        "by_source": written.counts,
        "skipped": {"source font lacks the character": len(lacking)} if lacking else {},
    }
    return Completion(report, generated)


def save_base(run_dir: str | os.PathLike, folder: str | os.PathLike) -> Path:
    """A finished font2font run as a base model to ship: the networks without optimizer
    state (a third of the size), config.json and dataset.json, and its source font
    subset to `SOURCE_CHARS` with the font's licence beside it (the spec then names
    that copy); atomic. A warm-started run's `init_from` and `init_styles` are left
    out: they name folders of the machine it trained on."""
    from keras_gan.files import atomic_directory
    from keras_gan.runs import load_run

    model, config, info = load_run(run_dir)
    bare = type(model).from_config(model.get_config())
    for name, trained in model.networks.items():
        bare.networks[name].set_weights(trained.get_weights())
    with atomic_directory(folder) as tmp:
        bare.save(tmp / "model.keras")
        copy = _subset_source(source_token(run_dir, config.data.spec), tmp)
        head, _, query = config.data.spec.partition("?")
        pairs = [(k, copy if k == "source" else v) for k, v in urllib.parse.parse_qsl(query)]
        spec = f"{head}?{urllib.parse.urlencode(pairs)}"
        fields = config.to_dict()
        fields["data"]["spec"] = spec
        fields["train"].update(init_from=None, init_styles={})
        config = RunConfig.from_dict(fields)
        info = {**info, "spec": spec}
        (tmp / "config.json").write_text(
            json.dumps(config.to_dict(), indent=2, ensure_ascii=False) + "\n"
        )
        (tmp / "dataset.json").write_text(json.dumps(info, indent=2, ensure_ascii=False) + "\n")
    return Path(folder)


def _subset_source(token: str, folder: Path) -> str:
    """Writes the source font's characters of `SOURCE_CHARS` into `folder` as
    source.otf (CFF) or source.ttf, and its copyright and licence as
    source-LICENSE.txt; returns the font's file name."""
    from fontTools import subset
    from fontTools.ttLib import TTFont

    face = select_fonts([token])[0]
    font = TTFont(face.path, fontNumber=face.index)
    options = subset.Options()
    options.name_IDs, options.notdef_outline, options.layout_features = ["*"], True, []
    subsetter = subset.Subsetter(options)
    subsetter.populate(text="".join(parse_charset(c) for c in SOURCE_CHARS))
    subsetter.subset(font)
    name = "source.otf" if "CFF " in font else "source.ttf"
    font.save(folder / name)
    names = font["name"]
    notice = "\n\n".join(filter(None, (names.getDebugName(i) for i in (4, 0, 13, 14))))
    if "Open Font License" in notice:  # the OFL asks for its text beside every copy
        notice += "\n\n" + (Path(__file__).parents[1] / "data" / "OFL-1.1.txt").read_text()
    (folder / "source-LICENSE.txt").write_text(
        f"{name}: {face.name}, subset to GB 2312, Big5 level 1 and European letters.\n\n{notice}\n",
        encoding="utf-8",
    )
    return name
