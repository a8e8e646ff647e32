"""Scoring predicted slices against the hidden ground truth (DCBench `_compute_metrics`, as in cases/README.md).

Predicted slices 0..m-1 are the submission's score columns in file order; m..2m-1 are their complements
(score `1 - s`, hard prediction `1 - [s > 0.5]`). For each ground-truth slice the predicted slice with the
highest average precision is kept (the lowest index among equal ones), and its precision@10, precision@25,
precision, recall and F1 are reported with it.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.stats import rankdata
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.metrics import average_precision_score, f1_score, precision_score, recall_score

from evaluators.base import EvaluationResult, ProgressCallback, chart, no_progress
from evaluators.slice_discovery.data import GroundTruth
from evaluators.slice_discovery.metrics import PER_SLICE_METRICS, PRIMARY_METRIC, slice_metric
from evaluators.slice_discovery.task import SliceTask
from evaluators.slice_discovery.validation import SliceScores
from evaluators.splits import score_splits

__all__ = ["PER_SLICE_METRICS", "PRIMARY_METRIC", "score_slices", "slice_metric"]

TOP_K = (10, 25)
HARD_THRESHOLD = 0.5

FloatMatrix = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class SliceMatch:
    """The best predicted slice of one ground-truth slice and its metrics."""

    slice_name: str
    pred_slice_idx: int
    values: dict[str, float]


def predicted_slices(scores: FloatMatrix) -> tuple[FloatMatrix, IntArray]:
    """The 2m predicted slices: (soft scores, hard 0/1 predictions), complements after the columns."""
    hard = (scores > HARD_THRESHOLD).astype(np.int64)
    return np.hstack([scores, 1.0 - scores]), np.hstack([hard, 1 - hard])


def precision_at_k(truth: IntArray, score: npt.NDArray[np.float64], k: int) -> float:
    """Precision of the k highest scores; ties go to the earlier row (ordinal ranks of the negated score)."""
    top = rankdata(-score, method="ordinal") <= k
    return float(precision_score(truth, top, zero_division=0))


def match_slice(slice_name: str, truth: IntArray, soft: FloatMatrix, hard: IntArray) -> SliceMatch:
    """Keep the predicted slice with the highest average precision (np.argmax: the lowest index among ties)."""
    precisions = [float(average_precision_score(truth, soft[:, column])) for column in range(soft.shape[1])]
    best = int(np.argmax(precisions))
    values = {
        "average_precision": precisions[best],
        **{f"precision_at_{k}": precision_at_k(truth, soft[:, best], k) for k in TOP_K},
        "precision": float(precision_score(truth, hard[:, best], zero_division=0)),
        "recall": float(recall_score(truth, hard[:, best], zero_division=0)),
        "f1": float(f1_score(truth, hard[:, best], zero_division=0)),
        "pred_slice_idx": best,  # an integer, as the reference reports it
    }
    return SliceMatch(slice_name=slice_name, pred_slice_idx=best, values=values)


def pred_slice_label(columns: tuple[str, ...], index: int) -> str:
    """A person's name for predicted slice `index`: a column name, or `1 - <name>` for a complement."""
    if index < len(columns):
        return columns[index]
    return f"1 - {columns[index - len(columns)]}"


def _charts(matches: list[SliceMatch], part: str = "") -> list[dict[str, Any]]:
    names = [match.slice_name for match in matches]
    series = {
        "average precision": "average_precision",
        "precision@10": "precision_at_10",
        "precision@25": "precision_at_25",
        "F1": "f1",
    }
    title = f"Best predicted slice per ground-truth slice{part}"
    charts = [
        chart("bar", title, names, [match.values[key] for match in matches], y_label="value", series=label)
        for label, key in series.items()
    ]
    charts.append(
        chart(
            "bar",
            f"Matched predicted slice (index; complements come after the score columns){part}",
            names,
            [match.pred_slice_idx for match in matches],
            y_label="predicted slice index",
        )
    )
    return charts


def _match_rows(parsed: SliceScores, matches: list[SliceMatch]) -> list[dict[str, Any]]:
    return [
        {
            "slice": match.slice_name,
            "pred_slice_idx": match.pred_slice_idx,
            "pred_slice": pred_slice_label(parsed.columns, match.pred_slice_idx),
            "complement": match.pred_slice_idx >= len(parsed.columns),
            **{key: value for key, value in match.values.items() if key != "pred_slice_idx"},
        }
        for match in matches
    ]


def _details(parsed: SliceScores, matches: list[SliceMatch], whole: list[SliceMatch] | None = None) -> dict[str, Any]:
    """Today's details; with a split, `matches` are the public side's and the whole-set ones (`whole`) are
    sealed, since whole-set and public values together would give the private side away."""
    details: dict[str, Any] = {
        "charts": _charts(matches),
        "score_columns": list(parsed.columns),
        "file_format": parsed.file_format,
        "matches": _match_rows(parsed, matches),
    }
    if whole is not None:
        details["sealed_charts"] = _charts(whole, ", whole evaluation set")
        details["sealed"] = {"matches": _match_rows(parsed, whole)}
    return details


def match_all(
    truth: GroundTruth,
    soft: FloatMatrix,
    hard: IntArray,
    rows: npt.NDArray[np.bool_] | None = None,
    report_progress: ProgressCallback = no_progress,
) -> list[SliceMatch]:
    """The best predicted slice of every ground-truth slice, on the examples where `rows` is True (None:
    all); `soft` and `hard` are aligned with the ground-truth rows."""
    if rows is not None:
        soft, hard = soft[rows], hard[rows]
    matches: list[SliceMatch] = []
    with warnings.catch_warnings():
        # precision/recall of an empty hard prediction are 0 by zero_division; nothing else is expected here.
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        for done, name in enumerate(truth.names, start=1):
            members = truth.members[:, done - 1].astype(np.int64)
            matches.append(match_slice(name, members if rows is None else members[rows], soft, hard))
            best = matches[-1].values["average_precision"]
            report_progress(done / len(truth.names), f"slice {name}: average precision {best:.4f}")
    return matches


def _summary(matches: list[SliceMatch]) -> tuple[float, dict[str, float]]:
    primary = float(np.mean([match.values["average_precision"] for match in matches]))
    metrics = {
        slice_metric(metric, match.slice_name): match.values[metric]
        for match in matches
        for metric in PER_SLICE_METRICS
    }
    return primary, metrics


def score_slices(task: SliceTask, parsed: SliceScores, report_progress: ProgressCallback) -> EvaluationResult:
    """Match every ground-truth slice to its best predicted slice; primary = mean of their average precisions.

    With a private split, `splits` holds the same metrics with the matching redone on the public and on the
    private examples alone, and the visible details are the public side's."""
    report_progress(0.0, "loading the ground-truth slices")
    aligned = task.ground_truth()
    soft, hard = predicted_slices(parsed.scores[aligned.prediction_rows])
    matches = match_all(aligned.truth, soft, hard, report_progress=report_progress)
    primary, metrics = _summary(matches)
    if not task.config.split.enabled:
        return EvaluationResult(primary=primary, metrics=metrics, details=_details(parsed, matches))
    private = task.private_rows()

    def compute(mask: list[bool]) -> tuple[float, dict[str, float]]:
        return _summary(match_all(aligned.truth, soft, hard, np.array(mask, dtype=np.bool_)))

    splits = score_splits(private.tolist(), compute)
    public = match_all(aligned.truth, soft, hard, ~private)
    details = _details(parsed, public, whole=matches)
    return EvaluationResult(primary=primary, metrics=metrics, details=details, splits=splits)
