#!/usr/bin/env bash
# The CJK and Latin font families that the font-completion base models are trained on
# (bench/font_quality.py, issue #19), unpacked into a folder (default: ~/.local/share/
# keras-gan/fonts) instead of installed: they stay out of fontconfig, so `glyphs:default`
# (every installed font) does not change. Use them with KGAN_FONT_PATH=FOLDER.
# Needs apt-get (Debian/Ubuntu); no root.
set -euo pipefail
DEST=${1:-$HOME/.local/share/keras-gan/fonts}
PACKAGES=(
  fonts-noto-cjk fonts-noto-cjk-extra  # Noto Sans/Serif CJK, every weight
  fonts-lxgw-wenkai                    # kai
  fonts-arphic-bkai00mp fonts-arphic-bsmi00lp fonts-cns11643-kai
  fonts-cwtex-kai fonts-cwtex-ming fonts-cwtex-heib fonts-cwtex-fs fonts-cwtex-yen
  fonts-hanazono fonts-babelstone-han  # ming, very wide coverage
  fonts-ipaexfont-mincho fonts-ipaexfont-gothic
  # Latin: serif, sans, slab, mono and humanist families, with their italics and weights
  fonts-sil-andika fonts-crosextra-caladea fonts-crosextra-carlito fonts-sil-charis
  fonts-cmu fonts-ebgaramond fonts-sil-gentiumplus fonts-lato fonts-linuxlibertine
  fonts-noto-core fonts-open-sans fonts-paratype fonts-roboto-unhinted fonts-texgyre
  fonts-cantarell
)
command -v apt-get >/dev/null || { echo "base_fonts: needs apt-get" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && apt-get download "${PACKAGES[@]}" >/dev/null)
mkdir -p "$DEST"
for deb in "$work"/*.deb; do
  dpkg-deb -x "$deb" "$work/root"
done
# Of fonts-noto-core's hundreds of scripts, Noto Sans and Serif (Latin, Greek, Cyrillic).
find "$work/root" -type f \( -iname '*.ttf' -o -iname '*.ttc' -o -iname '*.otf' -o -iname '*.otc' \) \
  \( ! -path '*/truetype/noto/*' -o -name 'NotoSans-*' -o -name 'NotoSerif-*' \) \
  -exec cp -n {} "$DEST/" \;
echo "base_fonts: $(ls "$DEST" | wc -l) font files in $DEST (use KGAN_FONT_PATH=$DEST)"
