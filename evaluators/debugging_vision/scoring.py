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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from evaluators.base import EvaluationResult, ProgressCallback, SplitScore, chart
from evaluators.debugging_vision.data import LabelArray
from evaluators.debugging_vision.metrics import final_accuracy_metric, fraction_metric
from evaluators.debugging_vision.task import DebuggingTask, private_test_rows
from evaluators.debugging_vision.training import (
    DatasetTensors,
    as_tensor,
    correctness_after_training,
    reference_numerics,
    rounded_mean,
)
from evaluators.debugging_vision.validation import DebuggingSubmission
from evaluators.splits import PRIVATE, PUBLIC, score_splits

TARGET_RATIO = 0.95

TrainFunction = Callable[[LabelArray], np.float64]
BoolArray = npt.NDArray[np.bool_]


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


@dataclass
class Trainings:
    """Which test images each trained label vector predicts right, kept so that the whole test set and each
    side of a private split read their accuracies from the same trainings (one training per label vector)."""

    train: Callable[[LabelArray], BoolArray]
    on_trained: Callable[[], None] = lambda: None
    memo: dict[bytes, BoolArray] = field(default_factory=dict)

    def correct(self, labels: LabelArray) -> BoolArray:
        """The per-test-image correctness after training on `labels` (trained on first use)."""
        key = labels.tobytes()
        if key not in self.memo:
            self.memo[key] = self.train(labels)
            self.on_trained()
        return self.memo[key]

    def accuracy_on(self, rows: BoolArray | None) -> TrainFunction:
        """The curve's accuracy function on the test rows where `rows` is True (None: the whole test set)."""

        def accuracy(labels: LabelArray) -> np.float64:
            correct = self.correct(labels)
            return rounded_mean(correct if rows is None else correct[rows])

        return accuracy


@dataclass(frozen=True)
class DatasetRun:
    """One dataset of a submission: its label sets and its trainings."""

    data_id: str
    sets: LabelSets
    trainings: Trainings


class _Progress:
    """Counts trainings over the whole submission and reports after each."""

    def __init__(self, report: ProgressCallback, total: int) -> None:
        self.report, self.total, self.done, self.label = report, max(total, 1), 0, ""

    def trained(self) -> None:
        self.done += 1
        self.report(min(self.done / self.total, 1.0), f"{self.label}: {self.done} of {self.total} models trained")


def _plan(
    task: DebuggingTask, submission: DebuggingSubmission, report_progress: ProgressCallback
) -> tuple[list[DatasetRun], _Progress]:
    steps = task.config.train_size
    plans = []
    for data_id in task.config.datasets:
        noisy, truth = task.train[data_id].labels, task.hidden(data_id).truth
        plans.append((data_id, LabelSets.build(noisy, truth, submission.ranking_file(data_id).ranking, steps)))
    progress = _Progress(report_progress, sum(sets.distinct() for _, sets in plans))
    runs = []
    for data_id, sets in plans:
        tensors = dataset_tensors(task, data_id)
        train = functools.partial(correctness_after_training, tensors)
        runs.append(DatasetRun(data_id, sets, Trainings(train, progress.trained)))
    return runs, progress


def _score_whole(
    runs: Sequence[DatasetRun], progress: _Progress, report_progress: ProgressCallback, *, full_curve: bool
) -> list[DatasetScore]:
    scores = []
    for run in runs:
        progress.label = run.data_id
        schedule = CurveSchedule(run.sets, run.trainings.accuracy_on(None))
        scores.append(score_dataset(run.data_id, schedule, full_curve=full_curve))
        report_progress(
            min(progress.done / progress.total, 1.0), f"{run.data_id}: fraction_fixes {scores[-1].fraction_fixes:.4f}"
        )
    return scores


def score_datasets(
    task: DebuggingTask, submission: DebuggingSubmission, report_progress: ProgressCallback, *, full_curve: bool
) -> list[DatasetScore]:
    """Score every dataset of the submission on its whole test set (single-threaded torch, restored
    afterwards)."""
    runs, progress = _plan(task, submission, report_progress)
    report_progress(0.0, f"training the fixed model for {progress.total} distinct label sets")
    with reference_numerics():
        return _score_whole(runs, progress, report_progress, full_curve=full_curve)


def score_side(runs: Sequence[DatasetRun], rows: Mapping[str, BoolArray]) -> list[DatasetScore]:
    """Every dataset's score (with the whole curve) on the test rows of one side of the split; `rows[data_id]`
    is True for that side's test rows. Trains only label vectors not trained yet (none after a whole curve)."""
    scores = []
    for run in runs:
        schedule = CurveSchedule(run.sets, run.trainings.accuracy_on(rows[run.data_id]))
        scores.append(score_dataset(run.data_id, schedule, full_curve=True))
    return scores


def _curve_charts(score: DatasetScore, part: str = "") -> list[dict[str, Any]]:
    """The accuracy curve (x = 0 is the noisy labels) and the target line, drawn on one plot."""
    title = f"Test accuracy vs number of fixes ({score.data_id}{part})"
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


def _dataset_rows(submission: DebuggingSubmission, scores: Sequence[DatasetScore]) -> dict[str, dict[str, Any]]:
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
    return datasets


def _details(task: DebuggingTask, submission: DebuggingSubmission, scores: Sequence[DatasetScore]) -> dict[str, Any]:
    # The curve moves exactly at the steps that fix a wrong label, so it reveals hidden ground truth for every
    # listed row: it is sealed (organizers see it at once, participants when the challenge has ended).
    return {
        "charts": _charts(scores),
        "sealed_charts": [curve_chart for score in scores for curve_chart in _curve_charts(score)],
        "sealed": {"curves": {score.data_id: list(score.curve) for score in scores}},
        "datasets": _dataset_rows(submission, scores),
        "train_size": task.config.train_size,
    }


def _split_details(
    task: DebuggingTask,
    submission: DebuggingSubmission,
    whole: Sequence[DatasetScore],
    sides: Mapping[str, Sequence[DatasetScore]],
) -> dict[str, Any]:
    """With a split, what a participant sees is the public side's; the whole-set values (and the curves of
    every side, which reveal ground truth) are sealed, since whole and public together give private away."""
    details = _details(task, submission, sides[PUBLIC])
    details["sealed_charts"] = [
        *[curve_chart for score in whole for curve_chart in _curve_charts(score)],
        *[
            curve_chart
            for side, scores in sides.items()
            for score in scores
            for curve_chart in _curve_charts(score, f", {side} test images")
        ],
    ]
    details["sealed"] = {
        "curves": {score.data_id: list(score.curve) for score in whole},
        "datasets": _dataset_rows(submission, whole),
        **{f"{side}_curves": {score.data_id: list(score.curve) for score in scores} for side, scores in sides.items()},
    }
    return details


def _summary(scores: Sequence[DatasetScore]) -> tuple[float, dict[str, float]]:
    metrics: dict[str, float] = {}
    for score in scores:
        metrics[fraction_metric(score.data_id)] = score.fraction_fixes
        metrics[final_accuracy_metric(score.data_id)] = score.final_accuracy
    return float(np.mean([score.fraction_fixes for score in scores])), metrics


def _splits(
    task: DebuggingTask, runs: Sequence[DatasetRun]
) -> tuple[dict[str, SplitScore], dict[str, list[DatasetScore]]]:
    """The public and private scores over every dataset's test images (config order), from the trainings
    already done, and each side's dataset scores."""
    private = {run.data_id: private_test_rows(task, run.data_id) for run in runs}
    bounds = np.cumsum([0, *(len(rows) for rows in private.values())])

    def compute(mask: list[bool]) -> tuple[float, dict[str, float]]:
        selected = np.array(mask, dtype=np.bool_)
        rows = {run.data_id: selected[bounds[i] : bounds[i + 1]] for i, run in enumerate(runs)}
        return _summary(score_side(runs, rows))

    splits = score_splits(np.concatenate(list(private.values())).tolist(), compute)
    sides = {
        PUBLIC: score_side(runs, {data_id: ~rows for data_id, rows in private.items()}),
        PRIVATE: score_side(runs, private),
    }
    return splits, sides


def score_submission(
    task: DebuggingTask, submission: DebuggingSubmission, report_progress: ProgressCallback
) -> EvaluationResult:
    """Score every dataset, with the whole curve of each for the chart; primary = mean fraction_fixes.

    With a private split, `splits` holds the same metrics on the public and private test images, read from
    the same trainings (the split changes which test images an accuracy counts, never the training), and the
    visible details are the public side's."""
    runs, progress = _plan(task, submission, report_progress)
    report_progress(0.0, f"training the fixed model for {progress.total} distinct label sets")
    with reference_numerics():
        scores = _score_whole(runs, progress, report_progress, full_curve=True)
        split = _splits(task, runs) if task.config.split.enabled else None
    primary, metrics = _summary(scores)
    report_progress(1.0, f"mean fraction_fixes {primary:.4f}")
    if split is None:
        return EvaluationResult(primary=primary, metrics=metrics, details=_details(task, submission, scores))
    splits, sides = split
    details = _split_details(task, submission, scores, sides)
    return EvaluationResult(primary=primary, metrics=metrics, details=details, splits=splits)
