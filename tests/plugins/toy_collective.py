"""A tiny collective evaluator for the platform's tests (registered through EVALUATOR_EXTRA_PATHS, as any
third-party evaluator would be): a submission is a JSON list of item ids from `items.json`; each item is
worth 1 point, shared equally among the submissions holding it."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

from evaluators.base import (
    CollectiveEvaluator,
    DataFileRule,
    EvaluationResult,
    MetricSpec,
    ProgressCallback,
    SubmissionError,
    TaskConfigError,
    no_progress,
)


class ToyCollectiveEvaluator(CollectiveEvaluator[frozenset[str], tuple[str, ...]]):
    slug: ClassVar[str] = "toy-collective"
    title: ClassVar[str] = "Shared credit per item (tests only)"
    version: ClassVar[str] = "test-1"
    submission_format: ClassVar[str] = 'a JSON list of item ids, e.g. ["a", "b"]'
    data_files: ClassVar[tuple[DataFileRule, ...]] = (
        DataFileRule("items.json", hidden=False, description="the item ids"),
        DataFileRule("notes.json", hidden=True, description="organizer notes (unused)", required=False),
    )

    def validate_config(self, config: Mapping[str, Any]) -> dict[str, Any]:
        if dict(config):
            raise TaskConfigError("the toy evaluator takes no configuration")
        return {}

    def primary_metric(self, config: Mapping[str, Any]) -> MetricSpec:
        return MetricSpec("credit", "Shared credit")

    def metric_specs(self, config: Mapping[str, Any]) -> list[MetricSpec]:
        return [MetricSpec("items", "Items held")]

    def load_task(self, task_dir: Path, config: Mapping[str, Any]) -> frozenset[str]:
        return frozenset(json.loads((Path(task_dir) / "items.json").read_text()))

    def validate(self, task: frozenset[str], submission_path: Path) -> tuple[str, ...]:
        try:
            items = json.loads(Path(submission_path).read_text())
        except (ValueError, UnicodeDecodeError) as exc:
            raise SubmissionError(f"not a JSON list: {exc}") from exc
        if not isinstance(items, list) or not all(isinstance(i, str) and i in task for i in items):
            raise SubmissionError("every entry must be a known item id")
        return tuple(sorted(set(items)))

    def evaluate(
        self, task: frozenset[str], parsed: tuple[str, ...], report_progress: ProgressCallback = no_progress
    ) -> EvaluationResult:
        report_progress(1.0, "counted")
        return EvaluationResult(primary=float(len(parsed)), metrics={"items": float(len(parsed))})

    def evaluate_all(
        self,
        task: frozenset[str],
        parsed: Mapping[str, tuple[str, ...]],
        report_progress: ProgressCallback = no_progress,
    ) -> dict[str, EvaluationResult]:
        holders = Counter(item for items in parsed.values() for item in items)
        return {
            key: EvaluationResult(
                primary=sum(1.0 / holders[item] for item in items), metrics={"items": float(len(items))}
            )
            for key, items in parsed.items()
        }
