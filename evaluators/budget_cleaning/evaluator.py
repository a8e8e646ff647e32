"""The budget-cleaning evaluator (DCBench budgetclean; reference `dcbench/tasks/budgetclean/problem.py`).

Participants see a training table with dirty cells (each a list of candidate repairs) and choose at most
`int(budget * n_train)` rows to clean; the score is the share of the accuracy gap between the model trained
on the dirty table and the one trained on the clean table that the cleaned selection closes.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

from evaluators.base import (
    DataFileRule,
    EvaluationResult,
    Evaluator,
    MetricSpec,
    ProgressCallback,
    no_progress,
)
from evaluators.budget_cleaning.data import X_TEST, X_TRAIN_CLEAN, X_TRAIN_DIRTY, X_VAL, Y_TEST, Y_TRAIN, Y_VAL
from evaluators.budget_cleaning.scoring import PRIMARY_METRIC, accuracy_metric, gapclosed_metric, score_selection
from evaluators.budget_cleaning.task import CleaningConfig, CleaningTask, load_cleaning_task
from evaluators.budget_cleaning.validation import CleaningSelection, parse_selection

_SPLIT_NAMES = {"test": "test", "val": "validation"}
_MODEL_NAMES = {"solution": "your cleaned table", "dirty": "the dirty table", "clean": "the clean table"}


class BudgetCleaningEvaluator(Evaluator[CleaningTask, CleaningSelection]):
    """Data cleaning under a budget: a CSV `id` + one training-row id per line (or an `id,clean` mask)."""

    slug: ClassVar[str] = "budget-cleaning"
    title: ClassVar[str] = "Data cleaning under a budget (DCBench)"
    # Bump on any change that can move a score: this code, the scikit-learn or pandas pin.
    version: ClassVar[str] = "1.0.0"
    submission_format: ClassVar[str] = (
        "one CSV file with the header id and one X_train_dirty.csv row id per line (the rows to clean, at most "
        "int(budget x rows), any order; the header alone cleans nothing), or the header id,clean and one line "
        "<id>,true|false per training row"
    )
    demo_module: ClassVar[str | None] = "evaluators.budget_cleaning.synthetic"
    data_files: ClassVar[tuple[DataFileRule, ...]] = (
        DataFileRule(X_TRAIN_DIRTY, hidden=False, description="training features; dirty cells list candidate repairs"),
        DataFileRule(Y_TRAIN, hidden=False, description="training labels"),
        DataFileRule(X_VAL, hidden=False, description="validation features (clean)"),
        DataFileRule(Y_VAL, hidden=False, description="validation labels"),
        DataFileRule(X_TRAIN_CLEAN, hidden=True, description="the training features with every dirty cell repaired"),
        DataFileRule(X_TEST, hidden=True, description="test features"),
        DataFileRule(Y_TEST, hidden=True, description="test labels"),
    )

    def validate_config(self, config: Mapping[str, Any]) -> dict[str, Any]:
        """`budget` (0 < budget <= 1) is required; `model` is `logreg` (the default)."""
        return CleaningConfig.from_mapping(config).as_dict()

    def primary_metric(self, config: Mapping[str, Any]) -> MetricSpec:
        """The test split's gap closed (the original's acc_test_gapclosed), shown as a percentage."""
        return MetricSpec(PRIMARY_METRIC, "Accuracy gap closed on the test split", display_scale=100)

    def metric_specs(self, config: Mapping[str, Any]) -> list[MetricSpec]:
        """The original's two gap-closed values, then the raw accuracy of each model on each split."""
        specs = [
            MetricSpec(gapclosed_metric("test"), "Gap closed, test (acc_test_gapclosed)", display_scale=100),
            MetricSpec(
                gapclosed_metric("val"),
                "Gap closed, validation (acc_val_gapclosed)",
                display_scale=100,
                leaderboard_column=True,
            ),
        ]
        for split, split_name in _SPLIT_NAMES.items():
            for kind, model_name in _MODEL_NAMES.items():
                specs.append(
                    MetricSpec(
                        accuracy_metric(split, kind),
                        f"Accuracy on {split_name}, model trained on {model_name}",
                        display_scale=100,
                        leaderboard_column=(split, kind) == ("test", "solution"),
                    )
                )
        return specs

    def load_task(self, task_dir: Path, config: Mapping[str, Any]) -> CleaningTask:
        """Read the public tables; the hidden ones and the fixed models are prepared on first use."""
        return load_cleaning_task(Path(task_dir), CleaningConfig.from_mapping(config))

    def check_task(self, task: CleaningTask) -> list[str]:
        """Unusable hidden tables, clean and dirty models tied on a split (gap closed would divide by zero), a
        budget of no row, no dirty cell, clean values outside their candidate repairs."""
        return task.problems()

    def validate(self, task: CleaningTask, submission_path: Path) -> CleaningSelection:
        """Parse the CSV file and check every rule (see `validation.py`)."""
        return parse_selection(task, Path(submission_path))

    def evaluate(
        self, task: CleaningTask, parsed: CleaningSelection, report_progress: ProgressCallback = no_progress
    ) -> EvaluationResult:
        """One logistic regression on the submission's table; the reference models are shared per task."""
        return score_selection(task, parsed, report_progress)

    def canonical(self, task: CleaningTask, parsed: CleaningSelection) -> object:
        """`{"rows_to_clean": [row id, ...]}` in X_train_dirty.csv order, whatever the layout (list or mask)."""
        return {"rows_to_clean": [task.ids[row] for row in parsed.rows]}
