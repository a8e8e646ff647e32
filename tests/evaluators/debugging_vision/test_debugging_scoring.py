"""debugging-vision: the score rule, the skip/memo schedule (equal to one retrain per step), early stopping,
metrics, details and progress."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np
import pytest

from evaluators.debugging_vision.evaluator import DebuggingVisionEvaluator
from evaluators.debugging_vision.reference import reference_curve
from evaluators.debugging_vision.scoring import (
    CurveSchedule,
    LabelSets,
    dataset_tensors,
    first_reaching,
    score_datasets,
)
from evaluators.debugging_vision.synthetic import baseline_rankings
from evaluators.debugging_vision.task import DebuggingTask
from evaluators.debugging_vision.training import accuracy_after_training, reference_numerics
from evaluators.debugging_vision.validation import parse_submission

WriteDirectory = Callable[[Mapping[str, str | bytes]], Path]
NOISY = np.array([0, 0, 1, 1, 0, 1], dtype=np.uint8)
TRUTH = np.array([1, 0, 1, 0, 0, 0], dtype=np.uint8)  # rows 0, 3 and 5 are mislabelled


def _text(rows: list[int]) -> str:
    return "".join(f"{row}\n" for row in rows)


def test_the_target_is_95_percent_of_the_last_point_and_the_first_reaching_point_counts() -> None:
    assert first_reaching([0.5, 0.9, 0.86, 0.9]) == (1, 0.95 * 0.9)
    assert first_reaching([0.5, 0.6, 0.855, 0.9]) == (2, 0.855)  # equality reaches the target
    assert first_reaching([0.91, 0.3, 0.2]) == (0, 0.95 * 0.2)


def test_label_sets_count_only_rows_whose_label_changes() -> None:
    sets = LabelSets.build(NOISY, TRUTH, [1, 0, 0, 2, 3, 5, 4], steps=6)
    # row 1 is already right, row 0 is repeated, row 2 is right: only 0, 3, 5 change the labels.
    assert sets.effective_rows == (0, 3, 5)
    assert sets.counts == (0, 1, 1, 1, 2, 3)
    assert sets.distinct() == 4
    assert sets.labels(2).tolist() == [1, 0, 1, 0, 0, 1]


def test_steps_beyond_a_short_list_keep_the_last_labels() -> None:
    sets = LabelSets.build(NOISY, TRUTH, [3], steps=6)
    assert sets.counts == (1, 1, 1, 1, 1, 1)
    assert LabelSets.build(NOISY, TRUTH, [], steps=6).counts == (0,) * 6


def _schedule(accuracy_by_count: dict[int, float], ranking: list[int]) -> tuple[CurveSchedule, list[int]]:
    trained: list[int] = []

    def train(labels: np.ndarray) -> np.float64:
        count = int((labels != NOISY).sum())
        trained.append(count)
        return np.float64(accuracy_by_count[count])

    return CurveSchedule(LabelSets.build(NOISY, TRUTH, ranking, steps=6), train), trained


def test_the_score_trains_the_last_point_first_and_stops_at_the_first_reaching_point() -> None:
    schedule, trained = _schedule({0: 0.4, 1: 0.5, 2: 0.9, 3: 0.92}, [0, 3, 5, 1, 2, 4])
    assert schedule.first_reaching() == (1, 0.95 * 0.92)
    assert trained == [3, 1, 2]  # y[5] (3 fixes) first, then y[0] (1 fix) and y[1] (2 fixes, reaches)
    assert schedule.curve() == [0.5, 0.9, 0.92, 0.92, 0.92, 0.92]
    assert trained == [3, 1, 2]  # rows 1, 2 and 4 were right already: nothing more to train


def test_the_schedule_never_trains_the_same_label_set_twice() -> None:
    schedule, trained = _schedule({0: 0.4, 1: 0.5, 2: 0.6, 3: 0.7}, [1, 1, 0, 2, 3, 5])
    schedule.curve()
    schedule.accuracy(0)
    assert sorted(trained) == [0, 1, 2, 3]


@pytest.fixture(scope="module")
def rankings(small_task_dir: Path) -> dict[str, dict[str, list[int]]]:
    found = baseline_rankings(small_task_dir, seed=3)
    # Repeats, already-correct rows and a short list exercise every skip rule.
    found["short-with-repeats"] = {data_id: [5, 5, 17, 2, 5, 30, 2] for data_id in ("01g317", "09j2d")}
    return found


def test_the_fast_schedule_gives_the_curve_of_one_retrain_per_step(
    small_task: DebuggingTask, rankings: dict[str, dict[str, list[int]]]
) -> None:
    with reference_numerics():
        tensors = dataset_tensors(small_task, "09j2d")
        noisy, truth = small_task.train["09j2d"].labels, small_task.hidden("09j2d").truth
        for per_dataset in rankings.values():
            ranking = per_dataset["09j2d"]
            sets = LabelSets.build(noisy, truth, ranking, steps=40)
            fast = CurveSchedule(sets, lambda labels: accuracy_after_training(tensors, labels)).curve()
            naive = []
            for step in range(1, 41):
                labels = noisy.copy()
                labels[ranking[:step]] = truth[ranking[:step]]
                naive.append(float(accuracy_after_training(tensors, labels)))
            assert fast == naive


def test_the_curve_equals_the_reference_schedule_on_the_original_files(
    small_task: DebuggingTask, small_task_dir: Path, rankings: dict[str, dict[str, list[int]]]
) -> None:
    ranking = rankings["short-with-repeats"]["01g317"]
    with reference_numerics():
        # 10 steps: the 7 listed rows (repeats included) and 3 steps beyond the end of the list.
        expected = reference_curve(small_task_dir, small_task.config, "01g317", ranking, steps=10)
        sets = LabelSets.build(small_task.train["01g317"].labels, small_task.hidden("01g317").truth, ranking, 40)
        tensors = dataset_tensors(small_task, "01g317")
        assert CurveSchedule(sets, lambda labels: accuracy_after_training(tensors, labels)).curve()[:10] == expected


def test_score_only_mode_gives_the_score_of_the_full_curve(
    small_task: DebuggingTask, small_task_dir: Path, write_directory: WriteDirectory
) -> None:
    submission = parse_submission(
        small_task, write_directory({"01g317_m.txt": _text(list(range(40))), "09j2d_m.txt": _text([3, 9, 1])})
    )
    quick = score_datasets(small_task, submission, lambda f, m: None, full_curve=False)
    full = score_datasets(small_task, submission, lambda f, m: None, full_curve=True)
    for fast, slow in zip(quick, full, strict=True):
        assert (fast.fraction_fixes, fast.final_accuracy, fast.target) == (
            slow.fraction_fixes,
            slow.final_accuracy,
            slow.target,
        )
        assert fast.curve == ()
        assert first_reaching(slow.curve)[0] == slow.fixes_needed
        assert slow.fraction_fixes == slow.fixes_needed / 40


def test_evaluate_reports_metrics_charts_and_progress(
    evaluator: DebuggingVisionEvaluator, small_task: DebuggingTask, write_directory: WriteDirectory
) -> None:
    submission = evaluator.validate(
        small_task, write_directory({"01g317_a.txt": _text(list(range(40))), "09j2d_a.txt": _text([7, 7, 8])})
    )
    progress: list[tuple[float, str]] = []
    result = evaluator.evaluate(small_task, submission, lambda f, m: progress.append((f, m)))
    assert set(result.metrics) == {
        "fraction_fixes.01g317",
        "final_accuracy.01g317",
        "fraction_fixes.09j2d",
        "final_accuracy.09j2d",
    }
    assert result.primary == pytest.approx(
        (result.metrics["fraction_fixes.01g317"] + result.metrics["fraction_fixes.09j2d"]) / 2, abs=1e-15
    )
    details = result.details["datasets"]["09j2d"]
    curve = result.details["sealed"]["curves"]["09j2d"]
    assert details["lines"] == 3
    assert len(curve) == 40
    assert details["final_accuracy"] == curve[-1]
    # The curve reveals which listed rows were mislabelled: only among the sealed charts, never the open ones.
    assert not [c for c in result.details["charts"] if c["title"].startswith("Test accuracy vs number of fixes")]
    lines = [c for c in result.details["sealed_charts"] if c["title"] == "Test accuracy vs number of fixes (09j2d)"]
    assert [c["series"] for c in lines] == ["accuracy", "target (95% of the final accuracy)"]
    assert lines[0]["x"] == list(range(41))
    assert lines[0]["y"] == [details["noisy_accuracy"], *curve]
    fractions = [f for f, _ in progress]
    assert fractions == sorted(fractions)
    assert fractions[-1] == 1.0
    assert any("models trained" in message for _, message in progress)


def test_an_empty_ranking_scores_zero_fixes_as_in_the_original(
    evaluator: DebuggingVisionEvaluator, small_task: DebuggingTask, write_directory: WriteDirectory
) -> None:
    # Every step keeps the noisy labels, so y[0] already equals the final accuracy (a flaw of the metric).
    submission = evaluator.validate(small_task, write_directory({"01g317_a.txt": "", "09j2d_a.txt": ""}))
    result = evaluator.evaluate(small_task, submission)
    assert result.primary == 0.0
