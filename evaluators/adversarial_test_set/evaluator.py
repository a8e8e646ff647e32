"""The adversarial-test-set evaluator: the test-set side of the DataPerf paper's "data ratchet", where a
training-set task and a test-set task on the same ML task improve each other in rounds (Dynabench style). No
official scorer exists: README.md in this folder is the specification.

Participants hand in items of a public pool and new items they made (PNG images or feature vectors), each with
a claimed label; an item earns credit when humans confirm the claim (the pool's hidden human labels, or the
validation of new items on the platform) and the model suite gets it wrong. Credit is divided among the
submissions holding the same claim: a `CollectiveEvaluator`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

from evaluators.adversarial_test_set.config import SPLIT_REFUSAL, AdversarialConfig
from evaluators.adversarial_test_set.data import (
    HUMAN_LABELS_FILE,
    POOL_DIR,
    SUITE_DIR,
    TRAIN_DIR,
    VALIDATED_FILE,
)
from evaluators.adversarial_test_set.scoring import (
    ITEMS_ACCEPTED,
    ITEMS_FOOLING,
    ITEMS_PENDING,
    PRIMARY_METRIC,
    RAW_CREDIT,
    score_alone,
    score_together,
)
from evaluators.adversarial_test_set.task import AdversarialTask, load_adversarial_task
from evaluators.adversarial_test_set.validation import AdversarialItems, parse_adversarial_items
from evaluators.base import (
    CollectiveEvaluator,
    DataFileRule,
    EvaluationResult,
    MetricSpec,
    ProgressCallback,
    TaskConfigError,
    no_progress,
)
from evaluators.training_set_creation.data import IMAGES_DIR, ITEMS_FILE


class AdversarialTestSetEvaluator(CollectiveEvaluator[AdversarialTask, AdversarialItems]):
    """Adversarial test set: a directory with `labels.csv` (`item,label`) and the new items' files."""

    slug: ClassVar[str] = "adversarial-test-set"
    title: ClassVar[str] = "Adversarial test set (data ratchet)"
    # Bump on any change that can move a score: this code, the preprocessing, the models, the library pins.
    version: ClassVar[str] = "1.0.0"
    submission_format: ClassVar[str] = (
        "a zip or tar.gz of a directory holding labels.csv (header item,label; an item is a pool id or the "
        "relative path of a new PNG file in the archive, or an id of features.csv in feature tasks) and the new "
        "items' files; 1 to max_items items, each with the label you claim for it"
    )
    submission_is_directory: ClassVar[bool] = True
    split_refusal: ClassVar[str | None] = SPLIT_REFUSAL
    demo_module: ClassVar[str | None] = "evaluators.adversarial_test_set.synthetic"
    data_files: ClassVar[tuple[DataFileRule, ...]] = (
        DataFileRule(f"{POOL_DIR}/{ITEMS_FILE}", hidden=False, description="the pool: id[,features] (no labels)"),
        DataFileRule(f"{POOL_DIR}/{IMAGES_DIR}/*.png", hidden=False, description="the pool's images", required=False),
        DataFileRule(
            f"{TRAIN_DIR}/{ITEMS_FILE}", hidden=False, description="the suite's reference training set: id,label[,...]"
        ),
        DataFileRule(
            f"{TRAIN_DIR}/{IMAGES_DIR}/*.png", hidden=False, description="the training set's images", required=False
        ),
        DataFileRule(HUMAN_LABELS_FILE, hidden=True, description="the human label of every pool item: id,label"),
        DataFileRule(
            VALIDATED_FILE, hidden=True, description="labels human validation gave new items: key,label", required=False
        ),
        DataFileRule(
            f"{SUITE_DIR}/*/{ITEMS_FILE}", hidden=True, description="the suite's extra training sets", required=False
        ),
        DataFileRule(
            f"{SUITE_DIR}/*/{IMAGES_DIR}/*.png", hidden=True, description="the suite sets' images", required=False
        ),
    )

    def validate_config(self, config: Mapping[str, Any]) -> dict[str, Any]:
        """`labels` and `max_items` are required; `models`, `input`, `image_size`, `allow_new_items`, `suite_sets`
        and `suite_recipe` optional. A private split is refused (`split_refusal`)."""
        return AdversarialConfig.from_mapping(config).as_dict()

    def primary_metric(self, config: Mapping[str, Any]) -> MetricSpec:
        """Credit after sharing: confirmed items weighted by the share of the suite they fool, each divided among
        the submissions holding the same claim."""
        return MetricSpec(PRIMARY_METRIC, "Credit (shared among submissions holding the same item)")

    def metric_specs(self, config: Mapping[str, Any]) -> list[MetricSpec]:
        """Raw credit, confirmed items, confirmed items fooling most models and items awaiting validation."""
        return [
            MetricSpec(RAW_CREDIT, "Credit before sharing", leaderboard_column=True),
            MetricSpec(ITEMS_ACCEPTED, "Items whose claimed label humans confirm", leaderboard_column=True),
            MetricSpec(ITEMS_FOOLING, "Confirmed items most models get wrong", leaderboard_column=True),
            MetricSpec(
                ITEMS_PENDING, "New items awaiting human validation", higher_is_better=False, leaderboard_column=True
            ),
        ]

    def load_task(self, task_dir: Path, config: Mapping[str, Any]) -> AdversarialTask:
        """Read the pool (images decoded once); the suite is fitted and the hidden labels read on first use."""
        return load_adversarial_task(Path(task_dir), AdversarialConfig.from_mapping(config))

    def check_task(self, task: AdversarialTask) -> list[str]:
        """Problems with the training sets (the reference set and the suite sets: unreadable, fewer than two
        labels), the human labels or the validated labels."""
        problems = []
        for load in (task.pool_predictions, task.human_labels, task.validated_labels):
            try:
                load()
            except TaskConfigError as exc:
                problems.append(str(exc))
        return problems

    def validate(self, task: AdversarialTask, submission_path: Path) -> AdversarialItems:
        """Parse labels.csv and the new items' files and check every rule (see `validation.py`)."""
        return parse_adversarial_items(task, Path(submission_path))

    def evaluate(
        self, task: AdversarialTask, parsed: AdversarialItems, report_progress: ProgressCallback = no_progress
    ) -> EvaluationResult:
        """The submission's credit as if it were alone (nothing divided)."""
        return score_alone(task, parsed, report_progress)

    def evaluate_all(
        self,
        task: AdversarialTask,
        parsed: Mapping[str, AdversarialItems],
        report_progress: ProgressCallback = no_progress,
    ) -> dict[str, EvaluationResult]:
        """Every submission's credit, each item's credit divided among the submissions holding the same claim."""
        return score_together(task, parsed, report_progress)

    def canonical(self, task: AdversarialTask, parsed: AdversarialItems) -> object:
        """`{key: claimed label}`: a pool id or `new:<sha256>` per item. A new image's name and folder and the row
        order are left out: what is claimed about which item is the substance."""
        return {item.key: task.config.labels[item.claimed] for item in parsed.items}
