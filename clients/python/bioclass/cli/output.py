"""Human-readable output for the CLI: tables and a progress line on stderr."""
from __future__ import annotations

import math
import sys


def table(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows)]
    lines = ["  ".join(str(cell).ljust(w) for cell, w in zip(line, widths)).rstrip() for line in [header, *rows]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def number(value: float, digits: int = 3) -> str:
    return "n/a" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.{digits}f}"


class Progress:
    """A one-line progress bar on stderr, shown only when stderr is a terminal (or forced)."""

    def __init__(self, total: int, enabled: bool | None = None, width: int = 30):
        self.total, self.done, self.width = total, 0, width
        self.enabled = (sys.stderr.isatty() if enabled is None else enabled) and total > 1

    def step(self, n: int = 1) -> None:
        self.done += n
        if self.enabled:
            filled = int(self.width * self.done / self.total)
            sys.stderr.write(f"\r[{'#' * filled}{'.' * (self.width - filled)}] {self.done}/{self.total}")
            sys.stderr.flush()

    def note(self, line: str) -> None:
        """A line on stderr that does not break the bar: the bar is drawn again below it."""
        if self.enabled:
            sys.stderr.write("\r\033[K")
        print(line, file=sys.stderr, flush=True)
        if self.enabled and self.done:
            self.step(0)

    def finish(self) -> None:
        if self.enabled:
            sys.stderr.write("\n")
            sys.stderr.flush()
