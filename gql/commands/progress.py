"""A progress bar on stderr for long commands: redrawn in place on a terminal, and one line
per tenth of the work otherwise (logs and CI keep a short, readable trace)."""

from __future__ import annotations

import sys
from typing import TextIO

WIDTH = 30
COUNT_EVERY = 10_000  # rows between lines of a count when not on a terminal


class Bar:
    """Draw `label [#####-----]  50% 1,234 rows` as work advances."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.tty = self.stream.isatty()
        self._last: tuple[str, int] | None = None
        self._open = False

    def update(self, label: str, done: int, total: int, rows: int) -> None:
        """Show `done` of `total` (bytes, say) and the rows handled so far."""
        percent = 100 if total <= 0 else min(100, done * 100 // total)
        filled = WIDTH * percent // 100
        line = f"{label} [{'#' * filled}{'-' * (WIDTH - filled)}] {percent:3d}% {rows:,} rows"
        if self.tty:
            if self._last is not None and self._last[0] != label:
                self.done()  # keep the finished pass on its own line
            self.stream.write(f"\r{line}")
            self._open = True
        elif self._last != (label, percent // 10):
            self.stream.write(f"{line}\n")
        self._last = (label, percent // 10)
        self.stream.flush()

    def count(self, label: str, rows: int, *, final: bool = False) -> None:
        """Show a count when the total is not known (`final`: the last one)."""
        if self.tty:
            self.stream.write(f"\r{label} {rows:,} rows")
            self._open = True
        elif final or self._last != (label, rows // COUNT_EVERY):
            self.stream.write(f"{label} {rows:,} rows\n")
        self._last = (label, rows // COUNT_EVERY)
        self.stream.flush()

    def done(self) -> None:
        """End the line the bar was drawn on."""
        if self._open:
            self.stream.write("\n")
            self.stream.flush()
            self._open = False
