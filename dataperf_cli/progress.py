"""A hand-written progress bar on stderr: redrawn in place on a terminal, one final line otherwise (logs)."""

from __future__ import annotations

import sys
import time
from typing import TextIO

WIDTH = 30


def human_bytes(count: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if count < 1024 or unit == "GB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024
    return f"{count:.1f} GB"


class ProgressBar:
    """`update(done)` out of `total` (bytes, or a fraction with `total=1` and `in_bytes=False`)."""

    def __init__(self, label: str, total: float, *, in_bytes: bool = True, stream: TextIO | None = None) -> None:
        self.label = label
        self.total = max(total, 0)
        self.in_bytes = in_bytes
        self.stream = stream or sys.stderr
        self.interactive = self.stream.isatty()
        self.done = 0.0
        self.note = ""
        self._drawn_at = 0.0

    def line(self) -> str:
        fraction = min(self.done / self.total, 1.0) if self.total else 1.0
        filled = int(fraction * WIDTH)
        bar = "#" * filled + "-" * (WIDTH - filled)
        amount = f" {human_bytes(self.done)}/{human_bytes(self.total)}" if self.in_bytes else ""
        note = f" {self.note}" if self.note else ""
        return f"{self.label} [{bar}] {fraction:4.0%}{amount}{note}"

    def update(self, done: float, note: str | None = None) -> None:
        self.done = done
        if note is not None:
            self.note = note
        now = time.monotonic()
        # Redraw at most ten times a second: a fast local download would otherwise spend its time printing.
        if self.interactive and (now - self._drawn_at >= 0.1 or done >= self.total):
            self._drawn_at = now
            self.stream.write("\r\033[K" + self.line())
            self.stream.flush()

    def close(self) -> None:
        self.stream.write(("\r\033[K" if self.interactive else "") + self.line() + "\n")
        self.stream.flush()
