"""Benchmarks, each printing a ratio against a baseline measured in the same invocation.

`make bench` runs them all. Today: the speech-selection evaluator against the bare fixed-model work it must
do (10 fits and predictions of the reference ensemble on already-assembled arrays). The ratio shows what the
evaluator adds on top of the model (validation, row assembly, metrics); the goal is at most 1.2x.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from evaluators import get_evaluator
from evaluators.selection_speech.scoring import SEEDS, fit_and_predict, training_rows
from evaluators.selection_speech.synthetic import baseline_submissions, generate_speech_task


def _best_of(repeats: int, work: Callable[[], object]) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return min(times)


def bench_speech_evaluator(repeats: int = 5) -> float:

    evaluator = get_evaluator("selection-speech")
    with tempfile.TemporaryDirectory() as tmp:
        task_dir = Path(tmp) / "task"
        generate_speech_task(task_dir, language="en", train_size=60, seed=1)
        submission = Path(tmp) / "selection.json"
        submission.write_text(json.dumps(baseline_submissions(task_dir, seed=1)["random-balanced"]))
        config = {"language": "en", "train_size": 60}
        task = evaluator.load_task(task_dir, config)
        parsed = evaluator.validate(task, submission)
        evaluator.evaluate(task, parsed)  # warm up: loads the hidden evaluation set once, as a worker does
        train = training_rows(task, parsed)
        evaluation = task.eval_rows()

        def bare() -> None:
            for seed in SEEDS:
                fit_and_predict(train, evaluation, seed)

        def whole() -> None:
            evaluator.evaluate(task, evaluator.validate(task, submission))

        baseline, ours = _best_of(repeats, bare), _best_of(repeats, whole)
    ratio = ours / baseline
    print(f"speech evaluator: bare fit+predict {baseline * 1000:.1f} ms, whole validate+evaluate "
          f"{ours * 1000:.1f} ms, ratio {ratio:.2f}x (goal <= 1.2x)")  # fmt: skip
    return ratio


def main() -> int:
    ratios = [bench_speech_evaluator()]
    print(f"geometric summary: {statistics.geometric_mean(ratios):.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
