"""Scoring a training set: each fixed model of the task is fitted on it and measured on the hidden test set."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from evaluators.base import EvaluationResult, ProgressCallback, SplitScore, chart
from evaluators.splits import score_splits
from evaluators.training_set_creation.models import MODEL_TITLES, fit_predict
from evaluators.training_set_creation.task import TrainingTask
from evaluators.training_set_creation.validation import TrainingSet

PRIMARY_METRIC = "accuracy"


def model_metric(model: str) -> str:
    """The metric name of one model's test accuracy."""
    return f"{PRIMARY_METRIC}.{model}"


def confusion(truth: npt.NDArray[np.int64], predicted: npt.NDArray[np.int64], n_labels: int) -> npt.NDArray[np.int64]:
    """Counts: row = true label index, column = predicted label index."""
    matrix = np.zeros((n_labels, n_labels), dtype=np.int64)
    np.add.at(matrix, (truth, predicted), 1)
    return matrix


def _recall(matrix: npt.NDArray[np.int64]) -> list[float]:
    totals = matrix.sum(axis=1)
    return [float(matrix[i, i] / totals[i]) if totals[i] else 0.0 for i in range(len(matrix))]


def _test_charts(
    labels: list[str], accuracies: dict[str, float], matrices: dict[str, Any], scope: str = ""
) -> list[dict[str, Any]]:
    """The charts over test items (accuracy, recall, confusion); `scope` is appended to their titles."""
    charts = [
        chart(
            "bar",
            f"Test accuracy per model{scope}",
            [MODEL_TITLES[m] for m in accuracies],
            list(accuracies.values()),
            y_label="accuracy",
        )
    ]
    charts += [
        chart("bar", f"Recall per label{scope}", labels, _recall(matrix), y_label="recall", series=MODEL_TITLES[model])
        for model, matrix in matrices.items()
    ]
    # The confusion matrix as one series per predicted label (share of each true label's test items),
    # averaged over the models: a stacked view of which labels the trained models mix up.
    mean_share = np.mean([m / np.maximum(m.sum(axis=1, keepdims=True), 1) for m in matrices.values()], axis=0)
    charts += [
        chart(
            "bar",
            f"Confusion (mean over models): share of test items predicted as each label{scope}",
            labels,
            mean_share[:, column].tolist(),
            x_label="true label",
            y_label="share",
            series=f"predicted {label}",
        )
        for column, label in enumerate(labels)
    ]
    return charts


def _charts(
    task: TrainingTask, training_set: TrainingSet, accuracies: dict[str, float], matrices: dict[str, Any]
) -> list[dict[str, Any]]:
    labels = list(task.config.labels)
    n_labels = len(labels)
    pool_counts = np.bincount(training_set.labels[~training_set.is_new], minlength=n_labels)
    new_counts = np.bincount(training_set.labels[training_set.is_new], minlength=n_labels)
    test_charts = _test_charts(labels, accuracies, matrices)
    # Today's order: the accuracy chart, the submitted items per label, then recall and confusion.
    return [
        test_charts[0],
        chart("bar", "Submitted items per label", labels, pool_counts.tolist(), y_label="items", series="pool items"),
        chart("bar", "Submitted items per label", labels, new_counts.tolist(), y_label="items", series="new items"),
        *test_charts[1:],
    ]


def _details(
    task: TrainingTask, training_set: TrainingSet, accuracies: dict[str, float], matrices: dict[str, Any]
) -> dict[str, Any]:
    """The visible details; `accuracies` and `matrices` are over the test items a participant may see
    charts of (the whole test set without a split, its public part with one)."""
    labels = list(task.config.labels)
    counts = np.bincount(training_set.labels, minlength=len(labels))
    return {
        "charts": _charts(task, training_set, accuracies, matrices),
        "n_items": training_set.n_items,
        "n_pool_items": training_set.n_items - training_set.n_new,
        "n_new_items": training_set.n_new,
        "max_items": task.config.max_items,
        "label_counts": {label: int(counts[index]) for index, label in enumerate(labels)},
        "labels": labels,
        "models": list(accuracies),
        "confusion": {model: matrix.tolist() for model, matrix in matrices.items()},
    }


def _side(
    task: TrainingTask, predictions: dict[str, npt.NDArray[np.int64]], mask: npt.NDArray[np.bool_]
) -> tuple[dict[str, float], dict[str, Any]]:
    """Per-model accuracy and confusion matrix over the test items where `mask` is True."""
    truth = task.test().labels[mask]
    accuracies = {model: float(np.mean(predicted[mask] == truth)) for model, predicted in predictions.items()}
    matrices = {
        model: confusion(truth, predicted[mask], len(task.config.labels)) for model, predicted in predictions.items()
    }
    return accuracies, matrices


def _scores(accuracies: dict[str, float]) -> tuple[float, dict[str, float]]:
    """The primary (mean over the models, in config order) and the per-model metrics."""
    primary = float(np.mean(list(accuracies.values())))
    return primary, {model_metric(model): value for model, value in accuracies.items()}


def _with_split(
    task: TrainingTask,
    training_set: TrainingSet,
    predictions: dict[str, npt.NDArray[np.int64]],
    whole: tuple[dict[str, float], dict[str, Any]],
) -> tuple[dict[str, Any], dict[str, SplitScore]]:
    """The details (visible part on the public test items alone; whole-set and private charts and confusion
    matrices sealed) and the public and private scores."""
    private = task.private_mask()
    public_side, private_side = _side(task, predictions, ~private), _side(task, predictions, private)
    splits = score_splits(
        private.tolist(), lambda mask: _scores(_side(task, predictions, np.array(mask, dtype=bool))[0])
    )
    labels = list(task.config.labels)
    details = _details(task, training_set, *public_side)
    details["sealed_charts"] = [
        *_test_charts(labels, *whole, " (whole test set)"),
        *_test_charts(labels, *private_side, " (private part)"),
    ]
    details["sealed"] = {
        "confusion": {model: matrix.tolist() for model, matrix in whole[1].items()},
        "private_confusion": {model: matrix.tolist() for model, matrix in private_side[1].items()},
    }
    return details, splits


def score_training_set(
    task: TrainingTask, training_set: TrainingSet, report_progress: ProgressCallback
) -> EvaluationResult:
    """Fit every model of the config (in config order) on the submission; primary = mean test accuracy over
    the whole test set. With a private split, `splits` holds the same metrics on each side (from the same
    fits) and the visible details are computed on the public test items alone."""
    report_progress(0.0, "loading the test set")
    test = task.test()
    models = task.config.models
    accuracies: dict[str, float] = {}
    matrices: dict[str, Any] = {}
    predictions: dict[str, npt.NDArray[np.int64]] = {}
    for done, model in enumerate(models, start=1):
        predicted = fit_predict(model, training_set.features, training_set.labels, test.features)
        predictions[model] = predicted
        accuracies[model] = float(np.mean(predicted == test.labels))
        matrices[model] = confusion(test.labels, predicted, len(task.config.labels))
        report_progress(done / len(models), f"{model}: accuracy {accuracies[model]:.4f}")
    primary, metrics = _scores(accuracies)
    if not task.config.split.enabled:
        return EvaluationResult(primary, metrics, _details(task, training_set, accuracies, matrices))
    details, splits = _with_split(task, training_set, predictions, (accuracies, matrices))
    return EvaluationResult(primary, metrics, details, splits)
