"""Generated glyphs read by OCR engines this project does not control (issue #18).

The content readers of bench/glyph_quality.py are trained here, on the fonts the model
learned from; an outside engine is the reader users meet. Each SOURCE (a run folder, a
SavedModel or saved_models/NAME of a conditional glyph model) draws `--seeds` samples of
every character; the engines read each glyph alone, on a 16-px margin of paper, and a
read counts when it is exactly the character (case too: a Latin "o" read as "O" is
wrong, which is why real Latin letters read lower than hanzi). "real" is the same
engine on the real glyphs of the same characters, every face of the training data.
Every character weighs the same on both sides (hanzi and Latin apart).

Engines (each is skipped, saying so, when it is not installed):

- `ppocr`: PaddleOCR's PP-OCRv4 Chinese recognizer (text lines in Chinese and Latin),
  run by onnxruntime through `rapidocr-onnxruntime` 1.4.4 (pip extra `bench`; that
  version carries the model files, later ones download them).
- `tesseract`: Tesseract 5 with its `chi_sim` and `eng` models, one character per image
  (`--psm 10`): `apt-get install tesseract-ocr tesseract-ocr-chi-sim`.

    .venv/bin/python bench/glyph_ocr.py SOURCE [SOURCE ...] [--seeds 32] [--names A,B]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image
from results import machine
from results import publish

from keras_gan.data import load_dataset
from keras_gan.data.glyphs import is_cjk
from keras_gan.sampling import load_sampler

MARGIN = 16  # px of paper around each glyph: both engines expect text inside a page


def on_paper(image: np.ndarray) -> np.ndarray:
    return np.pad(image, MARGIN, constant_values=255)


def ppocr():
    """PP-OCRv4's recognizer alone (one glyph is one text line: no detection)."""
    try:
        from rapidocr_onnxruntime import RapidOCR
    except ImportError:
        return None
    engine = RapidOCR()

    def read(images: np.ndarray) -> list[str]:
        texts = []
        for image in images:
            found, _ = engine(
                np.repeat(on_paper(image)[..., None], 3, axis=-1),
                use_det=False,
                use_cls=False,
                use_rec=True,
            )
            texts.append(found[0][0] if found else "")
        return texts

    return read


def tesseract():
    """Tesseract 5, one character per image, all images in one process."""
    if shutil.which("tesseract") is None:
        return None

    def read(images: np.ndarray) -> list[str]:
        with tempfile.TemporaryDirectory() as work:
            paths = []
            for i, image in enumerate(images):
                paths.append(f"{work}/{i:06d}.png")
                Image.fromarray(on_paper(image)).save(paths[-1])
            Path(work, "list.txt").write_text("\n".join(paths) + "\n")
            command = ["tesseract", f"{work}/list.txt", f"{work}/out", "-l", "chi_sim+eng"]
            subprocess.run([*command, "--psm", "10"], check=True, capture_output=True)
            pages = Path(work, "out.txt").read_text(encoding="utf-8").split("\f")
        return [page.replace(" ", "").strip() for page in pages[: len(images)]]

    return read


ENGINES = {"ppocr": ppocr, "tesseract": tesseract}


def read_right(read, images: np.ndarray, chars) -> np.ndarray:
    """1.0 where the engine `read` reads each glyph (uint8 (N, S, S)) as its character."""
    return np.asarray([text == c for text, c in zip(read(images), chars)], np.float64)


def rates(read, images: np.ndarray, labels: np.ndarray, names: list[str]) -> dict:
    """Hanzi and Latin read rates, each character weighing the same."""
    right = read_right(read, images, [names[label] for label in labels])
    per_char = {i: right[labels == i].mean() for i in np.unique(labels)}
    hanzi = [rate for i, rate in per_char.items() if is_cjk(names[i])]
    latin = [rate for i, rate in per_char.items() if not is_cjk(names[i])]
    return {"hanzi": float(np.mean(hanzi)), "latin": float(np.mean(latin))}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sources", nargs="+")
    parser.add_argument("--seeds", type=int, default=32, help="samples per character")
    parser.add_argument("--names", help="comma-separated row names (default: the sources)")
    args = parser.parse_args()
    names = args.names.split(",") if args.names else args.sources
    engines = {}
    for name, make in ENGINES.items():
        engines[name] = make()
        if engines[name] is None:
            print(f"{name}: not installed, skipped (see this file's note)")
    engines = {name: read for name, read in engines.items() if read is not None}
    if not engines:
        raise SystemExit("no OCR engine installed: see bench/glyph_ocr.py's note")
    rows, real = {}, {}
    for row, source in zip(names, args.sources):
        sampler = load_sampler(source)
        key = (sampler.training_data_spec(), sampler.image_shape[0])
        labels = sampler.labels
        if key not in real:
            data = load_dataset(key[0], key[1], 1)
            if data.label_names != labels:
                raise SystemExit(f"{source}: its labels are not those of {key[0]}")
            real[key] = {
                engine: rates(read, data.images[..., 0], data.labels, labels)
                for engine, read in engines.items()
            }
            print("real", key, real[key], flush=True)
        ids = np.repeat(np.arange(len(labels)), args.seeds)
        images = sampler.generate(list(np.tile(np.arange(args.seeds), len(labels))), ids)[..., 0]
        scores = {engine: rates(read, images, ids, labels) for engine, read in engines.items()}
        rows[row] = (key, scores)
        print(row, rows[row][1], flush=True)
    lines = [
        f"\n## Glyphs read by outside OCR engines ({time.strftime('%Y-%m-%d')})\n",
        f"Machine: {machine()}. Command: `.venv/bin/python bench/glyph_ocr.py "
        f"{' '.join(args.sources)} --seeds {args.seeds}`. Each glyph read alone on a "
        f"{MARGIN}-px margin; exact character, case included; every character weighs the "
        "same; real: the same engine on every training face's glyph of the character.",
        "",
        "| model | engine | hanzi (gen / real) | Latin (gen / real) |",
        "|---|---|---|---|",
    ]
    for row, (key, scores) in rows.items():
        for engine, s in scores.items():
            r = real[key][engine]
            lines.append(
                f"| {row} | {engine} | {s['hanzi']:.3f} / {r['hanzi']:.3f} = "
                f"{s['hanzi'] / r['hanzi']:.2f} | {s['latin']:.3f} / {r['latin']:.3f} = "
                f"{s['latin'] / r['latin']:.2f} |"
            )
    publish(lines)


if __name__ == "__main__":
    main()
