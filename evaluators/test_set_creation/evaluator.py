"""The test-set-creation evaluator (the paper's second benchmark row). No official scorer exists: README.md in
this folder is the specification.

Participants pick exactly `n_items` items of a supplemental pool and claim a label for each; an item earns
credit when the human label confirms the claim and the fixed model suite gets it wrong, and its credit is
divided among the submissions that hold the same claim. A `CollectiveEvaluator`: `evaluate` scores a
submission alone, `evaluate_all` scores every ranked submission of the task together.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from evaluators.base import (
    CollectiveEvaluator,
    DataFileRule,
    EvaluationResult,
    MetricSpec,
    ProgressCallback,
    TaskConfigError,
    no_progress,
)
from evaluators.splits import split_problems
from evaluators.test_set_creation.data import HUMAN_LABELS_FILE, POOL_FILE, TRAIN_FILE
from evaluators.test_set_creation.scoring import (
    ITEMS_ACCEPTED,
    ITEMS_FOOLING,
    PRIMARY_METRIC,
    RAW_CREDIT,
    score_alone,
    score_together,
)
from evaluators.test_set_creation.task import TestSetConfig, TestSetTask, load_test_set_task
from evaluators.test_set_creation.validation import TestItems, parse_test_items


class TestSetCreationEvaluator(CollectiveEvaluator[TestSetTask, TestItems]):
    """Test-set creation: a CSV `item,label` of exactly `n_items` pool items with their claimed labels."""

    __test__ = False  # a name starting with "Test" is not a pytest test class
    slug: ClassVar[str] = "test-set-creation"
    title: ClassVar[str] = "Test set creation"
    # Bump on any change that can move a score: this code, the model suite, the library pins.
    version: ClassVar[str] = "1.0.0"
    submission_format: ClassVar[str] = (
        "one CSV file with the header item,label and exactly n_items rows: an id of pool.parquet (each at most "
        "once) and the label you claim for it, one of the task's labels"
    )
    demo_module: ClassVar[str | None] = "evaluators.test_set_creation.synthetic"
    data_files: ClassVar[tuple[DataFileRule, ...]] = (
        DataFileRule(POOL_FILE, hidden=False, description="the supplemental pool: id, embedding"),
        DataFileRule(
            TRAIN_FILE, hidden=False, description="the model suite's fixed training set: id, label, embedding"
        ),
        DataFileRule(HUMAN_LABELS_FILE, hidden=True, description="the human label of every pool item: id,label"),
    )

    def validate_config(self, config: Mapping[str, Any]) -> dict[str, Any]:
        """`labels` and `n_items` are required; `models` (default logreg, svc, mlp) and the split's
        `private_fraction` and `split_seed` are optional."""
        return TestSetConfig.from_mapping(config).as_dict()

    def primary_metric(self, config: Mapping[str, Any]) -> MetricSpec:
        """Credit after sharing: the number of confirmed items fooling the suite, each divided among finders."""
        return MetricSpec(PRIMARY_METRIC, "Credit (shared among submissions holding the same item)")

    def metric_specs(self, config: Mapping[str, Any]) -> list[MetricSpec]:
        """Raw credit, confirmed items and confirmed items fooling most models: leaderboard columns."""
        return [
            MetricSpec(RAW_CREDIT, "Credit before sharing", leaderboard_column=True),
            MetricSpec(ITEMS_ACCEPTED, "Items whose claimed label the human label confirms", leaderboard_column=True),
            MetricSpec(ITEMS_FOOLING, "Confirmed items most models get wrong", leaderboard_column=True),
        ]

    def load_task(self, task_dir: Path, config: Mapping[str, Any]) -> TestSetTask:
        """Read the pool's ids; the suite is fitted and the human labels read on first use."""
        return load_test_set_task(Path(task_dir), TestSetConfig.from_mapping(config))

    def check_task(self, task: TestSetTask) -> list[str]:
        """Problems with the training set, the suite or the human labels; also a pool the suite never errs on,
        and with a private split, a stratum (items fooling some model, items fooling none) too small to be on
        both sides."""
        try:
            predictions = task.predictions()
            human = task.human_labels()
        except TaskConfigError as exc:
            return [str(exc)]
        if not (predictions != human[np.newaxis, :]).any():
            return ["the model suite predicts every pool item's human label: no submission can earn credit"]
        return split_problems(task.pool_ids, split=task.config.split, strata=task.pool_strata(), unit="pool item")

    def validate(self, task: TestSetTask, submission_path: Path) -> TestItems:
        """Parse the CSV file and check every rule (see `validation.py`)."""
        return parse_test_items(task, Path(submission_path))

    def evaluate(
        self, task: TestSetTask, parsed: TestItems, report_progress: ProgressCallback = no_progress
    ) -> EvaluationResult:
        """The submission's credit as if it were alone (nothing divided); with a private split, also its sums
        over its public and over its private items."""
        return score_alone(task, parsed, report_progress)

    def evaluate_all(
        self, task: TestSetTask, parsed: Mapping[str, TestItems], report_progress: ProgressCallback = no_progress
    ) -> dict[str, EvaluationResult]:
        """Every submission's credit, each item's credit divided among the submissions holding the same claim;
        with a private split, each also over its public and over its private items (the same divisors)."""
        return score_together(task, parsed, report_progress)

    def canonical(self, task: TestSetTask, parsed: TestItems) -> object:
        """`{pool id: claimed label}` (row order left out; every item appears at most once)."""
        labels = task.config.labels
        return {task.pool_ids[row]: labels[claimed] for row, claimed in parsed.pairs()}
