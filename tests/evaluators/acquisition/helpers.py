"""Constants and helpers shared by the acquisition tests (the fixtures live in conftest.py)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[3]
ACQUISITION_CASE = REPO_ROOT / "tests" / "fixtures" / "reference_cases" / "acquisition" / "two_markets"
CONFIG = {"markets": ["0", "1"], "model": "lr", "trials": 10, "alpha": 0.98}

# A directory artifact: file name -> text (or bytes), written as is.
WriteDir = Callable[[dict[str, str | bytes]], Path]


def line(counts: list[int]) -> str:
    """A market file's content: the counts, comma-separated, on one line."""
    return ",".join(str(n) for n in counts)
