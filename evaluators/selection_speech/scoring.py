"""Scoring a selection: the reference ensemble fitted once per seed, macro F1 on the evaluation set."""

from __future__ import annotations

import warnings
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


def _details(
    task: SpeechTask,
    selection: SpeechSelection,
    train: LabelledRows,
    per_seed: list[tuple[int, float, list[float]]],
) -> dict[str, Any]:
    names = task.class_names
    counts = np.bincount(train.labels.astype(np.int64), minlength=len(names))
    per_class_f1 = [float(np.mean([per_class[index] for _, _, per_class in per_seed])) for index in range(len(names))]
    charts = [
        chart("bar", "F1 per class (mean over seeds)", names, per_class_f1, y_label="F1"),
        chart("bar", "Training rows per class", names, [int(c) for c in counts], y_label="rows"),
        chart("bar", "Macro F1 per seed", [f"seed {s}" for s, _, _ in per_seed], [m for _, m, _ in per_seed]),
    ]
    return {
        "charts": charts,
        "per_seed": [{"seed": seed, PRIMARY_METRIC: macro} for seed, macro, _ in per_seed],
        "class_names": list(names),
        "per_class_f1": {
            name: float(np.mean([per_class[index] for _, _, per_class in per_seed])) for index, name in enumerate(names)
        },
        "n_train_rows": len(train.labels),
        "n_entries": selection.n_entries,
        "budget": task.config.train_size,
        "class_counts": {name: int(counts[index]) for index, name in enumerate(names)},
    }


def score_selection(
    task: SpeechTask, selection: SpeechSelection, report_progress: ProgressCallback
) -> EvaluationResult:
    """Fit the reference model once per seed and report the mean macro F1 (primary) and each seed's."""
    train = training_rows(task, selection)
    report_progress(0.0, "loading the evaluation set")
    evaluation = task.eval_rows()
    per_seed: list[tuple[int, float, list[float]]] = []
    for done, seed in enumerate(SEEDS, start=1):
        predicted = fit_and_predict(train, evaluation, seed)
        macro, per_class = _f1_values(evaluation.labels, predicted, len(task.class_names))
        per_seed.append((seed, macro, per_class))
        report_progress(done / len(SEEDS), f"seed {seed}: macro F1 {macro:.4f}")
    # float(np.mean) of the list, as the reference averages the ten values.
    primary = float(np.mean([macro for _, macro, _ in per_seed]))
    return EvaluationResult(
        primary=primary,
        metrics={seed_metric(seed): macro for seed, macro, _ in per_seed},
        details=_details(task, selection, train, per_seed),
    )
