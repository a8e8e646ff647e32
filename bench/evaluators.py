"""Each evaluator against the bare fixed-model work it must do, on its demo tasks, in one invocation.

For every registered evaluator with a demo module, and each of its demo tasks (in quick mode the first, small):
the task is generated and loaded once, as a worker loads it, and warmed by one evaluation; then

- **bare**: the fixed model's fits and predictions on arrays assembled beforehand (for example the speech
  ensemble's 10 seeded fits, one logistic regression per vision concept, the debugging model's trainings on
  each distinct label set the curve needs), with the evaluator's own model code wherever it exposes it;
- **whole**: `validate` + `evaluate` of the first baseline submission, as a worker runs them;

both the best of several runs. The ratio whole / bare is what the evaluator adds on top of the model (goal at
most 1.2x). Evaluators whose per-submission work has no model (the model is fitted once per task and cached,
or there is none) say so instead of reporting a ratio.

The full run also times the debugging evaluator against the reference's one-retrain-per-step schedule
(`bench/debugging_vision.py`, goal at least 20x in CPU time, the wall-clock ratio beside it; 3 to 6 minutes).
"""

from __future__ import annotations

import os
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_limits

from bench.common import Result, best_of
from bench.debugging_vision import bench_debugging_vision
from evaluators import Evaluator, available_slugs, get_evaluator
from evaluators.acquisition.scoring import SEED as ACQUISITION_SEED
from evaluators.acquisition.scoring import draw_rows, trial_accuracy
from evaluators.budget_cleaning.model import fit_model
from evaluators.budget_cleaning.scoring import solution_table
from evaluators.debugging_vision.scoring import LabelSets, dataset_tensors
from evaluators.debugging_vision.training import accuracy_after_training, reference_numerics
from evaluators.demo import DemoTask, demo_module
from evaluators.selection_speech.scoring import SEEDS, fit_and_predict, training_rows
from evaluators.taskdir import load_task_dir
from evaluators.training_set_creation.models import fit_predict

NAME = "evaluators"
OVERHEAD_GOAL = 1.2
DEBUGGING_GOAL = 20.0

Work = Callable[[], object]


class NoModelWork(Exception):
    """The evaluator's per-submission work has no fixed-model part to time on its own; the message says why."""


# --- the bare model work of each evaluator, on arrays assembled beforehand ----------------------------------


def _speech(task: Any, parsed: Any) -> Work:
    train, evaluation = training_rows(task, parsed), task.eval_rows()
    return lambda: [fit_and_predict(train, evaluation, seed) for seed in SEEDS]


def _vision(task: Any, parsed: Any) -> Work:
    # The selected rows gathered and widened to the float64 the model fits, beforehand.
    parts = [
        (np.asarray(task.pool[part.rows], dtype=np.float64), part.labels, task.test_set(part.concept).features)
        for part in parsed.concepts
    ]

    def work() -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            for features, labels, test in parts:
                LogisticRegression(random_state=0).fit(features, labels).predict(test)

    return work


def _acquisition(task: Any, parsed: Any) -> Work:
    rng = np.random.RandomState(ACQUISITION_SEED)  # the evaluator's draws, in its order
    trials = [
        (draw_rows(rng, task.market_data(plan.market), plan.counts), task.market_data(plan.market).buyer)
        for plan in parsed.markets
        for _ in range(task.config.trials)
    ]

    def work() -> None:
        with threadpool_limits(limits=1, user_api="blas"):  # as the evaluator fits
            for train, buyer in trials:
                trial_accuracy(train, buyer, "benchmark")

    return work


def _budget_cleaning(task: Any, parsed: Any) -> Work:
    """The fixed pipeline: DCBench's preprocessing of the training table, then the logistic regression."""
    models = task.reference()  # the dirty and clean reference models: once per task, not per submission
    # The arrays the preprocessor takes of the original's masked table, assembled beforehand.
    inputs = models.preprocessor.inputs(solution_table(models, task, parsed))

    def work() -> None:
        model = fit_model(models.preprocessor.transform(inputs), models.train_labels)
        for split in models.splits:
            models.accuracy(model, split)

    return work


def _training_set(task: Any, parsed: Any) -> Work:
    test = task.test()
    return lambda: [fit_predict(name, parsed.features, parsed.labels, test.features) for name in task.config.models]


def _debugging(task: Any, parsed: Any) -> Work:
    """One training per distinct label vector of the whole curve (what `evaluate` needs for the chart)."""
    plans = []
    for data_id in task.config.datasets:
        noisy, truth = task.train[data_id].labels, task.hidden(data_id).truth
        ranking = parsed.ranking_file(data_id).ranking
        sets = LabelSets.build(noisy, truth, ranking, task.config.train_size)
        plans.append((dataset_tensors(task, data_id), sets, sorted(set(sets.counts) | {0})))

    def work() -> None:
        with reference_numerics():
            for tensors, sets, counts in plans:
                for count in counts:
                    accuracy_after_training(tensors, sets.labels(count))

    return work


def _fitted_once(what: str) -> Callable[[Any, Any], Work]:
    def refuse(task: Any, parsed: Any) -> Work:
        raise NoModelWork(what)

    return refuse


BARE: dict[str, Callable[[Any, Any], Work]] = {
    "selection-speech": _speech,
    "selection-vision": _vision,
    "acquisition": _acquisition,
    "budget-cleaning": _budget_cleaning,
    "training-set-creation": _training_set,
    "debugging-vision": _debugging,
    "valuation": _fitted_once(
        "the fixed model is trained on each pair once per task (the actual accuracies, cached by the loaded "
        "task); a submission's evaluation only compares its predictions with them"
    ),
    "test-set-creation": _fitted_once(
        "the model suite is fitted and predicts the pool once per task (cached by the loaded task); a "
        "submission's evaluation only looks its items up"
    ),
    "slice-discovery": _fitted_once("no model is trained: the metrics are computed from the submitted scores"),
    "adversarial-test-set": _fitted_once(
        "the model suite is fitted and predicts the pool once per task (cached by the loaded task); a "
        "submission's evaluation predicts only its new items with the fitted suite"
    ),
}


WHY_OVER = {
    "selection-vision": (
        "the demo selects 40 images per concept, so each logistic regression fits in about a millisecond; the "
        "metrics come from one confusion matrix per concept and the ImageIDs are looked up in one vectorised "
        "search per file, which leaves validation (listing the directory, reading and parsing three CSV files: "
        "about 0.4 ms) as the main addition to the fits"
    ),
    "budget-cleaning": (
        "the submission's training arrays are taken row by row from arrays prepared once per task (no pandas "
        "mask), which leaves parsing the selection (about 0.2 ms) beside a 4 ms fit"
    ),
}
"""Why an evaluator's ratio exceeds the goal, as found by profiling it (printed when it does)."""


# --- measuring -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    slug: str
    demo: DemoTask
    evaluator: Evaluator[Any, Any]
    task: Any
    submission: Path


def _repeats(seconds: float, quick: bool) -> int:
    """More runs for short timings (their noise is larger); one for long ones."""
    if quick:
        return 1
    return 7 if seconds < 1 else 5 if seconds < 5 else 2


def _measure(case: Case, quick: bool) -> dict[str, Any]:
    """One BLAS thread on both sides: on a small busy machine, OpenBLAS's spinning threads make timings swing by
    2x from run to run, which would drown the overhead being measured (the evaluators that pin their threads,
    acquisition and training-set creation, do the same in production)."""
    with threadpool_limits(limits=1):
        return _measure_case(case, quick)


def _measure_case(case: Case, quick: bool) -> dict[str, Any]:
    evaluator, task, submission = case.evaluator, case.task, case.submission

    def whole() -> None:
        evaluator.evaluate(task, evaluator.validate(task, submission))

    started = time.perf_counter()
    whole()  # warm-up: hidden files, derived arrays and first library calls, loaded once per worker
    first = time.perf_counter() - started
    figures: dict[str, Any] = {"first_evaluation_ms": round(first * 1000, 2)}
    parsed = evaluator.validate(task, submission)
    try:
        bare = BARE[case.slug](task, parsed)
    except NoModelWork as reason:
        figures["whole_ms"] = round(best_of(_repeats(first, quick), whole) * 1000, 2)
        figures["not_separable"] = str(reason)
        return figures
    repeats = _repeats(first, quick)
    # Interleaved, so that both sides meet the same background load; the best of each.
    timings = [(best_of(1, bare), best_of(1, whole)) for _ in range(repeats)]
    bare_seconds, whole_seconds = min(t[0] for t in timings), min(t[1] for t in timings)
    figures.update(
        bare_ms=round(bare_seconds * 1000, 2),
        whole_ms=round(whole_seconds * 1000, 2),
        ratio=round(whole_seconds / bare_seconds, 4),
        repeats=repeats,
    )
    return figures


def _cases(tmp: Path, quick: bool) -> list[Case | tuple[str, str]]:
    """Every (evaluator, demo task) to measure, or (slug, why not) for an evaluator without a demo module."""
    cases: list[Case | tuple[str, str]] = []
    for slug in available_slugs():
        evaluator = get_evaluator(slug)
        module = demo_module(evaluator)
        if module is None:
            cases.append((slug, "no demo module"))
            continue
        # Quick: the first demo task of each (enough to check the machinery); full: all of them.
        for demo in module.DEMO_TASKS[:1] if quick else module.DEMO_TASKS:
            task_dir = tmp / demo.slug / "task"
            module.generate_task(task_dir, config=demo.config, seed=0, small=quick)
            submissions = module.write_baselines(task_dir, tmp / demo.slug / "submissions", seed=0)
            config = evaluator.validate_config(load_task_dir(task_dir).config)
            task = evaluator.load_task(task_dir, config)
            cases.append(Case(slug, demo, evaluator, task, next(iter(submissions.values()))))
    return cases


def _report(case: Case, figures: dict[str, Any], result: Result) -> None:
    name = f"{case.slug} ({case.demo.slug})"
    if "ratio" in figures:
        print(
            f"  {name}: bare fit+predict {figures['bare_ms']:.1f} ms, whole validate+evaluate "
            f"{figures['whole_ms']:.1f} ms, ratio {figures['ratio']:.2f}x (goal <= {OVERHEAD_GOAL}x)"
        )
        met = figures["ratio"] <= OVERHEAD_GOAL
        result.goal(f"{name}: whole / bare", f"<= {OVERHEAD_GOAL}", figures["ratio"], met)
        if not met and case.slug in WHY_OVER:
            result.note(f"{case.slug}: {WHY_OVER[case.slug]}")
    else:
        print(f"  {name}: whole validate+evaluate {figures['whole_ms']:.1f} ms; no ratio: {figures['not_separable']}")


def run(*, quick: bool) -> Result:
    result = Result(NAME, quick)
    result.settings = {"demo_tasks": "small" if quick else "full", "load_average_at_start": os.getloadavg()}
    print(f"evaluators against their bare model work ({'small' if quick else 'full'} demo tasks):")
    per_case: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="bench-evaluators-") as tmp:
        for case in _cases(Path(tmp), quick):
            if isinstance(case, tuple):
                result.note(f"{case[0]}: {case[1]}, not measured")
                continue
            figures = _measure(case, quick)
            per_case[f"{case.slug}/{case.demo.slug}"] = figures
            _report(case, figures, result)
    result.figures["evaluators"] = per_case
    if quick:
        result.note("the debugging evaluator against the reference schedule runs in the full mode only")
    else:
        figures = bench_debugging_vision()
        result.figures["debugging_vision_vs_reference"] = {name: round(value, 2) for name, value in figures.items()}
        speedup = figures["speedup"]
        met = speedup >= DEBUGGING_GOAL
        goal = "debugging-vision: reference schedule / ours (CPU time)"
        result.goal(goal, f">= {DEBUGGING_GOAL:g}", speedup, met)
    result.settings["load_average_at_end"] = os.getloadavg()
    return result
