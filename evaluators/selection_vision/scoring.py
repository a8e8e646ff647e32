"""Scoring a selection: per concept the reference logistic regression, binary metrics on the test set."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score, precision_score, recall_score

from evaluators.base import EvaluationResult, ProgressCallback, chart
from evaluators.selection_vision.data import HeldOutSet, IntArray
from evaluators.selection_vision.task import VisionTask
from evaluators.selection_vision.validation import ConceptSelection, VisionSelection

PRIMARY_METRIC = "mean_f1"
METRICS = ("f1", "accuracy", "precision", "recall")


def concept_metric(metric: str, concept: str) -> str:
    """The name of one concept's metric, e.g. `f1.Cupcake`."""
    return f"{metric}.{concept}"


@dataclass(frozen=True)
class ConceptScore:
    concept: str
    values: dict[str, float]


def fit_and_predict(task: VisionTask, selection: ConceptSelection, test: HeldOutSet) -> IntArray:
    """`LogisticRegression(random_state=0)` fitted on the selected pool rows, in order; test predictions."""
    features = task.pool[selection.rows]  # a copy, float64, rows in the submission's order
    with warnings.catch_warnings():
        # lbfgs may stop at max_iter on raw embeddings; the reference ran with the same defaults.
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = LogisticRegression(random_state=0).fit(features, selection.labels)
        predicted: IntArray = model.predict(test.features)
    return predicted


def binary_metrics(truth: IntArray, predicted: IntArray) -> dict[str, float]:
    """F1, accuracy, precision and recall with positive class 1 (0 where undefined, as the reference)."""
    return {
        "f1": float(f1_score(truth, predicted, pos_label=1, zero_division=0.0)),
        "accuracy": float(accuracy_score(truth, predicted)),
        "precision": float(precision_score(truth, predicted, pos_label=1, zero_division=0.0)),
        "recall": float(recall_score(truth, predicted, pos_label=1, zero_division=0.0)),
    }


def _details(selection: VisionSelection, scores: list[ConceptScore]) -> dict[str, Any]:
    names = [score.concept for score in scores]
    positives = [part.n_positive for part in selection.concepts]
    negatives = [len(part.labels) - part.n_positive for part in selection.concepts]
    charts = [
        chart("bar", "F1 per concept", names, [score.values["f1"] for score in scores], y_label="F1"),
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


def score_selection(
    task: VisionTask, selection: VisionSelection, report_progress: ProgressCallback
) -> EvaluationResult:
    """Fit one model per concept; primary = mean F1 over the concepts (in config order)."""
    scores: list[ConceptScore] = []
    total = len(selection.concepts)
    report_progress(0.0, "training one model per concept")
    for done, part in enumerate(selection.concepts, start=1):
        test = task.test_set(part.concept)
        values = binary_metrics(test.labels, fit_and_predict(task, part, test))
        scores.append(ConceptScore(part.concept, values))
        report_progress(done / total, f"{part.concept}: F1 {values['f1']:.4f}")
    primary = float(np.mean([score.values["f1"] for score in scores]))
    metrics = {concept_metric(name, score.concept): score.values[name] for name in METRICS for score in scores}
    return EvaluationResult(primary=primary, metrics=metrics, details=_details(selection, scores))
