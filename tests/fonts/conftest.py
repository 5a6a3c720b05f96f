"""Fonts the font tests use: installed by scripts/setup.sh (Debian font packages)."""

import pytest

from keras_gan.data.glyphs import find_fonts

SOURCE = "Droid Sans Fallback"  # fonts-droid-fallback
KAI = "AR PL UKai CN Book"  # fonts-arphic-ukai
HEI = "WenQuanYi Micro Hei"  # fonts-wqy-microhei
LATIN = "DejaVu Sans Book"  # fonts-dejavu-core


@pytest.fixture(scope="session")
def installed():
    names = {f.name for f in find_fonts()}
    missing = [n for n in (SOURCE, KAI, HEI, LATIN) if n not in names]
    if missing:
        pytest.fail(f"fonts missing (run scripts/setup.sh): {missing}")
