"""Fonts the font and glyph tests use: installed by scripts/setup.sh (Debian font packages)."""

SOURCE = "Droid Sans Fallback"  # fonts-droid-fallback
KAI = "AR PL UKai CN Book"  # fonts-arphic-ukai
HEI = "WenQuanYi Micro Hei"  # fonts-wqy-microhei
LATIN = "DejaVu Sans Book"  # fonts-dejavu-core
# fonts-freefont-ttf: its OS/2 sets USE_TYPO_METRICS, with typo metrics unlike hhea's
ITALIC = "FreeSerif Italic"
