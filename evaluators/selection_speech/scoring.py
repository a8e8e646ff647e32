"""Scoring a selection: the reference ensemble fitted once per seed, macro F1 on the evaluation set."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from sklearn.ensemble import VotingClassifier
from sklearn.exceptions import ConvergenceWarning, UndefinedMetricWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.svm import SVC

from evaluators.base import EvaluationResult, ProgressCallback, chart
from evaluators.selection_speech.data import LabelledRows, assemble_rows
from evaluators.selection_speech.task import SpeechTask
from evaluators.selection_speech.validation import SpeechSelection
from evaluators.splits import score_splits

SEEDS = (5, 69, 98, 70, 95, 64, 37, 11, 4, 32)
PRIMARY_METRIC = "macro_f1"


def seed_metric(seed: int) -> str:
    """The metric name of one seed's macro F1."""
    return f"{PRIMARY_METRIC}.seed_{seed}"


def make_model(seed: int) -> VotingClassifier:
    """The reference classifier: soft vote of SVC (with Platt probabilities) and logistic regression."""
    return VotingClassifier(
        [
            ("svm", SVC(probability=True, random_state=seed)),
            ("lr", LogisticRegression(random_state=seed)),
        ],
        voting="soft",
    )


def fit_and_predict(train: LabelledRows, evaluation: LabelledRows, seed: int) -> npt.NDArray[Any]:
    """Fit the reference model with `seed` on the training rows and predict the evaluation rows."""
    with warnings.catch_warnings():
        # scikit-learn 1.9 deprecates SVC(probability=True), and lbfgs may stop at max_iter; the reference
        # ran with both, so the warnings are expected and would only be noise in a worker's log.
        warnings.simplefilter("ignore", FutureWarning)
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = make_model(seed).fit(train.features, train.labels)
        predicted: npt.NDArray[Any] = model.predict(evaluation.features)
    return predicted


def _f1_values(truth: npt.NDArray[Any], predicted: npt.NDArray[Any], n_classes: int) -> tuple[float, list[float]]:
    """The reference macro F1 (over the labels present) and the F1 of every class id 0..n_classes-1."""
    with warnings.catch_warnings():
        # A class predicted but absent from the truth has an undefined recall: 0 by default, as the reference.
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        macro = float(f1_score(truth, predicted, average="macro"))
        per_class = f1_score(truth, predicted, labels=list(range(n_classes)), average=None, zero_division=0.0)
    return macro, [float(value) for value in per_class]


def training_rows(task: SpeechTask, selection: SpeechSelection) -> LabelledRows:
    """The training rows of a valid selection, in the reference order."""
    return assemble_rows(task.train, selection.targets, selection.nontargets, task.class_of)


SeedScores = list[tuple[int, float, list[float]]]
"""(seed, macro F1, F1 per class id) for each seed, in `SEEDS` order."""


def seed_scores(
    truth: npt.NDArray[Any], predictions: Sequence[npt.NDArray[Any]], n_classes: int, rows: Sequence[bool] | None
) -> SeedScores:
    """The F1 values of each seed's predictions on the evaluation rows where `rows` is True (all if None)."""
    if rows is not None:
        keep = np.asarray(rows, dtype=bool)
        truth = truth[keep]
        predictions = [predicted[keep] for predicted in predictions]
    return [
        (seed, *_f1_values(truth, predicted, n_classes)) for seed, predicted in zip(SEEDS, predictions, strict=True)
    ]


def primary_and_metrics(per_seed: SeedScores) -> tuple[float, dict[str, float]]:
    """The mean macro F1 over the seeds (float(np.mean) of the list, as the reference) and each seed's."""
    return float(np.mean([macro for _, macro, _ in per_seed])), {seed_metric(s): macro for s, macro, _ in per_seed}


def _f1_summary(names: Sequence[str], per_seed: SeedScores, scope: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The per-class and per-seed charts (`scope` goes in their titles) and data of one set of F1 values."""
    per_class = [float(np.mean([values[index] for _, _, values in per_seed])) for index in range(len(names))]
    charts = {
        "per_class": chart("bar", f"F1 per class (mean over seeds){scope}", names, per_class, y_label="F1"),
        "per_seed": chart(
            "bar", f"Macro F1 per seed{scope}", [f"seed {s}" for s, _, _ in per_seed], [m for _, m, _ in per_seed]
        ),
    }
    data = {
        "per_seed": [{"seed": seed, PRIMARY_METRIC: macro} for seed, macro, _ in per_seed],
        "per_class_f1": dict(zip(names, per_class, strict=True)),
    }
    return charts, data


def _details(task: SpeechTask, selection: SpeechSelection, train: LabelledRows, shown: SeedScores) -> dict[str, Any]:
    """The visible details: F1 values from `shown` (the whole set without a split, the public part with one)."""
    names = task.class_names
    counts = np.bincount(train.labels.astype(np.int64), minlength=len(names))
    charts, data = _f1_summary(names, shown, "")
    rows_chart = chart("bar", "Training rows per class", names, [int(c) for c in counts], y_label="rows")
    return {
        "charts": [charts["per_class"], rows_chart, charts["per_seed"]],
        "per_seed": data["per_seed"],
        "class_names": list(names),
        "per_class_f1": data["per_class_f1"],
        "n_train_rows": len(train.labels),
        "n_entries": selection.n_entries,
        "budget": task.config.train_size,
        "class_counts": {name: int(counts[index]) for index, name in enumerate(names)},
    }


def _sealed(names: Sequence[str], whole: SeedScores, private: SeedScores) -> dict[str, Any]:
    """The whole-set and private-side F1 charts and data: organizers only until the challenge ends."""
    whole_charts, whole_data = _f1_summary(names, whole, " (whole evaluation set)")
    private_charts, private_data = _f1_summary(names, private, " (private part)")
    return {
        "scored_on": "public",
        "sealed_charts": [*whole_charts.values(), *private_charts.values()],
        "sealed": {"whole": whole_data, "private": private_data},
    }


def _predict_all(
    task: SpeechTask, train: LabelledRows, evaluation: LabelledRows, report_progress: ProgressCallback
) -> list[npt.NDArray[Any]]:
    """One fit and prediction per seed; the progress message gives the seed's macro F1 on the visible part."""
    split = task.config.split.enabled
    # Progress is shown to the participant: with a split, the private rows must not move its numbers.
    visible = np.logical_not(task.private_rows()) if split else np.ones(len(evaluation.labels), dtype=bool)
    scope = "public macro F1" if split else "macro F1"
    predictions: list[npt.NDArray[Any]] = []
    for done, seed in enumerate(SEEDS, start=1):
        predictions.append(fit_and_predict(train, evaluation, seed))
        macro, _ = _f1_values(evaluation.labels[visible], predictions[-1][visible], len(task.class_names))
        report_progress(done / len(SEEDS), f"seed {seed}: {scope} {macro:.4f}")
    return predictions


def score_selection(
    task: SpeechTask, selection: SpeechSelection, report_progress: ProgressCallback
) -> EvaluationResult:
    """Fit the reference model once per seed and report the mean macro F1 (primary) and each seed's, on the
    whole evaluation set; with a private split, also on each side, and visible details from the public one."""
    train = training_rows(task, selection)
    report_progress(0.0, "loading the evaluation set")
    evaluation = task.eval_rows()
    predictions = _predict_all(task, train, evaluation, report_progress)
    n_classes = len(task.class_names)
    whole = seed_scores(evaluation.labels, predictions, n_classes, None)
    primary, metrics = primary_and_metrics(whole)
    if not task.config.split.enabled:
        return EvaluationResult(primary, metrics, details=_details(task, selection, train, whole))
    private = task.private_rows()

    def on_rows(rows: list[bool]) -> tuple[float, dict[str, float]]:
        return primary_and_metrics(seed_scores(evaluation.labels, predictions, n_classes, rows))

    public_scores = seed_scores(evaluation.labels, predictions, n_classes, [not flag for flag in private])
    private_scores = seed_scores(evaluation.labels, predictions, n_classes, private)
    details = _details(task, selection, train, public_scores)
    details.update(_sealed(task.class_names, whole, private_scores))
    return EvaluationResult(primary, metrics, details=details, splits=score_splits(private, on_rows))
