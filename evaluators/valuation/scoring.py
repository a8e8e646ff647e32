"""Scoring predictions: mean absolute error between predicted and actual accuracy over the pairs.

The actual accuracies are hidden data: they never appear in the metrics or details. With `pair_errors`
off (the default) not even the per-pair errors do, because an error is the actual accuracy in disguise:
a submission predicting 0 for a pair gets back exactly that pair's actual accuracy as its error.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from evaluators.base import EvaluationResult, ProgressCallback, SplitScore, chart
from evaluators.splits import score_splits
from evaluators.valuation.task import ValuationTask
from evaluators.valuation.validation import Predictions

PRIMARY_METRIC = "mae"


def pair_metric(pair: str) -> str:
    """The name of one pair's absolute error, e.g. `abs_error.clean` (reported only with `pair_errors`)."""
    return f"abs_error.{pair}"


def absolute_errors(task: ValuationTask, predictions: Predictions) -> dict[str, float]:
    """pair -> |predicted - actual|, in the config's pair order."""
    actual = task.actual_accuracies()
    return {pair: abs(predictions.values[pair] - actual[pair]) for pair in task.config.pairs}


def _details(task: ValuationTask, predictions: Predictions, errors: dict[str, float]) -> dict[str, Any]:
    pairs = list(task.config.pairs)
    predicted = [predictions.values[pair] for pair in pairs]
    charts = [chart("bar", "Predicted accuracy per pair", pairs, predicted, y_label="accuracy")]
    details: dict[str, Any] = {"predicted": dict(zip(pairs, predicted, strict=True)), "pairs": len(pairs)}
    if task.config.pair_errors:
        values = [errors[pair] for pair in pairs]
        charts.append(chart("bar", "Absolute error per pair", pairs, values, y_label="|predicted - actual|"))
    details["charts"] = charts
    return details


def _splits(task: ValuationTask, errors: dict[str, float]) -> dict[str, SplitScore]:
    """The mean absolute error over the public pairs and over the private ones (no other metric: a split
    excludes `pair_errors`)."""

    def compute(mask: list[bool]) -> tuple[float, dict[str, float]]:
        chosen = [errors[pair] for pair, keep in zip(task.config.pairs, mask, strict=True) if keep]
        return float(np.mean(chosen)), {}

    return score_splits(task.private, compute)


def score_predictions(
    task: ValuationTask, predictions: Predictions, report_progress: ProgressCallback
) -> EvaluationResult:
    """Primary = mean over pairs of |predicted - actual accuracy| (lower is better); with a split, `splits`
    holds the same mean over the public and over the private pairs. The details show only the submission's
    own predictions, so they are the same with or without a split."""
    report_progress(0.0, "training the fixed model on every pair (once per task)")
    errors = absolute_errors(task, predictions)
    report_progress(1.0, f"{len(errors)} pairs compared")
    primary = float(np.mean(list(errors.values())))
    metrics = {pair_metric(pair): error for pair, error in errors.items()} if task.config.pair_errors else {}
    details = _details(task, predictions, errors)
    if not task.config.split.enabled:
        return EvaluationResult(primary=primary, metrics=metrics, details=details)
    return EvaluationResult(primary=primary, metrics=metrics, details=details, splits=_splits(task, errors))
