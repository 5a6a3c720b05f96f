#!/usr/bin/env bash
# Sets up keras-gan on a fresh Debian/Ubuntu machine (no GPU needed):
# fonts (one CJK family at least, several Latin ones) and a virtualenv in .venv.
# Idempotent: run it again and it only checks.
set -euo pipefail
cd "$(dirname "$0")/.."

FONTS="fontconfig fonts-wqy-microhei fonts-wqy-zenhei fonts-arphic-uming fonts-arphic-ukai
fonts-dejavu-core fonts-liberation2 fonts-freefont-ttf"

missing_fonts() { dpkg-query -W -f='${Status}\n' $FONTS 2>/dev/null | grep -vc "ok installed" || true; }

if command -v apt-get >/dev/null; then
  need_venv=0
  python3 -c "import ensurepip, venv" 2>/dev/null || need_venv=1
  if [ "$(missing_fonts)" != "0" ] || ! dpkg-query -W $FONTS >/dev/null 2>&1 || [ $need_venv = 1 ]; then
    SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
    packages="$FONTS"; [ $need_venv = 1 ] && packages="$packages python3-venv"
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $packages >/dev/null
  fi
else
  echo "setup: no apt-get here; install a CJK font yourself (e.g. WenQuanYi Micro Hei) or set KGAN_FONT_PATH" >&2
fi

[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[test]'
echo "setup: ready ($(.venv/bin/kgan --version))"
