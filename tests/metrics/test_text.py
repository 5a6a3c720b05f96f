import math
import random
import warnings

import pytest
from nltk.translate.bleu_score import SmoothingFunction
from nltk.translate.bleu_score import sentence_bleu

from keras_gan.metrics import text


def corpus(seed, count, alphabet="abcde永字八法"):
    rng = random.Random(seed)
    return ["".join(rng.choices(alphabet, k=rng.randint(1, 12))) for _ in range(count)]


def nltk_bleu(references, line, n):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # NLTK warns about zero counts it then smooths
        return sentence_bleu(
            [list(r) for r in references],
            list(line),
            weights=(1 / n,) * n,
            smoothing_function=SmoothingFunction().method1,
        )


@pytest.mark.parametrize("n", [2, 3, 4, 5])
def test_bleu_equals_nltk_sentence_bleu_averaged(n):
    references, generated = corpus(0, 60), corpus(1, 25)
    expected = sum(nltk_bleu(references, line, n) for line in generated) / len(generated)
    assert text.bleu(generated, references, n) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("n", [2, 4])
def test_self_bleu_never_scores_a_line_against_itself(n):
    generated = corpus(2, 30) + ["abcabc", "abcabc"]  # one line twice
    expected = [
        nltk_bleu(generated[:i] + generated[i + 1 :], line, n) for i, line in enumerate(generated)
    ]
    assert text.self_bleu(generated, n) == pytest.approx(sum(expected) / len(expected), abs=1e-12)
    # Distinct lines: no line finds itself; a repeated line finds its twin.
    assert text.self_bleu(["abcd", "wxyz"], n) == 0.0
    assert text.self_bleu(["abcd", "abcd"], n) == 1.0


def test_self_bleu_builds_references_from_each_set():
    assert text.self_bleu(["abab", "abab"], 2) == 1.0
    assert text.self_bleu(["abab", "cdcd"], 2) == 0.0  # nothing kept from the call before


def test_ngram_jsd_known_values():
    assert text.ngram_jsd(["abc"], ["abc", "abc"], 1) == 0.0
    assert text.ngram_jsd(["aaa"], ["bbb"], 2) == 1.0
    # unigrams P = {a: 1/2, b: 1/2}, Q = {a: 1}, M = {a: 3/4, b: 1/4}
    kl_p = 0.5 * math.log2(0.5 / 0.75) + 0.5 * math.log2(0.5 / 0.25)
    kl_q = math.log2(1 / 0.75)
    assert text.ngram_jsd(["ab"], ["aa"], 1) == pytest.approx((kl_p + kl_q) / 2, abs=1e-12)
    with pytest.raises(ValueError, match="no 4-gram"):
        text.ngram_jsd(["abc"], ["abcd"], 4)
