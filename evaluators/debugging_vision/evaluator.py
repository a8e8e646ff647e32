"""The debugging-for-vision evaluator (DataPerf training-set cleaning; reference: `app/main.py` of
DS3Lab/dataperf-vision-debugging).

Participants rank the rows of a noisy training set in the order they would inspect and relabel them; the
fixed model is retrained after each fix, and the score is the fraction of the rows one must fix before the
test accuracy reaches 95% of its value with all listed fixes (lower is better), averaged over the datasets.
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
from evaluators.debugging_vision.data import EMBEDDINGS_DIR, GROUND_TRUTH_DIR
from evaluators.debugging_vision.metrics import PRIMARY_METRIC, final_accuracy_metric, fraction_metric
from evaluators.debugging_vision.task import (
    DebuggingConfig,
    DebuggingTask,
    check_hidden_set,
    load_debugging_task,
)
from evaluators.debugging_vision.validation import DebuggingSubmission, parse_submission


class DebuggingVisionEvaluator(Evaluator[DebuggingTask, DebuggingSubmission]):
    """Training-set cleaning for vision: a directory of `<id>_<method>.txt` row rankings, one per dataset."""

    slug: ClassVar[str] = "debugging-vision"
    title: ClassVar[str] = "Debugging for vision (training-set cleaning)"
    # Bump on any change that can move a score: this code, the torch pin (float32 kernels), numpy's rounding.
    version: ClassVar[str] = "1.0.0"
    submission_format: ClassVar[str] = (
        "a directory (zip or tar.gz archive) with one <id>_<method>.txt per dataset of the task: one 0-based "
        "row index of the noisy training parquet per line, in the order the rows should be inspected and "
        "relabelled (the first train_size lines are scored; files named time... are ignored)"
    )
    submission_is_directory: ClassVar[bool] = True
    demo_module: ClassVar[str | None] = "evaluators.debugging_vision.synthetic"
    data_files: ClassVar[tuple[DataFileRule, ...]] = (
        DataFileRule(
            f"{EMBEDDINGS_DIR}/*_train_*.parquet",
            hidden=False,
            description="the noisy training sets (filename, 2048-d encoding, noisy label)",
        ),
        DataFileRule(
            f"{EMBEDDINGS_DIR}/*_val_*.parquet",
            hidden=False,
            description="clean validation sets for participants (not used in scoring)",
        ),
        DataFileRule(
            f"{EMBEDDINGS_DIR}/*_test_*.parquet",
            hidden=True,
            description="the clean test sets the fixed model is scored on",
        ),
        DataFileRule(
            f"{GROUND_TRUTH_DIR}/dataset_*_train.csv",
            hidden=True,
            description="the true label of every training image (ImageID,hv_label)",
        ),
    )

    def validate_config(self, config: Mapping[str, Any]) -> dict[str, Any]:
        """`datasets` is required; `noise_level` (0.3), `train_size` (300), `test_size` (500) and `val_size`
        (100) default to the DataPerf values and only build the original file names."""
        return DebuggingConfig.from_mapping(config).as_dict()

    def primary_metric(self, config: Mapping[str, Any]) -> MetricSpec:
        """The mean over datasets of fraction_fixes (lower is better), shown x100 as on Dynabench."""
        return MetricSpec(
            PRIMARY_METRIC,
            "Fraction of rows fixed to reach 95% of the final accuracy, mean over datasets",
            higher_is_better=False,
            display_scale=100,
        )

    def metric_specs(self, config: Mapping[str, Any]) -> list[MetricSpec]:
        """Per dataset: fraction_fixes (a leaderboard column) and the accuracy after all listed fixes."""
        specs = []
        for data_id in DebuggingConfig.from_mapping(config).datasets:
            specs.append(
                MetricSpec(
                    fraction_metric(data_id),
                    f"Fraction of fixes, {data_id}",
                    higher_is_better=False,
                    display_scale=100,
                    leaderboard_column=True,
                )
            )
            specs.append(
                MetricSpec(
                    final_accuracy_metric(data_id),
                    f"Test accuracy after all listed fixes, {data_id}",
                    higher_is_better=True,
                    display_scale=100,
                )
            )
        return specs

    def load_task(self, task_dir: Path, config: Mapping[str, Any]) -> DebuggingTask:
        """Read the noisy training sets; the hidden test sets and ground truth are read on first use."""
        return load_debugging_task(Path(task_dir), DebuggingConfig.from_mapping(config))

    def check_task(self, task: DebuggingTask) -> list[str]:
        """Missing validation files, unreadable or inconsistent hidden files, datasets without label noise."""
        problems = []
        for data_id in task.config.datasets:
            val_path = task.task_dir / task.config.val_file(data_id)
            if not val_path.is_file():
                problems.append(f"{val_path}: missing (participants need the clean validation set)")
            problems += check_hidden_set(task, data_id)
        return problems

    def validate(self, task: DebuggingTask, submission_path: Path) -> DebuggingSubmission:
        """Parse every ranking file and check every rule (see `validation.py`)."""
        return parse_submission(task, Path(submission_path))

    def evaluate(
        self, task: DebuggingTask, parsed: DebuggingSubmission, report_progress: ProgressCallback = no_progress
    ) -> EvaluationResult:
        """Retrain the fixed model once per distinct label set of each ranking (single-threaded torch)."""
        # Imported here because it loads torch, which the web process (validation only) should not pay for.
        from evaluators.debugging_vision.scoring import score_submission

        return score_submission(task, parsed, report_progress)

    def canonical(self, task: DebuggingTask, parsed: DebuggingSubmission) -> object:
        """`{data_id: [row index, ...]}`: the scored part of each ranking (its first train_size lines), in
        order, repeats kept (a repeat uses a step); the files' method names are left out."""
        return {ranking.data_id: list(ranking.ranking) for ranking in parsed.files}
