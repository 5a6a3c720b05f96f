"""Font translation judged on held-out characters: pixels (L1, SSIM) and readers.

Every score compares glyphs of characters the model never trained on
(`keras_gan.data.fontpairs.held_out`) with the real target font's rendering, next
to two references: the trivial "copy the source glyph" and the real target
glyphs themselves (what the classifiers can do at best).

- content accuracy: a character classifier trained on real glyphs of the evaluated
  characters in every font found (`train_content_reader`) reads the glyph as the
  intended character;
- style accuracy: a font classifier, trained on real glyphs of the training
  characters only, assigns the glyph to the target font.
"""

from __future__ import annotations

import numpy as np

from keras_gan.data.base import ImageData
from keras_gan.data.fontpairs import Style


def raster_back(font_path, char: str, size: int, em_pixels: float) -> np.ndarray:
    """A font file's glyph where a bitmap of side `size` showing the em as `em_pixels`
    pixels has it (`keras_gan.fonts.outline`'s geometry: the advance centred, the middle
    of hhea's ascender..descender at the middle row): ink 0..255, for comparing a written
    font with the bitmaps it was traced from.

    FreeType's exact coverage at exact coordinates: a text engine's placement (Pillow's
    "mm" anchor rounds the ascender and descender to whole pixels) would move the glyph
    by up to 1/8 pixel at 4x supersampling, which alone costs thin strokes 0.02 IoU at
    128 px (bench/RESULTS.md)."""
    from fontTools.pens.freetypePen import FreeTypePen
    from fontTools.ttLib import TTFont

    with TTFont(str(font_path), lazy=True) as font:
        glyphs = font.getGlyphSet()
        glyph = glyphs[font.getBestCmap()[ord(char)]]
        hhea = font["hhea"]
        scale = em_pixels / font["head"].unitsPerEm
        middle_y = (hhea.ascent + hhea.descent) / 2
        pen = FreeTypePen(glyphs)
        glyph.draw(pen)
        offset = (size / 2 - glyph.width / 2 * scale, size / 2 - middle_y * scale)
        coverage = pen.array(size, size, (scale, 0, 0, scale, *offset))
    return np.round(np.clip(coverage, 0.0, 1.0) * 255).astype(np.uint8)


def overlap_area(font_path, char: str) -> float:
    """How far a font's glyph is from a clean outline, in square font units: the ink its
    contours' signed areas add up to, against the ink they cover when filled (skia's
    path simplification, nonzero winding). Zero for contours that neither cross
    themselves nor each other and wind as holes and outers should; a figure eight, two
    overlapping strokes or a hole drawn the wrong way round each leave their area."""
    import pathops
    from fontTools.pens.areaPen import AreaPen
    from fontTools.ttLib import TTFont

    with TTFont(str(font_path), lazy=True) as font:
        glyphs = font.getGlyphSet()
        glyph = glyphs[font.getBestCmap()[ord(char)]]
        signed, path = AreaPen(glyphs), pathops.Path()
        glyph.draw(signed)
        glyph.draw(path.getPen(glyphs))
    filled = AreaPen()
    pathops.simplify(path).draw(filled)
    return abs(abs(signed.value) - abs(filled.value))


def ink_iou(ink_a: np.ndarray, ink_b: np.ndarray) -> float:
    """IoU of two ink images (0..255, ink bright) thresholded at half."""
    a, b = ink_a > 127, ink_b > 127
    return float((a & b).sum() / max((a | b).sum(), 1))


def l1(generated: np.ndarray, real: np.ndarray) -> np.ndarray:
    """Per glyph mean |difference|, in [0, 1] (uint8 inputs)."""
    diff = np.abs(generated.astype(np.float64) - real.astype(np.float64)) / 255.0
    return diff.reshape(len(diff), -1).mean(axis=1)


def ssim(generated: np.ndarray, real: np.ndarray) -> np.ndarray:
    """Per glyph SSIM (Wang et al. 2004; 11x11 Gaussian window, sigma 1.5)."""
    import tensorflow as tf

    a = tf.constant(generated[..., None] if generated.ndim == 3 else generated, tf.float32)
    b = tf.constant(real[..., None] if real.ndim == 3 else real, tf.float32)
    return tf.image.ssim(a, b, max_val=255.0).numpy().astype(np.float64)


def glyph_set(styles: list[Style], chars: str) -> ImageData:
    """Real glyphs of `chars` in `styles`: labels are char ids, styles are style ids."""
    images, labels, style_ids = [], [], []
    for style_id, style in enumerate(styles):
        for char_id, char in enumerate(chars):
            if char in style.glyphs:
                images.append(style.glyphs[char])
                labels.append(char_id)
                style_ids.append(style_id)
    return ImageData(
        images=np.stack(images)[..., None],
        labels=np.asarray(labels, np.int32),
        label_names=list(chars),
        styles=np.asarray(style_ids, np.int32),
        style_names=[s.name for s in styles],
    )


def reader_faces(chars: str, also: tuple[str, ...] = ()) -> list:
    """The faces a content reader of `chars` learns from: every face found that has one
    of them, then those of `also` (font files or folders) that were not found. In this
    order the faces held out of training (every fifth: `train_glyph_classifier`) are
    the same with `also` as without it."""
    from keras_gan.data.glyphs import find_fonts

    found = find_fonts()
    known = set(found)
    added = [f for f in find_fonts(also) if f not in known] if also else []
    return [f for f in found + added if any(map(f.covers, chars))]


def train_content_reader(
    chars: str, image_size: int = 32, epochs: int = 20, log=print, also: tuple[str, ...] = ()
):
    """(character classifier over `chars`, its info) from real glyphs of `reader_faces`.

    32 px and width 32: glyphs of any size are area-resized to it, so one reader
    judges 64 px font translations and 32 px glyph GANs alike.
    """
    from keras_gan.data.glyphs import render_glyphs
    from keras_gan.metrics.extractors import train_glyph_classifier

    data = render_glyphs(chars, reader_faces(chars, also), image_size)
    return train_glyph_classifier(data, epochs, log=log, width=32)


def train_style_reader(styles: list[Style], train_chars: str, epochs: int = 12, log=print):
    """(font classifier over `styles`, its info), trained on real glyphs of `train_chars`
    only: it judges held-out glyphs by their style, not by memory. No shift or zoom
    augmentation: a font's size and stroke weight in the em box are its style."""
    from keras_gan.metrics.extractors import train_glyph_classifier

    by_style = glyph_set(styles, train_chars)
    by_style = ImageData(
        images=by_style.images,
        labels=by_style.styles,
        label_names=by_style.style_names,
    )
    return train_glyph_classifier(by_style, epochs, log=log, augment=False)


def accuracy(classifier, images: np.ndarray, labels: np.ndarray) -> float:
    _, probabilities = classifier.features_and_probabilities(images[..., None])
    return float(np.mean(probabilities.argmax(axis=1) == labels))


def score(images, real, chars, style_index, content, style) -> dict:
    """Scores of `images` (uint8 (N, S, S)) against the `real` target glyphs.

    `content` is a character classifier whose labels include `chars`; `style` a font
    classifier, `style_index` the target's id.
    """
    char_ids = np.asarray([content.labels.index(c) for c in chars])
    return {
        "l1": float(l1(images, real).mean()),
        "ssim": float(ssim(images, real).mean()),
        "content_accuracy": accuracy(content, images, char_ids),
        "style_accuracy": accuracy(style, images, np.full(len(images), style_index)),
        "glyphs": len(images),
    }


def compare(generated, source: Style, target: Style, chars, style_index, content, style):
    """{"generated", "copy source", "real target"} -> scores on `chars`."""
    real = np.stack([target.glyphs[c] for c in chars])
    copied = np.stack([source.glyphs[c] for c in chars])
    args = (chars, style_index, content, style)
    return {
        "generated": score(generated, real, *args),
        "copy source": score(copied, real, *args),
        "real target": score(real, real, *args),
    }
