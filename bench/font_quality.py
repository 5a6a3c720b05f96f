"""Font translation on held-out characters: a multi-style base, then new styles from
16, 50 or 200 sample glyphs (issue #19).

For each script (Chinese: GB 2312 level 1; Latin: `european`, Latin-1 with Latin
Extended-A, Greek and Cyrillic):

1. base: font2font from a source font to many styles (SCRIPTS; most need
   `KGAN_FONT_PATH` pointing at scripts/base_fonts.sh's folder), trained on the
   training characters only (`keras_gan.data.fontpairs.held_out`); or an existing
   base with `--zh-base DIR` / `--latin-base DIR` (its own source and styles count).
2. for each of three fonts of families the base never learned (a kai, a song/ming, a
   hei; Latin: italic, serif, sans) and each sample count (nested sets of training
   characters, written as image files named by character):
   - nearest training style: the base's own style closest to the samples (L1);
   - zero-shot: `kgan font complete --like`'s style vector fitted to the samples;
   - few-shot: `kgan font fit` (the same code: `fit_config` + `training.fit`).
3. scores on every held-out character both fonts have: L1 and SSIM against the
   real font's rendering, content and style accuracy (classifiers trained on real
   glyphs, `keras_gan.fonts.evaluate`), and with `--ocr ENGINE` what an outside OCR
   engine reads (bench/glyph_ocr.py), next to "copy the source glyph" and the real
   glyphs; CPU seconds (process time, both cores) of each way to the style.

The content reader also reads the characters of the default glyph set, and the
conditional glyph generators given by `--glyph-models` (default: the shipped
`saved_models/glyphs`) are scored by it too: one reader for every character model.

    KGAN_FONT_PATH=~/.local/share/keras-gan/fonts \
        .venv/bin/python bench/font_quality.py [--scripts zh,latin] [--zh-base DIR]
"""

import argparse
import dataclasses
import json
import math
import tempfile
import time
from pathlib import Path

import numpy as np
from glyph_ocr import ENGINES
from glyph_ocr import read_right
from results import machine
from results import publish

from keras_gan import runs
from keras_gan import training
from keras_gan.config import RunConfig
from keras_gan.data.fontpairs import face_style
from keras_gan.data.fontpairs import source_style
from keras_gan.data.fontpairs import split_chars
from keras_gan.data.glyph_folder import write_glyph_folder
from keras_gan.data.glyphs import parse_charset
from keras_gan.data.glyphs import select_fonts
from keras_gan.fonts import evaluate
from keras_gan.fonts.complete import fit_config
from keras_gan.fonts.complete import like_style
from keras_gan.fonts.complete import load_font_model
from keras_gan.fonts.complete import model_input
from keras_gan.fonts.complete import source_token
from keras_gan.fonts.complete import translate
from keras_gan.metrics.extractors import GlyphClassifier

SCRIPTS = {
    "zh": {
        "charset": "gb2312-1",
        "source": "Droid Sans Fallback",
        # Kai, song/ming, hei, fangsong and yuan faces of scripts/base_fonts.sh and setup
        # (KGAN_FONT_PATH); not the targets' families, nor their relatives (`ORIGINS`).
        "base": [
            *(f"LXGW WenKai{s}" for s in (" Light", "", " Bold")),
            "TW-Kai",
            "cwTeXKai Medium",
            *(f"Noto Serif CJK SC {s}" for s in ("ExtraLight", "SemiBold", "Black")),
            "HanaMinA",
            "cwTeXMing Medium",
            "IPAexMincho",
            *(f"Noto Sans CJK SC {s}" for s in ("Thin", "Light", "Medium", "Black")),
            "WenQuanYi Micro Hei",
            "cwTeXHeiBold Medium",
            "IPAexGothic",
            "cwTeXFangSong Medium",
            "cwTeXYen Medium",
        ],
        "targets": {
            "kai": "AR PL UKai CN Book",
            "song": "AR PL UMing CN Light",
            "hei": "WenQuanYi Zen Hei",
        },
        "base_steps": 5000,
        "reader_train_chars": 600,
        "reader_steps": 2700,  # 12 epochs of the 24 fonts
    },
    "latin": {
        # Latin-1 alone holds out 22 characters; with Latin Extended-A, Greek and
        # Cyrillic letters, 49.
        "charset": "european",
        "source": "DejaVu Sans Book",
        # Every Latin face setup installs but the targets' families and the source.
        "base": [
            *(f"DejaVu Sans {s}" for s in ("Bold", "Oblique", "Bold Oblique", "ExtraLight")),
            *(f"DejaVu Sans Condensed{s}" for s in ("", " Bold", " Oblique", " Bold Oblique")),
            *(f"DejaVu Serif {s}" for s in ("Book", "Bold", "Italic", "Bold Italic")),
            *(f"DejaVu Serif Condensed{s}" for s in ("", " Bold", " Italic", " Bold Italic")),
            *(f"DejaVu Sans Mono {s}" for s in ("Book", "Bold", "Oblique", "Bold Oblique")),
            *(f"FreeSans{s}" for s in ("", " Bold", " Oblique", " Bold Oblique")),
            *(f"FreeMono{s}" for s in ("", " Bold", " Oblique", " Bold Oblique")),
            *(f"Liberation Mono{s}" for s in ("", " Bold", " Italic", " Bold Italic")),
            # scripts/base_fonts.sh's Latin families: regular, italic and bold. Not TeX
            # Gyre Termes (FreeSerif's outlines, `ORIGINS`), nor Heros (FreeSans's).
            *(
                f"{family}{s}"
                for family in (
                    "Noto Sans",
                    "Noto Serif",
                    "Gentium Plus",
                    "Charis SIL",
                    "Andika",
                    "Linux Libertine O",
                    "Linux Biolinum O",
                )
                for s in ("", " Italic", " Bold")
            ),
            *(f"CMU Serif {s}" for s in ("Roman", "Italic", "Bold")),
            *(f"CMU Sans Serif {s}" for s in ("Medium", "Oblique", "Bold")),
            *(f"CMU Concrete {s}" for s in ("Roman", "Italic", "Bold")),
            *(f"CMU Typewriter Text{s}" for s in ("", " Italic", " Bold")),
            *(f"PT {f}{s}" for f in ("Sans", "Serif") for s in ("", " Italic", " Bold")),
            *(f"EB Garamond 12 {s}" for s in ("Regular", "Italic", "Bold")),
            *(
                f"{family}{s}"
                for family in (
                    "Caladea",
                    "Carlito",
                    "Open Sans",
                    "Roboto",
                    "TeX Gyre Adventor",
                    "TeX Gyre Bonum",
                    "TeX Gyre Pagella",
                    "TeXGyreSchola",
                    "TeXGyreCursor",
                )
                for s in ("", " Italic", " Bold")
            ),
            "TeXGyreChorus",
            *(f"Cantarell{s}" for s in ("", " Bold")),
            *(f"Lato{s}" for s in ("", " Italic", " Bold")),
        ],
        "targets": {
            "italic": "FreeSerif Italic",
            "serif": "Liberation Serif",
            "sans": "Liberation Sans",
        },
        "base_steps": 2000,
        "reader_train_chars": 170,
        "reader_steps": 3000,  # 200 (12 epochs of 8 fonts) were too few to learn
    },
}
# Families drawn from another's outlines, by their origin: a target's relatives are
# the target to a fair test. AR PL UKai and UMing were drawn from AR PL KaitiM, SungtiL
# and Mingti2L; BabelStone Han from Mingti2L and SungtiL (its glyphs differ from
# UMing's by 0.059 mean L1 at 64 px, the next nearest face's by 0.116: bench/RESULTS.md).
# GNU FreeFont and TeX Gyre both grew from URW's Nimbus fonts (Times, Helvetica, Courier).
ORIGINS = {
    "BabelStone Han": "AR PL",
    **dict.fromkeys(("FreeSerif", "TeX Gyre Termes"), "URW Nimbus Roman"),
    **dict.fromkeys(("FreeSans", "TeX Gyre Heros", "TeX Gyre Heros Cn"), "URW Nimbus Sans"),
    **dict.fromkeys(("FreeMono", "TeX Gyre Cursor"), "URW Nimbus Mono"),
}


def origin(family: str) -> str:
    """Where a family's drawings come from: a foundry's family prefix, or itself."""
    return "AR PL" if family.startswith("AR PL") else ORIGINS.get(family, family)


SIZE = 64
# Few-shot fine-tunings compared: `kgan font fit`'s (L1 and the constant loss, G's
# batch statistics kept: `complete.FINE_TUNING`, with pseudo-glyphs), the same without
# pseudo-glyphs, and the base's own adversarial one.
FEWSHOT_VARIANTS = {  # fit_config's keyword arguments; "l1" is `kgan font fit`'s default
    "l1": {},
    "no-pseudo": {"pseudo_glyphs": 0},
    "gan": {"overrides": ["model_kwargs.adversarial_weight=1.0", "model_kwargs.frozen_norm=false"]},
}
BASE_KWARGS = {"filters": 32, "max_filters": 256}


class Clock:
    def __enter__(self):
        self.cpu, self.wall = time.process_time(), time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.cpu, self.wall = time.process_time() - self.cpu, time.perf_counter() - self.wall


def train_base(script, setup, root, steps):
    from keras_gan.fonts.complete import pairs_spec

    config = (
        RunConfig()
        .merge(
            {
                "model": "font2font",
                "model_kwargs": BASE_KWARGS,
                "data": {
                    "spec": pairs_spec(setup["charset"], setup["source"], setup["base"], "train"),
                    "image_size": SIZE,
                },
                "train": {
                    "steps": steps,
                    "batch_size": 16,
                    "log_every": 100,
                    "sample_every": 500,
                    "checkpoint_every": 500,
                },
            }
        )
        .validate()
    )
    _, run_dir = training.fit(config, run_dir=root / f"{script}-base", log=print)
    return run_dir


def load_reader(folder):
    """(a classifier saved by `GlyphClassifier.save`, the info saved with it)."""
    return GlyphClassifier.load(folder), json.loads((Path(folder) / "extractor.json").read_text())


def styles_of(setup) -> list[str]:
    return [setup["source"], *setup["base"], *setup["targets"].values()]


def reader_chars(scripts=tuple(SCRIPTS)) -> str:
    """What the content reader reads: the held-out characters of every script, and the
    default glyph set (what the glyph generators draw)."""
    held_out = (split_chars(parse_charset(SCRIPTS[s]["charset"]), "heldout") for s in scripts)
    return "".join(dict.fromkeys("".join(held_out) + parse_charset("default")))


def glyph_model_rows(paths, content) -> list[str]:
    """Content accuracy of conditional glyph generators (2,000 samples, labels drawn like
    the real data) and of their real training glyphs, read by `content`."""
    from keras_gan.data import load_dataset
    from keras_gan.metrics.evaluate import evaluate as score_generator
    from keras_gan.sampling import load_sampler

    lines = [
        "\n| glyph generator | training data | content accuracy generated / real |",
        "|---|---|---|",
    ]
    for path in paths:
        sampler = load_sampler(path)
        spec = sampler.training_data_spec()
        data = load_dataset(spec, sampler.image_shape[0], sampler.image_shape[2])
        generated = score_generator(sampler, data, content, ("cas",), log=lambda line: None)
        ids = np.asarray([content.labels.index(data.label_names[i]) for i in data.labels])
        real = evaluate.accuracy(content, data.images[..., 0], ids)
        cas = generated["scores"]["cas"]
        lines.append(f"| {path} | {spec} ({len(data)} glyphs) | {cas:.3f} / {real:.3f} |")
    return lines


def nearest_faces(target, faces, chars, count=3) -> list[tuple[float, str]]:
    """The `count` faces whose real glyphs of `chars` lie nearest the target's (mean L1
    in [0, 1] over the characters both have): a relative the names hide shows here."""
    distances = []
    for face in faces:
        both = [c for c in chars if c in target.glyphs and c in face.glyphs]
        if both:
            a, b = (np.stack([s.glyphs[c] for c in both]) for s in (target, face))
            distances.append((float(evaluate.l1(a, b).mean()), face.name))
    return sorted(distances)[:count]


def run_script(
    script, setup, root, base_dir, shots, fewshot_steps, fewshot_variants, content, ocr=None
):
    chars = parse_charset(setup["charset"])
    train_chars, test_chars = split_chars(chars, "train"), split_chars(chars, "heldout")
    times = {}
    if base_dir is None:
        with Clock() as clock:
            base_dir = train_base(script, setup, root, setup["base_steps"])
        times["base"] = clock
    model, config, info = load_font_model(base_dir)
    names = info["label_names"]  # the base's own styles and source, not SCRIPTS' defaults
    source = source_style(source_token(base_dir, config.data.spec), chars, SIZE)
    targets = {
        kind: face_style(select_fonts([name])[0], chars, SIZE)
        for kind, name in setup["targets"].items()
    }
    bases = [face_style(select_fonts([name])[0], chars, SIZE) for name in names]
    setup.update(  # what the section reports
        source=source.name,
        base=names,
        base_kwargs=config.model_kwargs,
        relatives={k: nearest_faces(t, bases, train_chars) for k, t in targets.items()},
    )
    styles = [source, *bases, *targets.values()]
    rng = np.random.default_rng(0)
    reader_chars = "".join(rng.permutation(list(train_chars))[: setup["reader_train_chars"]])
    # Steps of 64 glyphs, not epochs: an epoch of 111 faces costs 3 of 36 faces.
    images = len(styles) * len(reader_chars)
    setup["reader_epochs"] = math.ceil(setup["reader_steps"] * 64 / images)
    saved_reader = root / f"{script}-style-reader"  # kept: a later failure does not cost it
    with Clock() as clock:
        if (saved_reader / "extractor.json").is_file():
            style_reader, reader_info = load_reader(saved_reader)
        else:
            style_reader, reader_info = evaluate.train_style_reader(
                styles, reader_chars, setup["reader_epochs"]
            )
            style_reader.save(saved_reader, reader_info)
    times["style reader"] = clock
    # (row name, target style, held-out chars, generated glyphs, CPU seconds): scored last
    pending = []
    for style in bases:
        held = [c for c in test_chars if c in style.glyphs and c in source.glyphs]
        generated = translate(
            model, np.stack([source.glyphs[c] for c in held]), names.index(style.name)
        )
        pending.append(("base (all training chars)", style, held, generated, None))
    for kind, target in targets.items():
        sources = source.glyphs
        held = [c for c in test_chars if c in target.glyphs and c in sources]
        drawn = np.stack([sources[c] for c in held])
        pool = rng.permutation([c for c in train_chars if c in target.glyphs and c in sources])
        for count in shots:  # nested: the 16 samples are among the 50, those among the 200
            samples = "".join(pool[:count])
            seen = dataclasses.replace(target, glyphs={c: target.glyphs[c] for c in samples})
            with Clock() as clock:
                nearest = model.nearest_style(
                    model_input(source, samples), model_input(target, samples)
                )
            pending.append(
                (f"nearest training style, {names[nearest]} ({count} glyphs)", target, held,
                 translate(model, drawn, nearest), clock.cpu)
            )  # fmt: skip
            with Clock() as clock:
                vector = like_style(model, source, seen, log=lambda line: None)
            pending.append(
                (f"zero-shot --like ({count} glyphs)", target, held,
                 translate(model, drawn, vector), clock.cpu)
            )  # fmt: skip
            folder = root / script / kind / str(count) / target.name
            if not folder.is_dir():
                write_glyph_folder({c: target.glyphs[c] for c in samples}, folder)
            for variant in fewshot_variants:
                run_dir = root / script / kind / str(count) / f"run-{variant}"
                cpu = None
                if (run_dir / "model.keras").is_file():  # a finished fit in --work: rescore
                    fine_model = runs.load_run(run_dir)[0]
                else:
                    with Clock() as clock:  # the pseudo-glyphs are part of the fit
                        config = fit_config(
                            str(folder),
                            charset=setup["charset"],
                            base=str(base_dir),
                            steps=fewshot_steps,
                            holdout=True,
                            run_dir=run_dir,
                            **FEWSHOT_VARIANTS[variant],
                        )
                        fine_model, _ = training.fit(config, run_dir=run_dir, log=print)
                    cpu = clock.cpu
                pending.append(
                    (f"few-shot {variant} ({count} glyphs)", target, held,
                     translate(fine_model, drawn, 0), cpu)
                )  # fmt: skip
    rows, ocr_known = [], {}  # ocr_known: the engine's rates of real and copied glyphs
    for name, style, held, generated, cpu in pending:
        scores = evaluate.compare(
            generated, source, style, held, styles.index(style), content, style_reader
        )
        if ocr is not None:
            scores["generated"]["ocr"] = read_right(ocr, generated, held).mean()
            for kind, glyphs in (("real target", style.glyphs), ("copy source", source.glyphs)):
                if (kind, style.name) not in ocr_known:
                    images = np.stack([glyphs[c] for c in held])
                    ocr_known[kind, style.name] = read_right(ocr, images, held).mean()
                scores[kind]["ocr"] = ocr_known[kind, style.name]
        rows.append((name, style.name, scores, cpu))
    return (
        rows,
        times,
        reader_info,
        {"train": len(train_chars), "held_out": len(test_chars)},
        base_dir,
    )


def section(script, setup, rows, reader_info, split, base_dir, ocr=None) -> list[str]:
    """The RESULTS.md table of one script."""
    lines = [
        f"\n### {script}: source {setup['source']}, {setup['charset']} "
        f"({split['train']} training / {split['held_out']} held-out characters)\n",
        f"Base model: {base_dir} (styles {', '.join(setup['base'])}). Style reader: "
        f"{len(styles_of(setup))} fonts, {setup['reader_epochs']} epochs, accuracy "
        f"{reader_info['held_out_accuracy']} on held-out images of training characters. "
        f"Base network: {', '.join(f'{k} {v}' for k, v in setup['base_kwargs'].items())}.\n",
        "The base's faces nearest each target (real glyphs of training characters, mean L1; "
        "a face drawn from the target's outlines would sit far below the others): "
        + "; ".join(
            f"{kind}: " + ", ".join(f"{name} {d:.3f}" for d, name in near)
            for kind, near in setup["relatives"].items()
        )
        + ".\n",
        "| model | target | glyphs | L1 gen / copy | SSIM gen / copy "
        "| content gen / copy / real | style gen / copy / real | CPU s |"
        + (f" {ocr} gen / copy / real |" if ocr else ""),
        "|---|---|---|---|---|---|---|---|" + ("---|" if ocr else ""),
    ]
    for name, target, scores, cpu in rows:
        g, c, r = scores["generated"], scores["copy source"], scores["real target"]
        lines.append(
            f"| {name} | {target} | {g['glyphs']} | {g['l1']:.3f} / {c['l1']:.3f} | "
            f"{g['ssim']:.3f} / {c['ssim']:.3f} | {g['content_accuracy']:.2f} / "
            f"{c['content_accuracy']:.2f} / {r['content_accuracy']:.2f} | "
            f"{g['style_accuracy']:.2f} / {c['style_accuracy']:.2f} / "
            f"{r['style_accuracy']:.2f} | {'' if cpu is None else f'{cpu:.0f}'} |"
            + (f" {g['ocr']:.2f} / {c['ocr']:.2f} / {r['ocr']:.2f} |" if ocr else "")
        )
    return lines


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scripts", default="zh,latin")
    parser.add_argument("--zh-base", help="an existing zh base run directory")
    parser.add_argument("--latin-base", help="an existing Latin base run directory")
    parser.add_argument("--base-steps", type=int, help="base training steps (zh 5000, latin 2000)")
    parser.add_argument("--content", help="a saved content reader instead of training one")
    parser.add_argument(
        "--glyph-models",
        default="saved_models/glyphs",
        help="comma-separated conditional glyph generators to score with the content reader",
    )
    parser.add_argument(
        "--shots", default="16,50,200", help="comma-separated numbers of sample glyphs"
    )
    parser.add_argument(
        "--fewshot-steps", type=int, help="default: kgan font fit's (3 per sample, 200 to 1000)"
    )
    parser.add_argument(
        "--fewshot-variants",
        default="l1",
        help=f"comma-separated few-shot fine-tunings ({', '.join(FEWSHOT_VARIANTS)})",
    )
    parser.add_argument(
        "--ocr",
        choices=sorted(ENGINES),
        help="also read every held-out glyph with this outside OCR engine (bench/glyph_ocr.py: "
        "exact character; it knows hanzi and Latin letters, not Greek or Cyrillic)",
    )
    parser.add_argument(
        "--work",
        help="where runs go (default: a temporary folder); few-shot runs already finished "
        "there are scored again, not refitted",
    )
    args = parser.parse_args()
    root = Path(args.work or tempfile.mkdtemp(prefix="kgan-font-bench-"))
    lines = [
        f"\n## Font translation on held-out characters ({time.strftime('%Y-%m-%d')})\n",
        f"Machine: {machine()}. Command: `.venv/bin/python bench/font_quality.py` "
        f"(--shots {args.shots}, --fewshot-steps {args.fewshot_steps or 'auto'}, "
        f"--fewshot-variants {args.fewshot_variants}"
        + (f", --ocr {args.ocr}" if args.ocr else "")
        + ", batch 16, 64 px).",
        "Scores are means over every held-out character the source and target fonts both "
        "have (characters no model trained on). L1 in [0, 1]; SSIM 11x11 Gaussian; content: "
        "a classifier trained on real glyphs of the held-out characters (both scripts) in "
        "every font found reads the intended character; "
        "style: a font classifier trained on real glyphs of training characters picks the "
        'target font. "copy source" is the source glyph unchanged; "real" is the target '
        "font itself (what the classifiers reach at best).",
    ]
    with Clock() as clock:
        if args.content:  # a reader saved by an earlier run (GlyphClassifier.save)
            content, content_info = load_reader(args.content)
        else:
            content, content_info = evaluate.train_content_reader(reader_chars())
            content.save(root / "content_reader", content_info)
    scripts = args.scripts.split(",")
    ocr = ENGINES[args.ocr]() if args.ocr else None
    if args.ocr and ocr is None:
        raise SystemExit(f"--ocr {args.ocr}: not installed (see bench/glyph_ocr.py)")
    unread = sorted(set(reader_chars(scripts)) - set(content.labels))
    if unread:  # found before hours of fine-tuning, not when the first row is scored
        raise SystemExit(
            f"the content reader does not know {len(unread)} held-out characters of "
            f"{args.scripts} (e.g. {''.join(unread[:10])}): leave out --content to train one"
        )
    lines.append(
        f"Content reader: {len(content.labels)} characters (the held-out ones and the default "
        f"glyph set), {content_info['image_size']} px, {content_info['train_images']} real "
        f"glyphs, {content_info['held_out_accuracy']} accurate on font faces it never saw; "
        + (
            f"loaded from {args.content}."
            if args.content
            else f"CPU {clock.cpu:.0f} s; saved to {root / 'content_reader'} (reuse: --content)."
        )
    )
    if args.glyph_models:
        lines += glyph_model_rows(args.glyph_models.split(","), content)
    publish(lines)  # each script's section follows as soon as it is done
    for script in scripts:
        setup = dict(SCRIPTS[script])
        setup["base_steps"] = args.base_steps or setup["base_steps"]
        base = getattr(args, f"{script}_base")
        rows, times, reader_info, split, base_dir = run_script(
            script,
            setup,
            root,
            Path(base) if base else None,
            [int(n) for n in args.shots.split(",")],
            args.fewshot_steps,
            args.fewshot_variants.split(","),
            content,
            ocr,
        )
        lines = section(script, setup, rows, reader_info, split, base_dir, args.ocr)
        lines.append(
            "\nCPU time (process, seconds; wall in brackets): "
            + ", ".join(f"{k} {v.cpu:.0f} ({v.wall:.0f})" for k, v in times.items())
        )
        print(json.dumps({"rows": rows}, indent=1))
        publish(lines)


if __name__ == "__main__":
    main()
