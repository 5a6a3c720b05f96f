"""Test setup: two logical CPU devices (for replica tests) and a private glyph cache."""

import os
import tempfile

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ["KGAN_CACHE_DIR"] = tempfile.mkdtemp(prefix="kgan-test-cache-")
os.environ["KGAN_OFFLINE"] = "1"  # nothing downloads in tests (keras_gan.files.OFFLINE_ENV)
# Outputs compared line by line get no progress lines from slow machines
# (keras_gan.progress.ENV; tests/test_progress.py turns it back on).
os.environ["KGAN_PROGRESS"] = "0"
# Each xdist worker (and the `kgan` processes its tests start) gets its share of the
# cores: TF's default of one intra-op thread per core in every process oversubscribes
# them, and its idle threads spin (bench/RESULTS.md, "The test suite's threads").
_workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
if _workers > 1:
    os.environ.setdefault("TF_NUM_INTRAOP_THREADS", str(max(1, os.cpu_count() // _workers)))

import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402

# Must happen before any TF op runs: two replicas on one CPU for MirroredStrategy.
_cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(_cpu, [tf.config.LogicalDeviceConfiguration()] * 2)


@pytest.fixture(scope="session")
def installed():
    """Fails (not skips) when the fonts scripts/setup.sh installs are not found."""
    from keras_gan.data.glyphs import find_fonts
    from tests.installed_fonts import HEI
    from tests.installed_fonts import ITALIC
    from tests.installed_fonts import KAI
    from tests.installed_fonts import LATIN
    from tests.installed_fonts import SOURCE

    names = {f.name for f in find_fonts()}
    missing = [n for n in (SOURCE, KAI, HEI, LATIN, ITALIC) if n not in names]
    if missing:
        pytest.fail(f"fonts missing (run scripts/setup.sh): {missing}")


@pytest.fixture
def two_cpus():
    devices = [d.name for d in tf.config.list_logical_devices("CPU")]
    assert len(devices) == 2
    return devices


def make_test_font(path, family="KganTest"):
    """A real TrueType font: 'A' is a triangle, 'B' is a copy of the .notdef box
    (as fonts that map missing characters to a box glyph have), 'C' is empty."""
    from fontTools.fontBuilder import FontBuilder
    from fontTools.pens.ttGlyphPen import TTGlyphPen

    def drawn(*contours):
        pen = TTGlyphPen(None)
        for points in contours:
            pen.moveTo(points[0])
            for point in points[1:]:
                pen.lineTo(point)
            pen.closePath()
        return pen.glyph()

    builder = FontBuilder(1000, isTTF=True)
    box = [(50, 0), (50, 700), (450, 700), (450, 0)], [(100, 50), (400, 50), (400, 650), (100, 650)]
    builder.setupGlyphOrder([".notdef", "A", "box", "empty"])
    builder.setupCharacterMap({ord("A"): "A", ord("B"): "box", ord("C"): "empty"})
    builder.setupGlyf(
        {
            ".notdef": drawn(*box),
            "box": drawn(*box),
            "A": drawn([(0, 0), (300, 700), (600, 0)]),
            "empty": drawn(),
        }
    )
    builder.setupHorizontalMetrics(
        {".notdef": (500, 50), "A": (600, 0), "box": (500, 50), "empty": (600, 0)}
    )
    builder.setupHorizontalHeader(ascent=800, descent=-200)
    builder.setupNameTable({"familyName": family, "styleName": "Regular"})
    builder.setupOS2(sTypoAscender=800, sTypoDescender=-200, usWinAscent=800, usWinDescent=200)
    builder.setupPost()
    builder.save(str(path))
    return str(path)


@pytest.fixture
def test_font(tmp_path):
    return make_test_font(tmp_path / "kgan-test.ttf")
