"""The training-set-creation evaluator (the paper's first benchmark row; the Data-Centric AI competition:
Roman numerals, a fixed model, a limited number of images). No official scorer exists: README.md in this
folder is the specification.

Participants submit a labelled training set (pool items by id, and new images or feature vectors where the
task allows), at most `max_items` items; the task's fixed models are trained on it and the score is their
mean accuracy on the hidden test set.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from evaluators.base import (
    DataFileRule,
    EvaluationResult,
    Evaluator,
    MetricSpec,
    ProgressCallback,
    TaskConfigError,
    no_progress,
)
from evaluators.splits import split_problems
from evaluators.training_set_creation.data import IMAGES_DIR, ITEMS_FILE, POOL_DIR, TEST_DIR
from evaluators.training_set_creation.models import MODEL_TITLES
from evaluators.training_set_creation.scoring import PRIMARY_METRIC, model_metric, score_training_set
from evaluators.training_set_creation.task import TrainingConfig, TrainingTask, load_training_task
from evaluators.training_set_creation.validation import TrainingSet, parse_training_set


class TrainingSetCreationEvaluator(Evaluator[TrainingTask, TrainingSet]):
    """Training-set creation: a directory with `labels.csv` (`item,label`) and the new items' files."""

    slug: ClassVar[str] = "training-set-creation"
    title: ClassVar[str] = "Training set creation"
    # Bump on any change that can move a score: this code, the preprocessing, the models, the library pins.
    version: ClassVar[str] = "1.0.0"
    submission_format: ClassVar[str] = (
        "a zip or tar.gz of a directory holding labels.csv (header item,label; an item is a pool id or the "
        "relative path of a PNG file in the archive, or an id of features.csv in feature tasks) and the new "
        "items' files; at most max_items items, labels from the task's label set"
    )
    submission_is_directory: ClassVar[bool] = True
    demo_module: ClassVar[str | None] = "evaluators.training_set_creation.synthetic"
    data_files: ClassVar[tuple[DataFileRule, ...]] = (
        DataFileRule(f"{POOL_DIR}/{ITEMS_FILE}", hidden=False, description="the supplied pool: id,label[,features]"),
        DataFileRule(f"{POOL_DIR}/{IMAGES_DIR}/*.png", hidden=False, description="the pool's images", required=False),
        DataFileRule(f"{TEST_DIR}/{ITEMS_FILE}", hidden=True, description="the hidden test set: id,label[,features]"),
        DataFileRule(
            f"{TEST_DIR}/{IMAGES_DIR}/*.png", hidden=True, description="the test set's images", required=False
        ),
    )

    def validate_config(self, config: Mapping[str, Any]) -> dict[str, Any]:
        """`labels` and `max_items` are required; `models`, `input`, `image_size`, `allow_new_items` and the
        split's `private_fraction` and `split_seed` optional."""
        return TrainingConfig.from_mapping(config).as_dict()

    def primary_metric(self, config: Mapping[str, Any]) -> MetricSpec:
        """Test accuracy averaged over the task's models, shown x100."""
        return MetricSpec(PRIMARY_METRIC, "Accuracy, mean over the fixed models", display_scale=100)

    def metric_specs(self, config: Mapping[str, Any]) -> list[MetricSpec]:
        """One test accuracy per model of the config, in config order (leaderboard columns)."""
        models = TrainingConfig.from_mapping(config).models
        return [
            MetricSpec(
                model_metric(model), f"Accuracy, {MODEL_TITLES[model]}", display_scale=100, leaderboard_column=True
            )
            for model in models
        ]

    def load_task(self, task_dir: Path, config: Mapping[str, Any]) -> TrainingTask:
        """Read the pool (images decoded once); the hidden test set is read on first use."""
        return load_training_task(Path(task_dir), TrainingConfig.from_mapping(config))

    def check_task(self, task: TrainingTask) -> list[str]:
        """Problems with the hidden test set: unreadable, empty, fewer than two labels, a label it lacks, and
        with a private split, a label with too few test items to be on both sides."""
        try:
            test = task.test()
        except TaskConfigError as exc:
            return [str(exc)]
        if not test.ids:
            return [f"{TEST_DIR}/{ITEMS_FILE}: the test set has no item"]
        problems = []
        present = set(np.unique(test.labels).tolist())
        if len(present) < 2:
            problems.append(f"{TEST_DIR}/{ITEMS_FILE}: the test set has items of fewer than two labels")
        missing = [label for index, label in enumerate(task.config.labels) if index not in present]
        if missing:
            problems.append(f"{TEST_DIR}/{ITEMS_FILE}: no test item has the label(s) {', '.join(missing)}")
        split_findings = split_problems(test.ids, split=task.config.split, strata=task.test_strata(), unit="test item")
        return problems + [f"{TEST_DIR}/{ITEMS_FILE}: {finding}" for finding in split_findings]

    def validate(self, task: TrainingTask, submission_path: Path) -> TrainingSet:
        """Parse labels.csv and the new items' files and check every rule (see `validation.py`)."""
        return parse_training_set(task, Path(submission_path))

    def evaluate(
        self, task: TrainingTask, parsed: TrainingSet, report_progress: ProgressCallback = no_progress
    ) -> EvaluationResult:
        """One fit per model; progress is reported after each. With a private split, the public and private
        scores come from the same fits."""
        return score_training_set(task, parsed, report_progress)

    def canonical(self, task: TrainingTask, parsed: TrainingSet) -> object:
        """`{label: sorted items}` for every label of the task, where an item is `pool:<id>` for a pool item and
        `new:<digest>` for a new one (the first 16 hex digits of the SHA-256 of its float64 feature vector).
        What is trained on counts, not where it came from: a new image's name and folder, the row order and
        the choice between an image and an identical one elsewhere are left out; copies count each."""
        form: dict[str, list[str]] = {label: [] for label in task.config.labels}
        for index, item in enumerate(parsed.items):
            if parsed.is_new[index]:
                key = "new:" + hashlib.sha256(parsed.features[index].tobytes()).hexdigest()[:16]
            else:
                key = f"pool:{item}"
            form[task.config.labels[int(parsed.labels[index])]].append(key)
        return {label: sorted(keys) for label, keys in form.items()}
