"""`text:PATH[?length=N&split=lines|windows]`: a UTF-8 corpus as character sequences.

Characters are the tokens (Chinese needs no spaces, English is read the same way).
`split=lines` (default): every non-empty line is one example, padded to `length`;
longer lines are skipped and counted. `split=windows`: the corpus (lines joined by
newlines) cut into consecutive `length`-character windows.

One line in ten (by a hash of its text, so the split never changes) is held out of
training: the references of BLEU and n-gram JSD. The vocabulary is id 0 = end of line
(padding, and the start symbol of the MLE model), then the training characters by
frequency; it is saved with the model, and text with a character outside it is named.
"""

from __future__ import annotations

import urllib.parse
import zlib
from collections import Counter
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path

import numpy as np

from keras_gan.data.base import DataError
from keras_gan.data.base import ImageData
from keras_gan.registry import DATASETS

END = 0  # token id of "end of line" (and padding)
DEFAULT_LENGTH = 32
HELD_OUT_ONE_IN = 10


@dataclass
class TextData:
    """Token sequences in memory.

    Args:
        tokens: int32 `(N, length)`; ids into `vocab`, `END` after the line.
        vocab: characters by id (`vocab[0]` is "", the end of line).
        held_out: lines kept out of training (references for BLEU/JSD).
        report: what was skipped and why, and other facts.
    """

    tokens: np.ndarray
    vocab: list[str]
    held_out: list[str] = field(default_factory=list)
    report: dict = field(default_factory=dict)

    # What the training loop asks of every data set.
    modality = "text"
    labels = None
    label_names: list[str] = field(default_factory=list)
    style_names: list[str] = field(default_factory=list)
    num_classes = 0

    def __len__(self) -> int:
        return len(self.tokens)

    def model_kwargs(self) -> dict:
        return {"vocab_size": len(self.vocab), "length": self.length}

    def info(self, spec: str) -> dict:
        return {**ImageData.info(self, spec), "vocab": self.vocab}

    @property
    def length(self) -> int:
        return self.tokens.shape[1]

    @property
    def lines(self) -> list[str]:
        return decode(self.tokens, self.vocab)


def held_out(line: str) -> bool:
    return zlib.crc32(line.encode("utf-8")) % HELD_OUT_ONE_IN == 0


def encode(lines: list[str], vocab: list[str], length: int) -> np.ndarray:
    """int32 `(len(lines), length)`; a character outside `vocab` is a DataError naming it."""
    index = {char: i for i, char in enumerate(vocab) if i != END}
    tokens = np.full((len(lines), length), END, np.int32)
    for row, line in enumerate(lines):
        unknown = sorted({c for c in line if c not in index})
        if unknown:
            raise DataError(
                f"line {row + 1} ({line[:20]!r}) has character(s) outside the model's "
                f"vocabulary of {len(vocab) - 1}: {''.join(unknown[:10])!r}"
            )
        if len(line) > length:
            raise DataError(f"line {row + 1} has {len(line)} characters; the model takes {length}")
        tokens[row, : len(line)] = [index[c] for c in line]
    return tokens


def decode(tokens, vocab: list[str]) -> list[str]:
    """Lines from token ids, each up to its first end of line."""
    lines = []
    for row in np.asarray(tokens):
        ends = np.flatnonzero(row == END)
        row = row[: ends[0]] if len(ends) else row
        lines.append("".join(vocab[i] for i in row))
    return lines


@DATASETS.register("text")
def load_text(rest: str, image_size: int = 0, channels: int = 0) -> TextData:
    path_text, _, query = rest.partition("?")
    params = urllib.parse.parse_qs(query, keep_blank_values=True)
    unknown = sorted(set(params) - {"length", "split"})
    if unknown:
        raise DataError(f"text:{rest}: unknown option {unknown[0]!r}; valid: length, split")
    split = params.get("split", ["lines"])[0]
    if split not in ("lines", "windows"):
        raise DataError(f"text:{rest}: split must be lines or windows, got {split!r}")
    length = params.get("length", [str(DEFAULT_LENGTH)])[0]
    if not length.isdigit() or not 2 <= int(length) <= 1024:
        raise DataError(f"text:{rest}: length must be an integer in 2..1024, got {length!r}")
    length = int(length)
    path = Path(path_text).expanduser()
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise DataError(f"text:{rest}: cannot read {path}: {e.strerror}") from None
    try:
        corpus = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        raise DataError(
            f"text:{rest}: {path} is not UTF-8: byte 0x{raw[e.start]:02x} at offset {e.start} "
            f"(line {line}); convert it, e.g. iconv -f GB18030 -t UTF-8"
        ) from None
    corpus = corpus.lstrip("\ufeff").replace("\r\n", "\n")
    skipped = Counter()
    lines = []
    for line in corpus.split("\n"):
        line = line.strip()
        if not line:
            skipped["empty line"] += 1
        elif split == "lines" and len(line) > length:
            skipped[f"longer than {length} characters"] += 1
        else:
            lines.append(line)
    if split == "windows":
        text = "\n".join(lines)
        lines = [text[i : i + length] for i in range(0, len(text) - length + 1, length)]
    train = [line for line in lines if not held_out(line)]
    references = [line for line in lines if held_out(line)]
    if not train:
        raise DataError(f"text:{rest}: no usable line in {path} (skipped: {dict(skipped)})")
    counts = Counter("".join(train))
    vocab = [""] + sorted(counts, key=lambda c: (-counts[c], c))
    report = {
        "skipped": dict(skipped),
        "lines": len(train),
        "held_out": len(references),
        "vocab": len(vocab) - 1,
        "split": split,
    }
    return TextData(encode(train, vocab, length), vocab, references, report)
