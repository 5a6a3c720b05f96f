"""Text metrics over character sequences: BLEU, Self-BLEU and n-gram Jensen-Shannon.

BLEU-n of a generated line is NLTK's `sentence_bleu` against every reference line
(clipped n-gram precisions for n = 1..N with uniform weights, smoothing method 1,
brevity penalty from the closest reference length), averaged over the lines, as
Texygen scores text GANs; here it runs in one pass over the references (the maximum
count of each n-gram in any one reference is all clipping needs) instead of once per
line.

Self-BLEU (diversity; lower is more diverse) scores each generated line against the
*other* lines of the same set. Texygen's version had two bugs: the line was among its
own references (so a repeated line scored 1 against itself), and the reference set
was built once and reused for later sample sets. Here a line's own counts are taken
out of the maxima, and every call builds its references from the lines it is given.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Sequence

EPSILON = 0.1  # NLTK SmoothingFunction().method1


def ngrams(line: Sequence[str], n: int) -> Counter:
    return Counter(tuple(line[i : i + n]) for i in range(len(line) - n + 1))


class References:
    """Clipping maxima of a reference set for n = 1..max_n, with the runner-up of each
    maximum so that one reference can be left out (Self-BLEU)."""

    def __init__(self, lines: Sequence[str], max_n: int):
        self.max_n = max_n
        self.lengths = Counter(len(line) for line in lines)
        # n-gram -> [best count, how many lines hold it, second-best count]
        self.top: list[dict] = [dict() for _ in range(max_n + 1)]
        for line in lines:
            for n in range(1, max_n + 1):
                for gram, count in ngrams(line, n).items():
                    entry = self.top[n].get(gram)
                    if entry is None:
                        self.top[n][gram] = [count, 1, 0]
                    elif count > entry[0]:
                        entry[:] = [count, 1, entry[0]]
                    elif count == entry[0]:
                        entry[1] += 1
                    elif count > entry[2]:
                        entry[2] = count

    def max_count(self, gram: tuple, n: int, left_out: Counter | None) -> int:
        entry = self.top[n].get(gram)
        if entry is None:
            return 0
        best, holders, second = entry
        if left_out is not None and left_out[gram] == best and holders == 1:
            return second
        return best

    def closest_length(self, length: int, left_out: int | None) -> int:
        """The reference length closest to `length` (the shorter on a tie), as NLTK."""
        lengths = self.lengths.copy()
        if left_out is not None:
            lengths[left_out] -= 1
        candidates = [r for r, count in lengths.items() if count > 0]
        return min(candidates, key=lambda r: (abs(r - length), r))

    def bleu(self, line: str, max_n: int, leave_out: bool = False) -> float:
        """Sentence BLEU-`max_n` of `line`; with `leave_out`, `line` is one of the
        references and is not counted as its own."""
        if not line:
            return 0.0
        log_sum = 0.0
        for n in range(1, max_n + 1):
            counts = ngrams(line, n)
            own = counts if leave_out else None
            total = max(1, sum(counts.values()))  # NLTK: a line shorter than n counts 0/1
            clipped = sum(min(c, self.max_count(g, n, own)) for g, c in counts.items())
            if clipped == 0:
                if n == 1:  # NLTK: no character in common scores 0
                    return 0.0
                clipped = EPSILON
            log_sum += math.log(clipped / total) / max_n
        closest = self.closest_length(len(line), len(line) if leave_out else None)
        brevity = 1.0 if len(line) > closest else math.exp(1 - closest / len(line))
        return brevity * math.exp(log_sum)


def bleu(generated: Sequence[str], references: Sequence[str], max_n: int) -> float:
    """Mean sentence BLEU-`max_n` of the generated lines against all reference lines."""
    table = References(references, max_n)
    return sum(table.bleu(line, max_n) for line in generated) / len(generated)


def self_bleu(generated: Sequence[str], max_n: int) -> float:
    """Mean BLEU-`max_n` of each generated line against the other generated lines."""
    if len(generated) < 2:
        raise ValueError("Self-BLEU needs at least two lines")
    table = References(generated, max_n)
    return sum(table.bleu(line, max_n, leave_out=True) for line in generated) / len(generated)


def ngram_jsd(generated: Sequence[str], references: Sequence[str], n: int) -> float:
    """Jensen-Shannon divergence (bits, 0..1) between the character n-gram
    distributions of two sets of lines."""
    p, q = (
        sum((ngrams(line, n) for line in lines), Counter()) for lines in (generated, references)
    )
    p_total, q_total = sum(p.values()), sum(q.values())
    if not p_total or not q_total:
        raise ValueError(f"no {n}-gram in one of the sets: lines shorter than {n}")
    divergence = 0.0  # KL(P || M) + KL(Q || M)
    for gram in p.keys() | q.keys():
        a, b = p[gram] / p_total, q[gram] / q_total
        m = (a + b) / 2
        divergence += (a * math.log2(a / m) if a else 0.0) + (b * math.log2(b / m) if b else 0.0)
    return divergence / 2


TEXT_METRICS = ("bleu", "selfbleu", "jsd", "nll")
ORDERS = {"bleu": (2, 3, 4, 5), "selfbleu": (2, 3, 4, 5), "jsd": (1, 2, 3, 4)}


def evaluate_text(
    sampler,
    references: Sequence[str],
    metrics=("bleu", "selfbleu", "jsd"),
    num_samples: int = 1000,
    temperature: float = 1.0,
    language_model=None,
) -> dict:
    """Scores `num_samples` lines (seeds 0..N-1) of a text sampler.

    Args:
        sampler: a `keras_gan.sampling.TextSampler`.
        references: held-out real lines (BLEU and JSD compare against them).
        metrics: bleu (BLEU-2..5, quality), selfbleu (Self-BLEU-2..5, lower = more
            diverse), jsd (character n-gram JSD for n = 1..4, against the references),
            nll (nats per character of the samples under `language_model`, a
            `text_mle` model; lines with characters it does not know are skipped and
            counted).
        temperature: sampling temperature (0: the most likely characters).
    """
    unknown = sorted(set(metrics) - set(TEXT_METRICS))
    if unknown:
        raise ValueError(f"unknown metric {unknown[0]!r}; valid: {', '.join(TEXT_METRICS)}")
    if not references:
        raise ValueError("no held-out reference lines to compare with")
    lines = sampler.lines(range(num_samples), temperature)
    scored = [line for line in lines if line]
    scores = {}
    if "bleu" in metrics:
        table = References(references, 5)
        for n in ORDERS["bleu"]:
            scores[f"bleu{n}"] = sum(table.bleu(x, n) for x in lines) / len(lines)
    if "selfbleu" in metrics:
        table = References(lines, 5)
        for n in ORDERS["selfbleu"]:
            scores[f"selfbleu{n}"] = sum(table.bleu(x, n, True) for x in lines) / len(lines)
    if "jsd" in metrics:
        for n in ORDERS["jsd"]:
            scores[f"jsd{n}"] = ngram_jsd(scored, references, n)
    protocol = {
        "num_samples": num_samples,
        "temperature": temperature,
        "references": len(references),
        "empty_lines": len(lines) - len(scored),
        "distinct_lines": len(set(lines)),
    }
    if "nll" in metrics:
        if language_model is None:
            raise ValueError("nll needs a text_mle model (--nll-model RUN_DIR)")
        scores["nll"], protocol["nll_skipped"] = sample_nll(language_model, scored)
    return {"scores": scores, "protocol": protocol, "samples": lines[:20]}


def sample_nll(language_model, lines: Sequence[str]) -> tuple[float, int]:
    """(mean nats per character of `lines` under a `text_mle` model (model, vocab),
    lines skipped for characters or lengths it does not take)."""
    from keras_gan.data.base import DataError
    from keras_gan.data.text import encode

    model, vocab = language_model
    known = []
    for line in lines:
        try:
            known.append(encode([line], vocab, model.length)[0])
        except DataError:
            continue
    if not known:
        raise ValueError("no sampled line uses only characters the NLL model knows")
    values = []
    for start in range(0, len(known), 256):
        values += list(model.nll(known[start : start + 256]).numpy())
    return float(sum(values) / len(values)), len(lines) - len(known)
