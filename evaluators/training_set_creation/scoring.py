"""Scoring a training set: each fixed model of the task is fitted on it and measured on the hidden test set."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from evaluators.base import EvaluationResult, ProgressCallback, chart
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


def _charts(
    task: TrainingTask, training_set: TrainingSet, accuracies: dict[str, float], matrices: dict[str, Any]
) -> list[dict[str, Any]]:
    labels = list(task.config.labels)
    n_labels = len(labels)
    pool_counts = np.bincount(training_set.labels[~training_set.is_new], minlength=n_labels)
    new_counts = np.bincount(training_set.labels[training_set.is_new], minlength=n_labels)
    charts = [
        chart(
            "bar",
            "Test accuracy per model",
            [MODEL_TITLES[m] for m in accuracies],
            list(accuracies.values()),
            y_label="accuracy",
        ),
        chart("bar", "Submitted items per label", labels, pool_counts.tolist(), y_label="items", series="pool items"),
        chart("bar", "Submitted items per label", labels, new_counts.tolist(), y_label="items", series="new items"),
    ]
    charts += [
        chart("bar", "Recall per label", labels, _recall(matrix), y_label="recall", series=MODEL_TITLES[model])
        for model, matrix in matrices.items()
    ]
    # The confusion matrix as one series per predicted label (share of each true label's test items),
    # averaged over the models: a stacked view of which labels the trained models mix up.
    mean_share = np.mean([m / np.maximum(m.sum(axis=1, keepdims=True), 1) for m in matrices.values()], axis=0)
    charts += [
        chart(
            "bar",
            "Confusion (mean over models): share of test items predicted as each label",
            labels,
            mean_share[:, column].tolist(),
            x_label="true label",
            y_label="share",
            series=f"predicted {label}",
        )
        for column, label in enumerate(labels)
    ]
    return charts


def _details(
    task: TrainingTask, training_set: TrainingSet, accuracies: dict[str, float], matrices: dict[str, Any]
) -> dict[str, Any]:
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


def score_training_set(
    task: TrainingTask, training_set: TrainingSet, report_progress: ProgressCallback
) -> EvaluationResult:
    """Fit every model of the config (in config order) on the submission; primary = mean test accuracy."""
    report_progress(0.0, "loading the test set")
    test = task.test()
    models = task.config.models
    accuracies: dict[str, float] = {}
    matrices: dict[str, Any] = {}
    for done, model in enumerate(models, start=1):
        predicted = fit_predict(model, training_set.features, training_set.labels, test.features)
        accuracies[model] = float(np.mean(predicted == test.labels))
        matrices[model] = confusion(test.labels, predicted, len(task.config.labels))
        report_progress(done / len(models), f"{model}: accuracy {accuracies[model]:.4f}")
    primary = float(np.mean(list(accuracies.values())))
    return EvaluationResult(
        primary=primary,
        metrics={model_metric(model): value for model, value in accuracies.items()},
        details=_details(task, training_set, accuracies, matrices),
    )
