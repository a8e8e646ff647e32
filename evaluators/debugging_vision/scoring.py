"""Scoring a ranking: the reference's accuracy curve, computed with as few trainings as the result allows.

The reference retrains the fixed model after each of the `train_size` steps (step i: the first i listed rows
take their true label) and reads the curve y[i-1] = test accuracy. Target = 0.95 * y[train_size-1];
fraction_fixes = k / train_size for the first k with y[k] >= target.

Training is deterministic, so y depends only on the label vector, and the label vectors of a ranking are
nested: the rows whose noisy label differs from the truth ("effective fixes") only accumulate. The number of
effective fixes so far therefore identifies the label vector exactly, and a step that lists an already
correct row, repeats a row, or lies beyond the end of a short list reuses the accuracy of the step before.
The score needs y[train_size-1] (computed first) and y[0..k] (computed in order until one reaches the
target); the rest of the curve is only for the chart.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from evaluators.base import EvaluationResult, ProgressCallback, chart
from evaluators.debugging_vision.data import LabelArray
from evaluators.debugging_vision.metrics import final_accuracy_metric, fraction_metric
from evaluators.debugging_vision.task import DebuggingTask
from evaluators.debugging_vision.training import DatasetTensors, accuracy_after_training, as_tensor, reference_numerics
from evaluators.debugging_vision.validation import DebuggingSubmission

TARGET_RATIO = 0.95

TrainFunction = Callable[[LabelArray], np.float64]


def first_reaching(curve: Sequence[float]) -> tuple[int, float]:
    """The reference rule on a complete curve: (k, target) for the first k with curve[k] >= 0.95 * curve[-1]."""
    target = TARGET_RATIO * curve[-1]
    for index, accuracy in enumerate(curve):
        if accuracy >= target:
            return index, target
    raise ValueError("no point reaches the target (a curve of accuracies always has one)")


@dataclass(frozen=True)
class LabelSets:
    """The label vectors of a ranking, identified by their number of effective fixes.

    `counts[i]` is the number of effective fixes after step i + 1 (0-based steps, `train_size` of them);
    the vector with c effective fixes is the noisy labels with `effective_rows[:c]` set to the truth.
    """

    noisy: LabelArray
    truth: LabelArray
    effective_rows: tuple[int, ...]
    counts: tuple[int, ...]

    @classmethod
    def build(cls, noisy: LabelArray, truth: LabelArray, ranking: Sequence[int], steps: int) -> LabelSets:
        """The label sets of `ranking` (already cut to `steps` entries) over `steps` steps."""
        seen: set[int] = set()
        effective: list[int] = []
        counts: list[int] = []
        for step in range(steps):
            if step < len(ranking) and ranking[step] not in seen:
                seen.add(ranking[step])
                if truth[ranking[step]] != noisy[ranking[step]]:
                    effective.append(ranking[step])
            counts.append(len(effective))
        return cls(noisy=noisy, truth=truth, effective_rows=tuple(effective), counts=tuple(counts))

    def labels(self, count: int) -> LabelArray:
        """The training labels with the first `count` effective fixes applied."""
        labels = self.noisy.copy()
        rows = list(self.effective_rows[:count])
        labels[rows] = self.truth[rows]
        return labels

    def distinct(self) -> int:
        """How many different label vectors the whole curve (and the noisy point) needs."""
        return len(set(self.counts) | {0})


@dataclass
class CurveSchedule:
    """Computes curve points on demand, training once per distinct label vector."""

    sets: LabelSets
    train: TrainFunction
    on_trained: Callable[[], None] = lambda: None
    memo: dict[int, np.float64] = field(default_factory=dict)

    def accuracy(self, count: int) -> np.float64:
        """The test accuracy after training with `count` effective fixes (trained on first use)."""
        if count not in self.memo:
            self.memo[count] = self.train(self.sets.labels(count))
            self.on_trained()
        return self.memo[count]

    def point(self, step: int) -> np.float64:
        """y[step]: the accuracy after the first step + 1 listed rows are fixed."""
        return self.accuracy(self.sets.counts[step])

    def first_reaching(self) -> tuple[int, float]:
        """(k, target) of the reference rule, training only y[-1] and y[0..k]."""
        target = TARGET_RATIO * self.point(len(self.sets.counts) - 1)
        for step in range(len(self.sets.counts)):
            if self.point(step) >= target:
                return step, target
        raise ValueError("no point reaches the target (a curve of accuracies always has one)")

    def curve(self) -> list[float]:
        """Every point y[0..train_size-1]."""
        return [float(self.point(step)) for step in range(len(self.sets.counts))]


@dataclass(frozen=True)
class DatasetScore:
    """One dataset's result: the score and, when computed, the whole curve and the noisy-labels accuracy."""

    data_id: str
    fixes_needed: int
    fraction_fixes: float
    final_accuracy: float
    target: float
    curve: tuple[float, ...] = ()
    noisy_accuracy: float | None = None


def score_dataset(data_id: str, schedule: CurveSchedule, *, full_curve: bool) -> DatasetScore:
    """The reference score of one dataset; with `full_curve`, also every curve point and the noisy point."""
    steps = len(schedule.sets.counts)
    fixes_needed, target = schedule.first_reaching()
    final = float(schedule.point(steps - 1))
    score = DatasetScore(data_id, fixes_needed, fixes_needed / steps, final, target)
    if not full_curve:
        return score
    return dataclasses.replace(score, curve=tuple(schedule.curve()), noisy_accuracy=float(schedule.accuracy(0)))


def dataset_tensors(task: DebuggingTask, data_id: str) -> DatasetTensors:
    """The training and test features of a dataset as tensors, built once per task."""
    hidden = task.hidden(data_id)
    train = task.train[data_id]
    return task.derived(
        f"tensors:{data_id}",
        lambda: DatasetTensors(as_tensor(train.features), as_tensor(hidden.test.features), hidden.test.labels),
    )


class _Progress:
    """Counts trainings over the whole submission and reports after each."""

    def __init__(self, report: ProgressCallback, total: int) -> None:
        self.report, self.total, self.done, self.label = report, max(total, 1), 0, ""

    def trained(self) -> None:
        self.done += 1
        self.report(min(self.done / self.total, 1.0), f"{self.label}: {self.done} of {self.total} models trained")


def score_datasets(
    task: DebuggingTask, submission: DebuggingSubmission, report_progress: ProgressCallback, *, full_curve: bool
) -> list[DatasetScore]:
    """Score every dataset of the submission (single-threaded torch, restored afterwards)."""
    steps = task.config.train_size
    plans = []
    for data_id in task.config.datasets:
        noisy, truth = task.train[data_id].labels, task.hidden(data_id).truth
        plans.append((data_id, LabelSets.build(noisy, truth, submission.ranking_file(data_id).ranking, steps)))
    progress = _Progress(report_progress, sum(sets.distinct() for _, sets in plans))
    report_progress(0.0, f"training the fixed model for {progress.total} distinct label sets")
    scores = []
    with reference_numerics():
        for data_id, sets in plans:
            tensors = dataset_tensors(task, data_id)
            progress.label = data_id
            schedule = CurveSchedule(sets, functools.partial(accuracy_after_training, tensors), progress.trained)
            scores.append(score_dataset(data_id, schedule, full_curve=full_curve))
            report_progress(
                min(progress.done / progress.total, 1.0),
                f"{data_id}: fraction_fixes {scores[-1].fraction_fixes:.4f}",
            )
    return scores


def _curve_charts(score: DatasetScore) -> list[dict[str, Any]]:
    """The accuracy curve (x = 0 is the noisy labels) and the target line, drawn on one plot."""
    title = f"Test accuracy vs number of fixes ({score.data_id})"
    points = list(score.curve) if score.noisy_accuracy is None else [score.noisy_accuracy, *score.curve]
    first_x = 1 if score.noisy_accuracy is None else 0
    xs = list(range(first_x, first_x + len(points)))
    labels = {"x_label": "rows fixed", "y_label": "test accuracy"}
    return [
        chart("line", title, xs, points, series="accuracy", **labels),
        chart("line", title, xs, [score.target] * len(xs), series="target (95% of the final accuracy)", **labels),
    ]


def _charts(scores: Sequence[DatasetScore]) -> list[dict[str, Any]]:
    charts: list[dict[str, Any]] = []
    if len(scores) > 1:
        names = [score.data_id for score in scores]
        fractions = [score.fraction_fixes for score in scores]
        y_label = "fraction of fixes (lower is better)"
        charts.append(chart("bar", "Fraction of fixes per dataset", names, fractions, y_label=y_label))
    return charts


def _details(task: DebuggingTask, submission: DebuggingSubmission, scores: Sequence[DatasetScore]) -> dict[str, Any]:
    datasets = {}
    for score in scores:
        ranking_file = submission.ranking_file(score.data_id)
        datasets[score.data_id] = {
            "file": ranking_file.name,
            "lines": ranking_file.n_lines,
            "scored_lines": len(ranking_file.ranking),
            "fixes_needed": score.fixes_needed,
            "fraction_fixes": score.fraction_fixes,
            "final_accuracy": score.final_accuracy,
            "target_accuracy": score.target,
            "noisy_accuracy": score.noisy_accuracy,
        }
    # The curve moves exactly at the steps that fix a wrong label, so it reveals hidden ground truth for every
    # listed row: it is sealed (organizers see it at once, participants when the challenge has ended).
    return {
        "charts": _charts(scores),
        "sealed_charts": [curve_chart for score in scores for curve_chart in _curve_charts(score)],
        "sealed": {"curves": {score.data_id: list(score.curve) for score in scores}},
        "datasets": datasets,
        "train_size": task.config.train_size,
    }


def score_submission(
    task: DebuggingTask, submission: DebuggingSubmission, report_progress: ProgressCallback
) -> EvaluationResult:
    """Score every dataset, with the whole curve of each for the chart; primary = mean fraction_fixes."""
    scores = score_datasets(task, submission, report_progress, full_curve=True)
    metrics: dict[str, float] = {}
    for score in scores:
        metrics[fraction_metric(score.data_id)] = score.fraction_fixes
        metrics[final_accuracy_metric(score.data_id)] = score.final_accuracy
    primary = float(np.mean([score.fraction_fixes for score in scores]))
    report_progress(1.0, f"mean fraction_fixes {primary:.4f}")
    return EvaluationResult(primary=primary, metrics=metrics, details=_details(task, submission, scores))
