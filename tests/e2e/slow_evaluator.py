"""A plug-in evaluator for the end-to-end tests: the speech evaluator, with a pause before scoring.

Registered through EVALUATOR_EXTRA_PATHS (tests/pytest_env.py), exactly as a third-party evaluator would be,
so that a test can kill a worker in the middle of an evaluation. The score is the speech evaluator's own. The
pause is `pause_seconds`, or SLOW_EVALUATOR_PAUSE_SECONDS in the worker's environment.
"""

from __future__ import annotations

import os
import time
from typing import ClassVar

from evaluators.base import EvaluationResult, ProgressCallback, no_progress
from evaluators.selection_speech.evaluator import SelectionSpeechEvaluator
from evaluators.selection_speech.task import SpeechTask
from evaluators.selection_speech.validation import SpeechSelection


class SlowSpeechEvaluator(SelectionSpeechEvaluator):
    slug: ClassVar[str] = "slow-selection-speech"
    title: ClassVar[str] = "Selection for speech, slowed down (tests only)"
    version: ClassVar[str] = "test-1"
    pause_seconds: ClassVar[float] = 4.0
    demo_module: ClassVar[str | None] = None

    def evaluate(
        self, task: SpeechTask, parsed: SpeechSelection, report_progress: ProgressCallback = no_progress
    ) -> EvaluationResult:
        steps = 10
        pause = float(os.environ.get("SLOW_EVALUATOR_PAUSE_SECONDS", self.pause_seconds))
        for step in range(steps):
            report_progress(step / (2 * steps), f"pausing ({step + 1}/{steps})")
            time.sleep(pause / steps)
        return super().evaluate(task, parsed, report_progress)
