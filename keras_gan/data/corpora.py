"""Example text corpora made from Debian's fortune files (`scripts/setup.sh` runs this).

    python -m keras_gan.data.corpora corpora/

- `tang300.txt`: the verse lines of the 300 Tang poems in `fortunes-zh` (one line per
  couplet, e.g. "白日依山尽，黄河入海流。"), titles and authors dropped;
- `song100.txt`: the lines of the 100 Song lyrics in `fortunes-zh`;
- `quotes-en.txt`: the short English fortunes of `fortunes` (one quotation per line,
  attributions dropped, at most 80 characters).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from keras_gan.files import atomic_write_bytes

FORTUNES = Path("/usr/share/games/fortunes")
ENGLISH = ("fortunes", "wisdom", "people", "literature", "humorists", "love", "work")
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def entries(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").split("\n%\n")


def poem_lines(path: Path) -> list[str]:
    """Verse lines of a fortunes-zh poem file (title 《...》 and 作者 lines dropped)."""
    lines = []
    for entry in entries(path):
        for line in ANSI.sub("", entry).splitlines():
            line = line.strip()
            if line and not line.startswith(("《", "作者", "题目", "词牌")):
                lines.append(line)
    return lines


def quotations(paths, longest: int = 80) -> list[str]:
    """One line per fortune, attributions ("-- Someone") dropped, whitespace collapsed."""
    out = []
    for path in paths:
        for entry in entries(path):
            text = [line for line in entry.splitlines() if not line.strip().startswith("--")]
            quote = " ".join(" ".join(text).split())
            if 8 <= len(quote) <= longest:
                out.append(quote)
    return out


def main(folder: str) -> None:
    target = Path(folder)
    if not FORTUNES.is_dir():
        sys.exit(f"{FORTUNES} is missing: install fortunes-zh and fortunes (scripts/setup.sh)")
    corpora = {
        "tang300.txt": poem_lines(FORTUNES / "tang300"),
        "song100.txt": poem_lines(FORTUNES / "song100"),
        "quotes-en.txt": quotations(
            FORTUNES / name for name in ENGLISH if (FORTUNES / name).is_file()
        ),
    }
    for name, lines in corpora.items():
        atomic_write_bytes(target / name, ("\n".join(lines) + "\n").encode("utf-8"))
        print(f"{target / name}: {len(lines)} lines")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "corpora")
