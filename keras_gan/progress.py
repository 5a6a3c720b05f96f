"""Progress of long work, on stderr: a live bar on a terminal, a plain line now and then
when stderr is a file or a pipe (CI logs), nothing for work that ends within seconds.

    for face in track(faces, "rendering glyphs", unit="fonts"):
        ...

`KGAN_PROGRESS=0` silences it (the CLI's own result lines and errors stay).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterable
from collections.abc import Iterator
from typing import TypeVar

ENV = "KGAN_PROGRESS"
# Plain lines: the first once the work has taken this long, then at most one per interval.
FIRST_LINE_AFTER, LINE_EVERY = 5.0, 30.0
REDRAW_EVERY, BAR_WIDTH = 0.1, 24  # a terminal's bar: seconds between redraws, its cells

T = TypeVar("T")


def enabled() -> bool:
    return os.environ.get(ENV, "1").strip().lower() not in ("0", "false", "no", "off")


class Progress:
    """`update(done)` as work advances; `close()` (or a `with` block) at the end.

    Args:
        label: what is being done ("rendering glyphs").
        total: how much there is, in `unit`s (None: unknown; no bar or eta then).
        unit: what is counted ("fonts", "images", "steps").
        live: draw a live bar (default: when the stream is a terminal).
        stream: where it goes (default: stderr).
        initial: how much was done before (a resumed run): not counted in the rate.
    """

    def __init__(self, label, total=None, unit="", live=None, stream=None, initial=0):
        self.label, self.total, self.unit, self.initial = label, total, unit, initial
        self.stream = stream or sys.stderr
        self.on = enabled()
        self.live = self.on and (self.stream.isatty() if live is None else live)
        self.start = self.last = time.monotonic()
        self.done, self.drawn, self.printed = initial, False, False

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def update(self, done: int) -> None:
        self.done = done
        if not self.on:
            return
        now = time.monotonic()
        if self.live:
            if now - self.last >= REDRAW_EVERY or done == self.total:
                self.draw()
                self.last = now
        elif now - self.start >= FIRST_LINE_AFTER and (
            not self.printed or now - self.last >= LINE_EVERY
        ):
            self.stream.write(f"{self.label}: {self.status(now)}\n")
            self.stream.flush()
            self.last, self.printed = now, True

    def status(self, now: float) -> str:
        """`120/1000 fonts (12%), 3.4 fonts/s, eta 4.3 min`."""
        rate = (self.done - self.initial) / max(now - self.start, 1e-9)
        parts = [f"{self.done}" + (f"/{self.total}" if self.total else "") + f" {self.unit}"]
        if self.total:
            parts[0] += f" ({100 * self.done / self.total:.0f}%)"
        parts.append(f"{rate:.3g} {self.unit}/s")
        if self.total and rate > 0 and self.done < self.total:
            parts.append(f"eta {(self.total - self.done) / rate / 60:.1f} min")
        return ", ".join(p.strip() for p in parts)

    def draw(self) -> None:
        """The bar, over the line it is on."""
        bar = ""
        if self.total:
            filled = min(BAR_WIDTH, round(BAR_WIDTH * self.done / self.total))
            bar = "[" + "=" * filled + " " * (BAR_WIDTH - filled) + "] "
        self.stream.write(f"\r\033[K{self.label} {bar}{self.status(time.monotonic())}")
        self.stream.flush()
        self.drawn = True

    def clear(self) -> None:
        """Takes the live bar off its line (to print a line above it; `draw` brings it
        back)."""
        if self.live and self.drawn:
            self.stream.write("\r\033[K")
            self.stream.flush()

    def close(self) -> None:
        if self.live and self.drawn:
            self.draw()
            self.stream.write("\n")
            self.stream.flush()
            self.drawn = False


def track(items: Iterable[T], label: str, total: int | None = None, unit="") -> Iterator[T]:
    """`items`, one by one, with a `Progress` over them."""
    if total is None and hasattr(items, "__len__"):
        total = len(items)
    with Progress(label, total, unit) as progress:
        for done, item in enumerate(items, 1):
            yield item
            progress.update(done)
