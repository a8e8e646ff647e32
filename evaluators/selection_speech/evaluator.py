"""The selection-for-speech evaluator (DataPerf keyword spotting; reference: `eval.py` of
harvard-edge/dataperf-speech-example).

Participants choose at most `train_size` training clips (5 target words + nontargets) from an allowed pool
of 1024-d embeddings; the score is the macro F1 of a fixed ensemble trained on the selection, averaged over
10 seeds.
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
from evaluators.selection_speech.data import ALLOWED_FILE, EVAL_DIR, EVAL_FILE, TRAIN_DIR
from evaluators.selection_speech.scoring import PRIMARY_METRIC, SEEDS, score_selection, seed_metric
from evaluators.selection_speech.task import SpeechConfig, SpeechTask, load_speech_task
from evaluators.selection_speech.validation import SpeechSelection, parse_selection


class SelectionSpeechEvaluator(Evaluator[SpeechTask, SpeechSelection]):
    """Training-set selection for keyword spotting: `{"targets": {word: [clip_id]}, "nontargets": [...]}`."""

    slug: ClassVar[str] = "selection-speech"
    title: ClassVar[str] = "Selection for speech (keyword spotting)"
    # Bump on any change that can move a score: this code, the scikit-learn pin, the OpenBLAS kernel.
    version: ClassVar[str] = "1.0.0"
    submission_format: ClassVar[str] = (
        'one JSON file {"targets": {"<word>": [clip_id, ...], ...}, "nontargets": [clip_id, ...]} '
        "with at most train_size clip ids from allowed_training_set.yaml"
    )
    demo_module: ClassVar[str | None] = "evaluators.selection_speech.synthetic"
    data_files: ClassVar[tuple[DataFileRule, ...]] = (
        DataFileRule(ALLOWED_FILE, hidden=False, description="the clips a selection may use, per class"),
        DataFileRule(f"{TRAIN_DIR}/*.parquet", hidden=False, description="training embeddings, one file per word"),
        DataFileRule(EVAL_FILE, hidden=True, description="the evaluation clips, per class"),
        DataFileRule(f"{EVAL_DIR}/*.parquet", hidden=True, description="evaluation embeddings, one file per word"),
    )

    def validate_config(self, config: Mapping[str, Any]) -> dict[str, Any]:
        """`language` (en, id, pt) and `train_size` (1..10000) are required; `private_fraction` and
        `split_seed` (see `evaluators.splits`) are optional; nothing else is allowed."""
        return SpeechConfig.from_mapping(config).as_dict()

    def primary_metric(self, config: Mapping[str, Any]) -> MetricSpec:
        """Macro F1 averaged over the 10 seeds, shown x100 as on the DataPerf leaderboards."""
        return MetricSpec(PRIMARY_METRIC, "Macro F1, mean over 10 seeds", higher_is_better=True, display_scale=100)

    def metric_specs(self, config: Mapping[str, Any]) -> list[MetricSpec]:
        """One macro F1 per seed, in the reference's seed order."""
        return [
            MetricSpec(seed_metric(seed), f"Macro F1, seed {seed}", higher_is_better=True, display_scale=100)
            for seed in SEEDS
        ]

    def load_task(self, task_dir: Path, config: Mapping[str, Any]) -> SpeechTask:
        """Read the allowed clips and training embeddings; the hidden evaluation set is read on first use."""
        return load_speech_task(Path(task_dir), SpeechConfig.from_mapping(config))

    def check_task(self, task: SpeechTask) -> list[str]:
        """With a private split: each class of the evaluation set that one side would lack (macro F1 needs
        every class on both sides)."""
        return task.split_problems()

    def validate(self, task: SpeechTask, submission_path: Path) -> SpeechSelection:
        """Parse the JSON file and check every rule (see `validation.py`)."""
        return parse_selection(task, Path(submission_path))

    def evaluate(
        self, task: SpeechTask, parsed: SpeechSelection, report_progress: ProgressCallback = no_progress
    ) -> EvaluationResult:
        """10 fits (one per seed) of the reference ensemble; progress is reported after each seed."""
        return score_selection(task, parsed, report_progress)

    def canonical(self, task: SpeechTask, parsed: SpeechSelection) -> object:
        """`{"targets": {word: sorted distinct clip ids}, "nontargets": sorted clip ids}`, every target word of
        the task present. A repeated target clip is one training row (so it is dropped), a repeated nontarget
        clip one row per listing (so it is kept); list and key order are left out."""
        targets: dict[str, set[str]] = {word: set() for word in task.target_names}
        for word, ids in parsed.targets:
            targets[word].update(ids)
        return {
            "targets": {word: sorted(ids) for word, ids in targets.items()},
            "nontargets": sorted(parsed.nontargets),
        }
