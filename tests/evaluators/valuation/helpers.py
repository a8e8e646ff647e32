"""Constants and helpers shared by the valuation tests (the fixtures live in conftest.py)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[3]
VALUATION_CASE = REPO_ROOT / "tests" / "fixtures" / "reference_cases" / "valuation" / "breast_cancer_6pairs"
PAIRS = ["clean", "noisy-labels", "shifted", "duplicates", "feature-noise", "one-class"]
CONFIG = {"pairs": PAIRS, "pair_errors": True}

WriteFile = Callable[[str | bytes], Path]


def predictions_csv(values: dict[str, float]) -> str:
    """A submission's text: the header and one row per pair, in the mapping's order."""
    return "pair,predicted_accuracy\n" + "".join(f"{pair},{value}\n" for pair, value in values.items())
