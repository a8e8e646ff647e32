"""An evaluator that does no work, for the submit-to-ranked benchmark: what is measured is the platform's
pipeline (upload, validation, broker, worker, scores, leaderboard rebuild), not a model.

Plugged in through EVALUATOR_EXTRA_PATHS (`bench.trivial_evaluator:TrivialEvaluator`), as a third-party
evaluator would be. A submission is `{"value": <number>}`; its score is that number.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

from evaluators.base import (
    EvaluationResult,
    Evaluator,
    MetricSpec,
    ProgressCallback,
    SubmissionError,
    TaskConfigError,
    no_progress,
)


class TrivialEvaluator(Evaluator[None, float]):
    slug: ClassVar[str] = "bench-trivial"
    title: ClassVar[str] = "Echo a number (benchmarks only)"
    version: ClassVar[str] = "bench-1"
    submission_format: ClassVar[str] = 'a JSON object {"value": <a finite number>}'

    def validate_config(self, config: Mapping[str, Any]) -> dict[str, Any]:
        if dict(config):
            raise TaskConfigError("the trivial evaluator takes no configuration")
        return {}

    def primary_metric(self, config: Mapping[str, Any]) -> MetricSpec:
        return MetricSpec("value", "Value", higher_is_better=True)

    def metric_specs(self, config: Mapping[str, Any]) -> list[MetricSpec]:
        return []

    def load_task(self, task_dir: Path, config: Mapping[str, Any]) -> None:
        return None

    def validate(self, task: None, submission_path: Path) -> float:
        try:
            value = json.loads(Path(submission_path).read_text())["value"]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise SubmissionError(f'expected {{"value": <number>}}: {exc}') from exc
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise SubmissionError(f"value must be a finite number, not {value!r}")
        return float(value)

    def evaluate(self, task: None, parsed: float, report_progress: ProgressCallback = no_progress) -> EvaluationResult:
        return EvaluationResult(primary=parsed, metrics={})
