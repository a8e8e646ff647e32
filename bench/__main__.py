"""Benchmarks, each printing a ratio against a baseline measured in the same invocation.

`make bench` runs them all:
- the speech-selection evaluator against the bare fixed-model work it must do (10 fits and predictions of the
  reference ensemble on assembled arrays): what the evaluator adds on top of the model; goal at most 1.2x;
- the debugging evaluator against the reference-style schedule (one full retrain per step): goal >= 20x.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench.debugging_vision import bench_debugging_vision
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
    # Each benchmark prints its own ratio against its own baseline; they measure different things (an
    # overhead to keep low, a speed-up to keep high), so they are not combined into one number.
    bench_speech_evaluator()
    bench_debugging_vision()
    return 0


if __name__ == "__main__":
    sys.exit(main())
