"""Scoring a selection: per concept the reference logistic regression, binary metrics on the test set."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression

from evaluators.base import EvaluationResult, ProgressCallback, TaskConfigError, chart
from evaluators.selection_vision.data import HeldOutSet, IntArray
from evaluators.selection_vision.metrics import METRICS, concept_metric
from evaluators.selection_vision.task import VisionTask
from evaluators.selection_vision.validation import ConceptSelection, VisionSelection
from evaluators.splits import score_splits


@dataclass(frozen=True)
class ConceptScore:
    concept: str
    values: dict[str, float]


def fit_and_predict(task: VisionTask, selection: ConceptSelection, test: HeldOutSet) -> IntArray:
    """`LogisticRegression(random_state=0)` fitted on the selected pool rows, in order; test predictions."""
    # A copy of the selected rows only, in the submission's order, widened to the float64 the reference fits
    # (exact: the pool holds the file's own precision, see `data.read_embeddings`).
    features = np.asarray(task.pool[selection.rows], dtype=np.float64)
    with warnings.catch_warnings():
        # lbfgs may stop at max_iter on raw embeddings; the reference ran with the same defaults.
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = LogisticRegression(random_state=0).fit(features, selection.labels)
        predicted: IntArray = model.predict(test.features)
    return predicted


def _ratio(numerator: float, denominator: float) -> float:
    """scikit-learn's `_prf_divide` with `zero_division=0.0`: 0 when the denominator is 0.

    The operands are whole numbers below 2**53, exact as floats, and a float division is IEEE float64
    division, as numpy's."""
    return numerator / denominator if denominator else 0.0


def binary_metrics(truth: IntArray, predicted: IntArray) -> dict[str, float]:
    """F1, accuracy, precision and recall with positive class 1 (0 where undefined, as the reference).

    Equal bit for bit to scikit-learn's `f1_score`, `accuracy_score`, `precision_score` and `recall_score`
    (`pos_label=1`, `average="binary"`, `zero_division=0.0`), computed from one confusion matrix: those four
    calls validate their inputs again and again, which costs more than the small fits they follow. `truth`
    and `predicted` are integer arrays of 0 and 1 of one non-zero length; `ValueError` otherwise (as
    scikit-learn raises on empty input).
    """
    if truth.ndim != 1 or truth.shape != predicted.shape or not len(truth):
        raise ValueError(f"need two 1-d arrays of one non-zero length, got shapes {truth.shape}, {predicted.shape}")
    if ((truth | predicted) & ~1).any():  # catches any value but 0 and 1, negative ones too
        raise ValueError("need labels 0 and 1 only")
    # 2 * truth + predicted numbers the cells of the confusion matrix: 0 = TN, 1 = FP, 2 = FN, 3 = TP.
    counts = np.bincount(2 * truth + predicted, minlength=4).tolist()
    true_negative, false_positive, false_negative, true_positive = counts
    true_sum, predicted_sum = true_positive + false_negative, true_positive + false_positive
    return {
        # scikit-learn: (1 + beta**2) * tp / (beta**2 * true_sum + pred_sum) with beta = 1, in float64.
        "f1": _ratio(2.0 * true_positive, 1.0 * true_sum + predicted_sum),
        # scikit-learn: the mean of the boolean vector truth == predicted, a float64 count over the length.
        "accuracy": _ratio(float(true_positive + true_negative), float(len(truth))),
        "precision": _ratio(float(true_positive), float(predicted_sum)),
        "recall": _ratio(float(true_positive), float(true_sum)),
    }


Predictions = list[tuple[str, IntArray, IntArray]]
"""(concept, test labels, predicted labels) per concept, in the config's order."""


def _scores(predictions: Predictions, rows: Sequence[bool] | None) -> list[ConceptScore]:
    """Each concept's metrics on its test rows where `rows` is True (`rows`: the concepts' test rows one
    after another, in order; None for all)."""
    scores: list[ConceptScore] = []
    start = 0
    for concept, truth, predicted in predictions:
        if rows is None:
            scores.append(ConceptScore(concept, binary_metrics(truth, predicted)))
            continue
        keep = np.asarray(rows[start : start + len(truth)], dtype=bool)
        start += len(truth)
        if not keep.any():
            raise TaskConfigError(f"{concept}: one side of the private split holds no test image (see check_task)")
        scores.append(ConceptScore(concept, binary_metrics(truth[keep], predicted[keep])))
    return scores


def _summary(scores: list[ConceptScore]) -> tuple[float, dict[str, float]]:
    """The primary (mean F1 over the concepts) and every concept's metrics."""
    primary = float(np.mean([score.values["f1"] for score in scores]))
    return primary, {concept_metric(name, score.concept): score.values[name] for name in METRICS for score in scores}


def _f1_chart(scores: list[ConceptScore], scope: str) -> dict[str, Any]:
    names = [score.concept for score in scores]
    return chart("bar", f"F1 per concept{scope}", names, [score.values["f1"] for score in scores], y_label="F1")


def _details(selection: VisionSelection, scores: list[ConceptScore]) -> dict[str, Any]:
    """The visible details: metrics from `scores` (the whole test sets without a split, the public part with
    one) and the selection's own counts."""
    names = [score.concept for score in scores]
    positives = [part.n_positive for part in selection.concepts]
    negatives = [len(part.labels) - part.n_positive for part in selection.concepts]
    charts = [
        _f1_chart(scores, ""),
        chart("bar", "Selected rows per concept", names, positives, y_label="rows", series="labelled 1"),
        chart("bar", "Selected rows per concept", names, negatives, y_label="rows", series="labelled 0"),
    ]
    return {
        "charts": charts,
        "concepts": [
            {
                "concept": part.concept,
                "file": part.file_name,
                "rows": len(part.labels),
                "distinct_images": len(np.unique(part.rows)),
                "labelled_1": part.n_positive,
                "labelled_0": len(part.labels) - part.n_positive,
                **score.values,
            }
            for part, score in zip(selection.concepts, scores, strict=True)
        ],
    }


def _sealed(whole: list[ConceptScore], private: list[ConceptScore]) -> dict[str, Any]:
    """The whole-set and private-side metrics: organizers only until the challenge ends."""
    return {
        "scored_on": "public",
        "sealed_charts": [_f1_chart(whole, " (whole test sets)"), _f1_chart(private, " (private part)")],
        "sealed": {
            "whole": [{"concept": score.concept, **score.values} for score in whole],
            "private": [{"concept": score.concept, **score.values} for score in private],
        },
    }


def _predict_all(task: VisionTask, selection: VisionSelection, report_progress: ProgressCallback) -> Predictions:
    """One fit per concept; the progress message gives the concept's F1 on the visible part of its test set."""
    split = task.config.split.enabled
    predictions: Predictions = []
    report_progress(0.0, "training one model per concept")
    for done, part in enumerate(selection.concepts, start=1):
        test = task.test_set(part.concept)
        predictions.append((part.concept, test.labels, fit_and_predict(task, part, test)))
        # Progress is shown to the participant: with a split, the private rows must not move its numbers.
        visible = [not flag for flag in task.private_rows(part.concept)] if split else None
        [score] = _scores(predictions[-1:], visible)
        scope = "public F1" if split else "F1"
        report_progress(done / len(selection.concepts), f"{part.concept}: {scope} {score.values['f1']:.4f}")
    return predictions


def score_selection(
    task: VisionTask, selection: VisionSelection, report_progress: ProgressCallback
) -> EvaluationResult:
    """Fit one model per concept; primary = mean F1 over the concepts (in config order), on the whole test
    sets; with a private split, also on each side, and visible details from the public one."""
    predictions = _predict_all(task, selection, report_progress)
    whole = _scores(predictions, None)
    primary, metrics = _summary(whole)
    if not task.config.split.enabled:
        return EvaluationResult(primary=primary, metrics=metrics, details=_details(selection, whole))
    private = [flag for concept, _, _ in predictions for flag in task.private_rows(concept)]
    details = _details(selection, _scores(predictions, [not flag for flag in private]))
    details.update(_sealed(whole, _scores(predictions, private)))
    splits = score_splits(private, lambda rows: _summary(_scores(predictions, rows)))
    return EvaluationResult(primary=primary, metrics=metrics, details=details, splits=splits)
