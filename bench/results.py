"""Where every benchmark writes: printed, and appended to bench/RESULTS.md."""

import os
import platform
from pathlib import Path

RESULTS = Path(__file__).parent / "RESULTS.md"


def machine() -> str:
    """CPU model and core count, for the section header."""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return f"{line.split(':', 1)[1].strip()}, {os.cpu_count()} cores"
    return f"{platform.machine()}, {os.cpu_count()} cores"


def publish(lines: list[str]) -> None:
    text = "\n".join(lines) + "\n"
    print(text)
    if not RESULTS.exists():
        RESULTS.write_text(
            "# Benchmark results\n\nEach section: what was run, on what machine, and the numbers.\n"
        )
    with open(RESULTS, "a", encoding="utf-8") as f:
        f.write(text)
