"""The metric names of debugging-vision (kept apart from scoring.py, which loads torch)."""

from __future__ import annotations

PRIMARY_METRIC = "fraction_fixes"


def fraction_metric(data_id: str) -> str:
    """The metric name of one dataset's fraction of fixes (lower is better)."""
    return f"{PRIMARY_METRIC}.{data_id}"


def final_accuracy_metric(data_id: str) -> str:
    """The metric name of one dataset's test accuracy after all listed fixes (the target is 95% of it)."""
    return f"final_accuracy.{data_id}"
