"""Benchmark of the debugging-vision evaluator: the reference's schedule against ours, in one invocation.

On the public case (synC, the `oracle` ranking) it runs, single-threaded:

1. the reference schedule (`evaluators.debugging_vision.reference.reference_curve`): for each of the 300 steps
   the training table is rebuilt and a fresh nn.Module is trained with autograd, AdamW and a DataLoader, as
   the original `app/main.py` does;
2. ours, score only: y[299] first, then y[0..k] until the target is reached, one training per distinct
   label set (`score_datasets(..., full_curve=False)`), task loading included;
3. ours, the whole evaluation (`evaluate`: the full curve for the chart as well);
4. the plain in-memory schedule (our trainer, one retrain per step, no reuse), timed on its first steps
   and extrapolated to 300 (printed as such), to show what the skip rule and early stop add on their own.

It checks that the reference and our full curve are equal point for point and give the same fraction_fixes,
prints the timings and returns the reference time over our score-only time (goal: at least 20x).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from evaluators import get_evaluator
from evaluators.base import no_progress
from evaluators.debugging_vision.evaluator import DebuggingVisionEvaluator
from evaluators.debugging_vision.reference import reference_curve
from evaluators.debugging_vision.scoring import dataset_tensors, first_reaching, score_datasets
from evaluators.debugging_vision.task import DebuggingTask
from evaluators.debugging_vision.training import accuracy_after_training, reference_numerics
from evaluators.taskdir import load_task_dir

CASE = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "reference_cases" / "debugging-vision" / "synC"
DATA_ID = "synC"
NAIVE_SAMPLE_STEPS = 30


def _load(evaluator: DebuggingVisionEvaluator) -> DebuggingTask:
    task_dir = CASE / "task"
    return evaluator.load_task(task_dir, evaluator.validate_config(load_task_dir(task_dir).config))


def _naive_seconds_per_step(task: DebuggingTask, ranking: tuple[int, ...]) -> float:
    tensors = dataset_tensors(task, DATA_ID)
    noisy, truth = task.train[DATA_ID].labels, task.hidden(DATA_ID).truth
    started = time.perf_counter()
    for step in range(1, NAIVE_SAMPLE_STEPS + 1):
        labels = noisy.copy()
        labels[list(ranking[:step])] = truth[list(ranking[:step])]
        accuracy_after_training(tensors, labels)
    return (time.perf_counter() - started) / NAIVE_SAMPLE_STEPS


def bench_debugging_vision() -> float:
    """Time the reference schedule and ours on the public case; return the speed-up of our score (goal >= 20)."""
    found = get_evaluator("debugging-vision")
    assert isinstance(found, DebuggingVisionEvaluator)
    evaluator = found
    submission = evaluator.validate(_load(evaluator), CASE / "submissions" / "oracle")
    ranking = submission.ranking_file(DATA_ID).ranking
    with reference_numerics():
        warm = _load(evaluator)  # first torch and MKL calls are slow; neither side should pay for them
        accuracy_after_training(dataset_tensors(warm, DATA_ID), warm.train[DATA_ID].labels)

        started = time.perf_counter()
        reference = reference_curve(CASE / "task", warm.config, DATA_ID, ranking)
        reference_seconds = time.perf_counter() - started

        started = time.perf_counter()
        (score,) = score_datasets(_load(evaluator), submission, no_progress, full_curve=False)
        score_seconds = time.perf_counter() - started

        naive_step = _naive_seconds_per_step(warm, ranking)

    started = time.perf_counter()
    result = evaluator.evaluate(_load(evaluator), submission)
    full_seconds = time.perf_counter() - started

    steps = len(reference)
    curve = result.details["sealed"]["curves"][DATA_ID]
    assert curve == reference, "our curve differs from the reference schedule"
    assert score.fraction_fixes == first_reaching(reference)[0] / steps == result.primary
    ratio = reference_seconds / score_seconds
    print(
        f"debugging-vision, public case {DATA_ID}/oracle: fraction_fixes {score.fraction_fixes:.6f} on both sides, "
        f"curves equal at all {steps} points"
    )
    print(f"  reference schedule ({steps} retrains, table rebuilt each step): {reference_seconds:.1f} s")
    print(
        f"  plain in-memory schedule ({steps} retrains, no reuse): {naive_step * steps:.1f} s "
        f"(extrapolated from the first {NAIVE_SAMPLE_STEPS} steps)"
    )
    print(
        f"  ours, score only (task loading included): {score_seconds:.1f} s -> {ratio:.1f}x faster "
        f"than the reference (goal >= 20x), {naive_step * steps / score_seconds:.1f}x than in-memory"
    )
    print(
        f"  ours, whole evaluation with the {steps}-point curve: {full_seconds:.1f} s -> "
        f"{reference_seconds / full_seconds:.1f}x faster than the reference"
    )
    return ratio


if __name__ == "__main__":
    bench_debugging_vision()
    sys.exit(0)
