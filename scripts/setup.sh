#!/usr/bin/env bash
# Sets up keras-gan on a fresh Debian/Ubuntu machine (no GPU needed): fonts (CJK and
# Latin families, all free licences) and a virtualenv in .venv with the package and
# its test tools. Run it again and it only checks what is there.
set -euo pipefail
cd "$(dirname "$0")/.."

FONTS=(fontconfig fonts-wqy-microhei fonts-wqy-zenhei fonts-arphic-uming fonts-arphic-ukai
       fonts-droid-fallback fonts-arphic-gkai00mp fonts-arphic-gbsn00lp
       fonts-dejavu-core fonts-liberation2 fonts-freefont-ttf)
# Example text corpora (Tang poems, English quotations): made into corpora/ below.
FONTS+=(fortunes-zh fortunes)
# strace: the durability test reads the fsync and rename calls of a real run; openssl:
# the TLS tests make their certificates.
FONTS+=(strace openssl)
# A headless browser for the font specimen test (Debian 12+; Ubuntu ships Chromium as
# a snap only, so there it is left out and that test says what is missing).
BROWSER=chromium-headless-shell

if command -v apt-get >/dev/null; then
  wanted=("${FONTS[@]}")
  python3 -c "import ensurepip, venv" 2>/dev/null || wanted+=(python3-venv)
  have() { dpkg-query -W -f='${db:Status-Status}\n' "$@" 2>/dev/null | grep -c '^installed$' || true; }
  if [ "$(have "${wanted[@]}")" -lt "${#wanted[@]}" ] || [ "$(have "$BROWSER")" = 0 ]; then
    sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    apt-cache show "$BROWSER" >/dev/null 2>&1 && wanted+=("$BROWSER")
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${wanted[@]}" >/dev/null
  fi
else
  echo "setup: no apt-get here; install a CJK font (e.g. WenQuanYi Micro Hei) or set KGAN_FONT_PATH" >&2
fi

[ -x .venv/bin/python ] || python3 -m venv .venv
# TensorFlow's wheel is 570 MB: a dropped connection resumes (pip's resume retries,
# read from the environment so that an old pip ignores them) and a failed install is
# tried again, so one bad link does not fail the whole setup.
export PIP_RESUME_RETRIES=30
pip_install() {
  local try
  for try in 1 2 3; do
    .venv/bin/python -m pip install -q "$@" && return 0
    echo "setup: pip install $* failed (try $try of 3)" >&2
    sleep $((try * 20))
  done
  return 1
}
pip_install --upgrade pip
pip_install -e '.[test]'
if [ -d /usr/share/games/fortunes ]; then
  .venv/bin/python -m keras_gan.data.corpora corpora >/dev/null 2>&1
fi
echo "setup: ready ($(.venv/bin/kgan --version))"
