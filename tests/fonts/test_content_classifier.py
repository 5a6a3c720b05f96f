"""The shipped character classifier that judges every glyph generator's content."""

from pathlib import Path

import numpy as np

from keras_gan.data.glyphs import gb2312_level1
from keras_gan.data.glyphs import latin1
from keras_gan.fonts.pairs import held_out
from keras_gan.fonts.pairs import source_style
from keras_gan.metrics.extractors import GlyphClassifier
from tests.fonts.conftest import KAI
from tests.fonts.conftest import LATIN

CLASSIFIER = Path(__file__).parents[2] / "saved_models" / "content_classifier"


def test_it_reads_every_gb2312_and_latin1_character(installed):
    classifier = GlyphClassifier.load(CLASSIFIER)
    assert classifier.labels == list(gb2312_level1() + latin1())
    # Held-out characters, drawn at the 64 px of font2font and at the 32 px of glyph_gan.
    chars = [c for c in gb2312_level1() if held_out(c)][:60]
    for size in (64, 32):
        kai = source_style(KAI, "".join(chars), size)
        images = np.stack([kai.glyphs[c] for c in chars])[..., None]
        _, probabilities = classifier.features_and_probabilities(images)
        read = [classifier.labels[i] for i in probabilities.argmax(axis=1)]
        assert np.mean([a == b for a, b in zip(read, chars)]) >= 0.9, size
    latin = source_style(LATIN, "AbQz7&", 64)
    _, probabilities = classifier.features_and_probabilities(
        np.stack(list(latin.glyphs.values()))[..., None]
    )
    assert "".join(classifier.labels[i] for i in probabilities.argmax(axis=1)) == "AbQz7&"
