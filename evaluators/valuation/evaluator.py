"""The data-valuation evaluator (the DataPerf paper's "data valuation" benchmark; no original scorer exists).

A buyer owns labelled data A and is offered unlabelled data B. For every pair (A, B) participants predict
the test accuracy of a fixed model trained on A + B (with B's true, hidden labels); the score is the mean
absolute error of those predictions. See README.md for the task layout and the design decisions.
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
from evaluators.valuation.data import A_FILE, B_FILE, B_LABELS_FILE, PAIRS_DIR, TEST_FILE
from evaluators.valuation.scoring import PRIMARY_METRIC, pair_metric, score_predictions
from evaluators.valuation.task import ValuationConfig, ValuationTask, load_valuation_task
from evaluators.valuation.validation import Predictions, parse_predictions


class ValuationEvaluator(Evaluator[ValuationTask, Predictions]):
    """Data valuation: one CSV `pair,predicted_accuracy` predicting the fixed model's accuracy on A + B."""

    slug: ClassVar[str] = "valuation"
    title: ClassVar[str] = "Data valuation (predict the accuracy that unlabelled data would bring)"
    # Bump on any change that can move a score: this code, the scikit-learn pin, the OpenBLAS kernel.
    version: ClassVar[str] = "1.0.0"
    submission_format: ClassVar[str] = (
        "one CSV file with the header pair,predicted_accuracy and one row per pair of the task: the predicted "
        "test accuracy (0 to 1) of the fixed model trained on A followed by B"
    )
    demo_module: ClassVar[str | None] = "evaluators.valuation.synthetic"
    data_files: ClassVar[tuple[DataFileRule, ...]] = (
        # Hidden rules first: the platform takes the first rule whose pattern matches.
        DataFileRule(f"{PAIRS_DIR}/*/{B_LABELS_FILE}", hidden=True, description="the true labels of B, per pair"),
        DataFileRule(
            f"{PAIRS_DIR}/*/{TEST_FILE}",
            hidden=True,
            required=False,
            description="a pair's own test set (labelled); pairs without one use test.csv",
        ),
        DataFileRule(
            TEST_FILE, hidden=True, required=False, description="the test set shared by pairs without their own"
        ),
        DataFileRule(f"{PAIRS_DIR}/*/{A_FILE}", hidden=False, description="the labelled data A of each pair"),
        DataFileRule(f"{PAIRS_DIR}/*/{B_FILE}", hidden=False, description="the unlabelled data B of each pair"),
    )

    def validate_config(self, config: Mapping[str, Any]) -> dict[str, Any]:
        """`pairs` (a list of pair names) is required; `pair_errors` (report per-pair errors) defaults to false."""
        return ValuationConfig.from_mapping(config).as_dict()

    def primary_metric(self, config: Mapping[str, Any]) -> MetricSpec:
        """Mean absolute error of the predicted accuracies, in accuracy points (x100); lower is better."""
        return MetricSpec(
            PRIMARY_METRIC, "Mean absolute error of the predicted accuracy", higher_is_better=False, display_scale=100
        )

    def metric_specs(self, config: Mapping[str, Any]) -> list[MetricSpec]:
        """With `pair_errors`, every pair's absolute error (leaderboard columns); otherwise none."""
        validated = ValuationConfig.from_mapping(config)
        if not validated.pair_errors:
            return []
        return [
            MetricSpec(
                pair_metric(pair),
                f"Absolute error, pair {pair}",
                higher_is_better=False,
                display_scale=100,
                leaderboard_column=True,
            )
            for pair in validated.pairs
        ]

    def load_task(self, task_dir: Path, config: Mapping[str, Any]) -> ValuationTask:
        """Read every pair's public tables; the hidden labels and test sets are read on first use."""
        return load_valuation_task(Path(task_dir), ValuationConfig.from_mapping(config))

    def check_task(self, task: ValuationTask) -> list[str]:
        """Every pair needs B's labels (one per row), a test set with A's columns, and two classes in A + B."""
        return task.problems()

    def validate(self, task: ValuationTask, submission_path: Path) -> Predictions:
        """Parse the CSV and check every rule (see `validation.py`)."""
        return parse_predictions(task, Path(submission_path))

    def evaluate(
        self, task: ValuationTask, parsed: Predictions, report_progress: ProgressCallback = no_progress
    ) -> EvaluationResult:
        """Compare with the actual accuracies (computed once per task, on first use)."""
        return score_predictions(task, parsed, report_progress)

    def canonical(self, task: ValuationTask, parsed: Predictions) -> object:
        """`{pair: predicted accuracy}` (the floats as parsed: `0.9`, `0.90` and `9e-1` are equal)."""
        return dict(parsed.values)
