"""selection-speech scoring: class numbering, row orders, details and progress, on a small synthetic task."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from evaluators import EvaluationResult, Evaluator
from evaluators.selection_speech.scoring import SEEDS, training_rows
from evaluators.selection_speech.task import SpeechTask
from evaluators.selection_speech.validation import SpeechSelection

WriteSubmission = Callable[[Any], Path]


@pytest.fixture(scope="module")
def allowed(small_task: SpeechTask) -> dict[str, Any]:
    return {"targets": small_task.allowed.targets, "nontargets": small_task.allowed.nontargets}


def _selection(allowed: dict[str, Any], per_word: int = 3, nontargets: int = 4) -> dict[str, Any]:
    return {
        "targets": {word: ids[:per_word] for word, ids in allowed["targets"].items()},
        "nontargets": allowed["nontargets"][:nontargets],
    }


def _score(
    evaluator: Evaluator[Any, Any], task: SpeechTask, write: WriteSubmission, submission: Any
) -> EvaluationResult:
    return evaluator.evaluate(task, evaluator.validate(task, write(submission)))


def _parsed(evaluator: Evaluator[Any, Any], task: SpeechTask, write: WriteSubmission, sub: Any) -> SpeechSelection:
    parsed: SpeechSelection = evaluator.validate(task, write(sub))
    return parsed


def test_classes_are_numbered_by_name_among_all_target_words(small_task: SpeechTask) -> None:
    assert small_task.class_names == ("nontarget", "episode", "fifty", "job", "restaurant", "route")
    assert small_task.class_of == {"episode": 1, "fifty": 2, "job": 3, "restaurant": 4, "route": 5}


def test_a_missing_target_key_scores_like_an_empty_list(
    speech_evaluator: Evaluator[Any, Any],
    small_task: SpeechTask,
    allowed: dict[str, Any],
    write_submission: WriteSubmission,
) -> None:
    with_empty = _selection(allowed)
    with_empty["targets"]["episode"] = []
    without = _selection(allowed)
    del without["targets"]["episode"]
    empty_result = _score(speech_evaluator, small_task, write_submission, with_empty)
    missing_result = _score(speech_evaluator, small_task, write_submission, without)
    assert missing_result.primary == empty_result.primary
    assert missing_result.metrics == empty_result.metrics
    # Mapped by name: "fifty" keeps class 2 although "episode" is absent (the original would shift it to 1).
    counts = missing_result.details["class_counts"]
    assert counts == {"nontarget": 4, "episode": 0, "fifty": 3, "job": 3, "restaurant": 3, "route": 3}
    rows = training_rows(small_task, _parsed(speech_evaluator, small_task, write_submission, without))
    assert sorted(set(rows.labels.tolist())) == [0.0, 2.0, 3.0, 4.0, 5.0]


def test_a_repeated_target_id_gives_one_row_but_counts_twice(
    speech_evaluator: Evaluator[Any, Any],
    small_task: SpeechTask,
    allowed: dict[str, Any],
    write_submission: WriteSubmission,
) -> None:
    submission = _selection(allowed)
    submission["targets"]["job"].append(submission["targets"]["job"][0])
    parsed = _parsed(speech_evaluator, small_task, write_submission, submission)
    assert parsed.n_entries == 20
    rows = training_rows(small_task, parsed)
    assert len(rows.labels) == 19
    assert int((rows.labels == small_task.class_of["job"]).sum()) == 3


def test_a_repeated_nontarget_id_gives_two_rows(
    speech_evaluator: Evaluator[Any, Any],
    small_task: SpeechTask,
    allowed: dict[str, Any],
    write_submission: WriteSubmission,
) -> None:
    submission = _selection(allowed)
    submission["nontargets"].append(submission["nontargets"][0])
    rows = training_rows(small_task, _parsed(speech_evaluator, small_task, write_submission, submission))
    assert int((rows.labels == 0).sum()) == 5
    np.testing.assert_array_equal(rows.features[-1], rows.features[-5])


def test_target_rows_follow_the_json_key_order_then_the_parquet_row_order(
    speech_evaluator: Evaluator[Any, Any],
    small_task: SpeechTask,
    allowed: dict[str, Any],
    write_submission: WriteSubmission,
) -> None:
    job, fifty = allowed["targets"]["job"], allowed["targets"]["fifty"]
    submission = {"targets": {"job": [job[4], job[1]], "fifty": [fifty[2], fifty[0]]}, "nontargets": []}
    submission["nontargets"] = allowed["nontargets"][:1]
    rows = training_rows(small_task, _parsed(speech_evaluator, small_task, write_submission, submission))
    blocks = small_task.train.blocks
    expected = [
        blocks["job"].vectors[blocks["job"].row_of[job[1]]],
        blocks["job"].vectors[blocks["job"].row_of[job[4]]],
        blocks["fifty"].vectors[blocks["fifty"].row_of[fifty[0]]],
        blocks["fifty"].vectors[blocks["fifty"].row_of[fifty[2]]],
    ]
    np.testing.assert_array_equal(rows.features[:4], np.stack(expected))
    assert rows.labels.tolist()[:4] == [3.0, 3.0, 2.0, 2.0]
    assert rows.features.dtype == np.float32


def test_nontargets_are_grouped_by_word_in_order_of_first_appearance(
    speech_evaluator: Evaluator[Any, Any],
    small_task: SpeechTask,
    allowed: dict[str, Any],
    write_submission: WriteSubmission,
) -> None:
    by_word: dict[str, list[str]] = {}
    for clip_id in allowed["nontargets"]:
        by_word.setdefault(clip_id.split("/")[0], []).append(clip_id)
    first, second = sorted(by_word)[:2]
    listed = [by_word[second][3], by_word[first][0], by_word[second][1], by_word[first][2]]
    submission = {"targets": {"fifty": allowed["targets"]["fifty"][:1]}, "nontargets": listed}
    rows = training_rows(small_task, _parsed(speech_evaluator, small_task, write_submission, submission))
    blocks = small_task.train.blocks
    order = [listed[0], listed[2], listed[1], listed[3]]
    expected = [blocks[clip.split("/")[0]].vectors[blocks[clip.split("/")[0]].row_of[clip]] for clip in order]
    np.testing.assert_array_equal(rows.features[1:], np.stack(expected))


def test_the_primary_is_the_mean_of_the_seed_values(
    speech_evaluator: Evaluator[Any, Any],
    small_task: SpeechTask,
    allowed: dict[str, Any],
    write_submission: WriteSubmission,
) -> None:
    result = _score(speech_evaluator, small_task, write_submission, _selection(allowed))
    assert list(result.metrics) == [f"macro_f1.seed_{seed}" for seed in SEEDS]
    assert result.primary == pytest.approx(np.mean(list(result.metrics.values())), abs=1e-15)
    assert 0 < result.primary < 1


def test_the_details_describe_the_run_without_hidden_data(
    speech_evaluator: Evaluator[Any, Any],
    small_task: SpeechTask,
    small_task_dir: Path,
    allowed: dict[str, Any],
    write_submission: WriteSubmission,
) -> None:
    details = _score(speech_evaluator, small_task, write_submission, _selection(allowed)).details
    assert [entry["seed"] for entry in details["per_seed"]] == list(SEEDS)
    assert details["class_names"] == list(small_task.class_names)
    assert set(details["per_class_f1"]) == set(small_task.class_names)
    assert all(0 <= value <= 1 for value in details["per_class_f1"].values())
    assert details["n_train_rows"] == 19
    text = json.dumps(details)
    eval_text = (small_task_dir / "eval.yaml").read_text()
    hidden_ids = [token for token in eval_text.split() if "common_voice" in token]
    assert hidden_ids
    assert not any(token.strip(",[]") in text for token in hidden_ids)


def test_it_reports_progress_after_each_seed(
    speech_evaluator: Evaluator[Any, Any],
    small_task: SpeechTask,
    allowed: dict[str, Any],
    write_submission: WriteSubmission,
) -> None:
    reports: list[tuple[float, str]] = []
    parsed = _parsed(speech_evaluator, small_task, write_submission, _selection(allowed))
    speech_evaluator.evaluate(small_task, parsed, lambda fraction, message: reports.append((fraction, message)))
    seed_reports = [report for report in reports if report[1].startswith("seed ")]
    assert [fraction for fraction, _ in seed_reports] == [i / 10 for i in range(1, 11)]
    assert all(0 <= fraction <= 1 for fraction, _ in reports)


def test_the_same_selection_scores_the_same_twice(
    speech_evaluator: Evaluator[Any, Any],
    small_task: SpeechTask,
    allowed: dict[str, Any],
    write_submission: WriteSubmission,
) -> None:
    first = _score(speech_evaluator, small_task, write_submission, _selection(allowed, per_word=2))
    second = _score(speech_evaluator, small_task, write_submission, _selection(allowed, per_word=2))
    assert first == second
