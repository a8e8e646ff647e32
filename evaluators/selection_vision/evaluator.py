"""The selection-for-vision evaluator (DataPerf; reference: `eval.py` of CoactiveAI/dataperf-vision-selection).

Participants label at most `max_per_concept` images of an unlabelled candidate pool (256-d embeddings) for
each binary concept; the score is the F1 on a hidden test set of a fixed logistic regression trained on
those labelled embeddings, averaged over the concepts.
"""

from __future__ import annotations

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
    no_progress,
)
from evaluators.selection_vision.data import EXAMPLES_DIR, POOL_FILE, TEST_DIR
from evaluators.selection_vision.metrics import METRICS, PRIMARY_METRIC, concept_metric
from evaluators.selection_vision.task import VisionConfig, VisionTask, load_vision_task
from evaluators.selection_vision.validation import VisionSelection, check_selection, parse_selection

_LABELS = {"f1": "F1", "accuracy": "Accuracy", "precision": "Precision", "recall": "Recall"}


class SelectionVisionEvaluator(Evaluator[VisionTask, VisionSelection]):
    """Training-set selection for binary image concepts: one `<Concept>.csv` or `.json` per concept."""

    slug: ClassVar[str] = "selection-vision"
    title: ClassVar[str] = "Selection for vision (binary image concepts)"
    # Bump on any change that can move a score: this code, the scikit-learn pin, the OpenBLAS kernel.
    version: ClassVar[str] = "1.0.0"
    submission_format: ClassVar[str] = (
        "a directory (zip / tar.gz) with one file per concept: <Concept>.csv (header ImageID,Confidence; "
        'labels 0/1) or <Concept>.json ({"<ImageID>": 0 or 1, ...}); at most max_per_concept images of the '
        "candidate pool per concept, both labels present"
    )
    submission_is_directory: ClassVar[bool] = True
    demo_module: ClassVar[str | None] = "evaluators.selection_vision.synthetic"
    data_files: ClassVar[tuple[DataFileRule, ...]] = (
        # Hidden rules first: the platform takes the first rule whose pattern matches.
        DataFileRule(f"{TEST_DIR}/*.parquet", hidden=True, description="the test set of each concept (labelled)"),
        DataFileRule(POOL_FILE, hidden=False, description="the candidate pool: ImageID and 256-d embedding"),
        DataFileRule(
            f"{EXAMPLES_DIR}/alpha_example_set_*.csv",
            hidden=False,
            description="20 example positives per concept (ImageIDs of the pool)",
            required=False,
        ),
    )

    def validate_config(self, config: Mapping[str, Any]) -> dict[str, Any]:
        """`concepts` (a list of names) is required; `max_per_concept` defaults to 1000; `private_fraction` and
        `split_seed` (see `evaluators.splits`) are optional."""
        return VisionConfig.from_mapping(config).as_dict()

    def primary_metric(self, config: Mapping[str, Any]) -> MetricSpec:
        """Mean over the concepts of the binary F1, shown x100 as on the DataPerf leaderboard."""
        return MetricSpec(PRIMARY_METRIC, "F1, mean over concepts", higher_is_better=True, display_scale=100)

    def metric_specs(self, config: Mapping[str, Any]) -> list[MetricSpec]:
        """F1 (a leaderboard column), accuracy, precision and recall of every concept."""
        concepts = VisionConfig.from_mapping(config).concepts
        return [
            MetricSpec(
                concept_metric(metric, concept),
                f"{_LABELS[metric]}, {concept}",
                higher_is_better=True,
                display_scale=100,
                leaderboard_column=metric == "f1",
            )
            for metric in METRICS
            for concept in concepts
        ]

    def load_task(self, task_dir: Path, config: Mapping[str, Any]) -> VisionTask:
        """Read the candidate pool (once); the hidden test sets are read on first use."""
        return load_vision_task(Path(task_dir), VisionConfig.from_mapping(config))

    def check_task(self, task: VisionTask) -> list[str]:
        """Every concept needs a readable test set with both labels; example sets, if present, must parse; with
        a private split, each label of each test set needs images on both sides."""
        return task.problems()

    def validate(self, task: VisionTask, submission_path: Path) -> VisionSelection:
        """List the directory and check every concept file (see `validation.py`)."""
        return parse_selection(task, Path(submission_path))

    def check(self, task: VisionTask, submission_path: Path) -> None:
        """`validate` through the same readers, keeping no pool row: a concept file may hold a million rows."""
        check_selection(task, Path(submission_path))

    def evaluate(
        self, task: VisionTask, parsed: VisionSelection, report_progress: ProgressCallback = no_progress
    ) -> EvaluationResult:
        """One fit per concept; progress is reported after each."""
        # Imported on first use, not at the top: scoring loads scikit-learn and scipy (over 100 MB), which a
        # process that only validates uploads (the web process, a validate worker) must not pay for.
        from evaluators.selection_vision.scoring import score_selection

        return score_selection(task, parsed, report_progress)

    def canonical(self, task: VisionTask, parsed: VisionSelection) -> object:
        """`{concept: {"positives": sorted ImageIDs, "negatives": sorted ImageIDs}}`. A repeated CSV row is a
        repeated training row, so it is kept; the file format (CSV or JSON), extra columns and row order are
        left out."""
        index = task.index
        # index.keys[i] is the key of pool row index.rows[i]; invert the permutation to go from row to id.
        position = np.empty(len(index.rows), dtype=np.int64)
        position[index.rows] = np.arange(len(index.rows), dtype=np.int64)

        def image_id(row: int) -> str:
            key = index.keys[position[row]]
            return f"{int(key):016x}" if index.hex_keys else str(key)

        form: dict[str, dict[str, list[str]]] = {}
        for selection in parsed.concepts:
            rows, labels = selection.rows.tolist(), selection.labels.tolist()
            form[selection.concept] = {
                name: sorted(image_id(row) for row, label in zip(rows, labels, strict=True) if label == value)
                for name, value in (("positives", 1), ("negatives", 0))
            }
        return form
