"""Scoring a cleaning selection (DCBench `BudgetcleanProblem.evaluate`).

The selected rows of the dirty training table (dirty cells missing) take their X_train_clean values
(`DataFrame.mask`); `LogisticRegression()` is trained on that table, and on each split
`gapclosed = (acc_solution - acc_dirty) / (acc_clean - acc_dirty)`, where the dirty and the clean model are
the task's fixed references (`CleaningTask.reference()`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from evaluators.base import EvaluationResult, ProgressCallback, SplitScore, chart
from evaluators.budget_cleaning.model import ColumnArrays, IntArray, ReferenceModels, accuracy_on, fit_model
from evaluators.budget_cleaning.task import TEST_SPLIT, CleaningTask
from evaluators.budget_cleaning.validation import CleaningSelection
from evaluators.splits import PUBLIC, score_splits

PRIMARY_METRIC = "gapclosed"
SPLITS = (("val", "validation"), ("test", "test"))
KINDS = ("solution", "dirty", "clean")


def gapclosed_metric(split: str) -> str:
    """`acc_test_gapclosed` or `acc_val_gapclosed`, the original's names."""
    return f"acc_{split}_gapclosed"


def accuracy_metric(split: str, kind: str) -> str:
    """`acc_<split>_<solution|dirty|clean>`: the raw accuracy of one of the three models."""
    return f"acc_{split}_{kind}"


def solution_table(models: ReferenceModels, task: CleaningTask, selection: CleaningSelection) -> pd.DataFrame:
    """The training table of a submission: the dirty table with the selected rows taken from the clean one.

    The original's operation, kept as the yardstick of `solution_inputs` (the tests check they agree)."""
    mask = pd.Series(_selected(task, selection), index=models.cleared.index)
    return models.cleared.mask(mask, models.clean)


def solution_inputs(models: ReferenceModels, task: CleaningTask, selection: CleaningSelection) -> ColumnArrays:
    """What the preprocessor takes of `solution_table(...)`, from arrays prepared once per task: the same
    values (both tables have one index and one column order), without a pandas mask per submission."""
    return models.cleared_inputs.where(_selected(task, selection), models.clean_inputs)


def _selected(task: CleaningTask, selection: CleaningSelection) -> npt.NDArray[np.bool_]:
    selected = np.zeros(task.n_train, dtype=np.bool_)
    selected[list(selection.rows)] = True
    return selected


def _accuracies(
    task: CleaningTask, selection: CleaningSelection, report_progress: ProgressCallback
) -> tuple[dict[str, Any], IntArray]:
    """The six accuracies on the whole splits, and the solution model's predictions on the test split."""
    report_progress(0.0, "preparing the dirty and clean reference models")
    models = task.reference()
    report_progress(0.4, f"training on the table with {len(selection.rows)} cleaned rows")
    model = fit_model(models.preprocessor.transform(solution_inputs(models, task, selection)), models.train_labels)
    report_progress(0.9, "scoring the validation and test splits")
    values: dict[str, Any] = {}
    test_predictions: IntArray = np.zeros(0, dtype=np.int64)
    for (short, name), split in zip(SPLITS, models.splits, strict=True):
        predictions: IntArray = model.predict(split.features)
        # What `model.score` returns (the reference values hold to the bit), from predictions kept for the split.
        values[accuracy_metric(short, "solution")] = accuracy_on(split, predictions)
        values[accuracy_metric(short, "dirty")] = models.dirty_accuracy[name]
        values[accuracy_metric(short, "clean")] = models.clean_accuracy[name]
        if name == TEST_SPLIT:
            test_predictions = predictions
    return values, test_predictions


def _gapclosed(values: dict[str, Any], split: str) -> float:
    solution, dirty, clean = (values[accuracy_metric(split, kind)] for kind in KINDS)
    return float((solution - dirty) / (clean - dirty))


def _metrics(values: dict[str, Any]) -> dict[str, float]:
    return {
        gapclosed_metric("test"): _gapclosed(values, "test"),
        gapclosed_metric("val"): _gapclosed(values, "val"),
        **{name: float(value) for name, value in values.items()},
    }


def _accuracy_charts(metrics: dict[str, float], test_series: str) -> list[dict[str, Any]]:
    """The charts of the accuracies; `test_series` names the test rows they are computed on."""
    labels = {"dirty": "dirty table", "solution": "your selection cleaned", "clean": "clean table"}
    names = {short: test_series if short == "test" else name for short, name in SPLITS}
    charts = [
        chart(
            "bar",
            "Accuracy of the three models",
            list(labels.values()),
            [metrics[accuracy_metric(short, kind)] for kind in labels],
            y_label="accuracy",
            series=names[short],
        )
        for short, _ in SPLITS
    ]
    charts.append(
        chart(
            "bar",
            "Share of the accuracy gap closed",
            [names[short] for short, _ in SPLITS],
            [metrics[gapclosed_metric(short)] for short, _ in SPLITS],
            y_label="gap closed",
        )
    )
    return charts


def _details(task: CleaningTask, selection: CleaningSelection, metrics: dict[str, float]) -> dict[str, Any]:
    """The details; `metrics` are those computed on the test rows a participant may see charted."""
    dirty_cells = task.dirty_cells_per_row
    chosen = list(selection.rows)
    selected_dirty_rows = int((dirty_cells[chosen] > 0).sum()) if chosen else 0
    return {
        "charts": _accuracy_charts(metrics, "test"),
        "file_format": selection.file_format,
        "n_selected": len(chosen),
        "budget_rows": task.max_selected,
        "n_train": task.n_train,
        "selected_rows_with_dirty_cells": selected_dirty_rows,
        "dirty_cells_repaired": int(dirty_cells[chosen].sum()) if chosen else 0,
        "rows_with_dirty_cells": int((dirty_cells > 0).sum()),
    }


def _splits(task: CleaningTask, values: dict[str, Any], test_predictions: IntArray) -> dict[str, SplitScore]:
    """The same metrics with the test accuracies taken on one side's test rows (validation is public, whole)."""
    models = task.reference()
    test = next(split for split in models.splits if split.name == TEST_SPLIT)

    def compute(mask: list[bool]) -> tuple[float, dict[str, float]]:
        rows = np.array(mask, dtype=np.bool_)
        side = dict(values)
        side[accuracy_metric("test", "solution")] = accuracy_on(test, test_predictions, rows)
        side[accuracy_metric("test", "dirty")] = accuracy_on(test, models.dirty_predictions[TEST_SPLIT], rows)
        side[accuracy_metric("test", "clean")] = accuracy_on(test, models.clean_predictions[TEST_SPLIT], rows)
        metrics = _metrics(side)
        return metrics[gapclosed_metric("test")], metrics

    return score_splits(task.private_test_rows().tolist(), compute)


def score_selection(
    task: CleaningTask, selection: CleaningSelection, report_progress: ProgressCallback
) -> EvaluationResult:
    """Train on the cleaned selection; primary = gap closed on the test split. `TaskConfigError` if the task's
    clean and dirty models tie on a split (checked before any submission model is trained), or on a side of
    its private split. With a split, `splits` holds the metrics on each side's test rows and the visible
    charts show the public side; the whole-set charts are sealed."""
    values, test_predictions = _accuracies(task, selection, report_progress)
    metrics = _metrics(values)
    report_progress(1.0, f"test gap closed {metrics[gapclosed_metric('test')]:.4f}")
    details = _details(task, selection, metrics)
    if not task.config.split.enabled:
        return EvaluationResult(primary=metrics[gapclosed_metric("test")], metrics=metrics, details=details)
    splits = _splits(task, values, test_predictions)
    details["charts"] = _accuracy_charts(splits[PUBLIC].metrics, "test (public part)")
    details["sealed_charts"] = _accuracy_charts(metrics, "test (whole)")
    return EvaluationResult(primary=metrics[gapclosed_metric("test")], metrics=metrics, details=details, splits=splits)
