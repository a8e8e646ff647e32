"""The slice-discovery evaluator (DCBench; reference `dcbench/tasks/slice_discovery/metrics.py`).

Participants receive a fixed model's predictions (and embeddings) on a test set and return, for every
example, a score per predicted slice; each hidden ground-truth slice is matched to the predicted slice (or
its complement) with the highest average precision.
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
from evaluators.slice_discovery.data import EMBEDDINGS_FILE, PREDICTIONS_FILE, SLICES_FILE
from evaluators.slice_discovery.metrics import PRIMARY_METRIC, slice_metric
from evaluators.slice_discovery.task import SliceConfig, SliceTask, load_slice_task
from evaluators.slice_discovery.validation import SliceScores, check_scores, parse_scores

_PER_SLICE_LABELS = (
    ("average_precision", "Average precision", 100.0),
    ("precision_at_10", "Precision@10", 100.0),
    ("precision_at_25", "Precision@25", 100.0),
    ("precision", "Precision (score > 0.5)", 100.0),
    ("recall", "Recall (score > 0.5)", 100.0),
    ("f1", "F1 (score > 0.5)", 100.0),
    ("pred_slice_idx", "Matched predicted slice (0-based; complements after the columns)", 1.0),
)


class SliceDiscoveryEvaluator(Evaluator[SliceTask, SliceScores]):
    """Slice discovery: a CSV or parquet table `id` + `n_pred_slices` score columns, one row per example."""

    slug: ClassVar[str] = "slice-discovery"
    title: ClassVar[str] = "Slice discovery (DCBench)"
    # Bump on any change that can move a score: this code, the scikit-learn or scipy pin.
    version: ClassVar[str] = "1.0.0"
    submission_format: ClassVar[str] = (
        "one CSV file (header id,<score>,...) or parquet file with the column id and exactly n_pred_slices "
        "numeric score columns, one row per example of test_predictions.csv (any order); higher score = more "
        "likely in the slice"
    )
    demo_module: ClassVar[str | None] = "evaluators.slice_discovery.synthetic"
    data_files: ClassVar[tuple[DataFileRule, ...]] = (
        DataFileRule(PREDICTIONS_FILE, hidden=False, description="the fixed model's label and probability per example"),
        DataFileRule(
            EMBEDDINGS_FILE,
            hidden=False,
            required=False,
            description="an embedding per example (id, embedding) for discovery methods; not used in scoring",
        ),
        DataFileRule(SLICES_FILE, hidden=True, description="the ground-truth slices: id, then one 0/1 column each"),
    )

    def validate_config(self, config: Mapping[str, Any]) -> dict[str, Any]:
        """`n_pred_slices` (1..100) is required; `slices` (the ground-truth slice names, in file order) is
        optional but needed to declare the per-slice metrics."""
        return SliceConfig.from_mapping(config).as_dict()

    def primary_metric(self, config: Mapping[str, Any]) -> MetricSpec:
        """Mean over ground-truth slices of the best average precision (percent on the leaderboard)."""
        return MetricSpec(
            PRIMARY_METRIC,
            "Mean average precision of the best predicted slice per ground-truth slice",
            higher_is_better=True,
            display_scale=100,
        )

    def metric_specs(self, config: Mapping[str, Any]) -> list[MetricSpec]:
        """The seven metrics of each ground-truth slice named in `config.slices`; the average precisions are
        leaderboard columns. Without `slices` no per-slice metric can be declared (check_task says so)."""
        names = SliceConfig.from_mapping(config).slices or ()
        return [
            MetricSpec(
                slice_metric(metric, name),
                f"{label}, slice {name}",
                higher_is_better=metric != "pred_slice_idx",
                display_scale=scale,
                leaderboard_column=metric == "average_precision",
            )
            for name in names
            for metric, label, scale in _PER_SLICE_LABELS
        ]

    def load_task(self, task_dir: Path, config: Mapping[str, Any]) -> SliceTask:
        """Read the public predictions; the hidden slices are read on first use."""
        return load_slice_task(Path(task_dir), SliceConfig.from_mapping(config))

    def check_task(self, task: SliceTask) -> list[str]:
        """Unusable slices file, ids differing from the predictions, an empty slice, config.slices missing or
        not matching the file, an embeddings file that does not cover the examples."""
        return task.problems()

    def validate(self, task: SliceTask, submission_path: Path) -> SliceScores:
        """Parse the CSV or parquet file and check every rule (see `validation.py`)."""
        return parse_scores(task, Path(submission_path))

    def check(self, task: SliceTask, submission_path: Path) -> None:
        """`validate` through the same readers, keeping no score: the n x m float64 table it would return
        (80 MiB for 500,000 examples and 20 slices) is most of what validating a large upload costs."""
        check_scores(task, Path(submission_path))

    def evaluate(
        self, task: SliceTask, parsed: SliceScores, report_progress: ProgressCallback = no_progress
    ) -> EvaluationResult:
        """Match each ground-truth slice; progress is reported after each. `TaskConfigError` on bad hidden data."""
        # Imported on first use, not at the top: scoring loads scikit-learn and scipy (about 130 MB), which a
        # process that only validates uploads (the web process, a validate worker) must not pay for.
        from evaluators.slice_discovery.scoring import score_slices

        return score_slices(task, parsed, report_progress)

    def canonical(self, task: SliceTask, parsed: SliceScores) -> object:
        """`{"column <k>": {example id: score}}` for k = 1..n_pred_slices. Column positions count (the matched
        slice's index is reported); column names, row order and the file format (CSV or parquet) do not."""
        ids = task.predictions.ids
        return {
            f"column {column + 1}": dict(zip(ids, parsed.scores[:, column].tolist(), strict=True))
            for column in range(parsed.scores.shape[1])
        }
