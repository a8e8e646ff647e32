"""slice-discovery: config validation and the organizer's file faults, each reported as a TaskConfigError."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from evaluators import Evaluator, TaskConfigError

MakeTask = Callable[..., Path]
IDS = ["a", "b", "c", "d"]


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({}, "n_pred_slices must be an integer from 1 to 100, got None"),
        ({"n_pred_slices": True}, "got True"),
        ({"n_pred_slices": 0}, "got 0"),
        ({"n_pred_slices": 101}, "got 101"),
        ({"n_pred_slices": "5"}, "got '5'"),
        ({"n_pred_slices": 5, "budget": 1}, "unexpected config key(s) budget"),
        ({"n_pred_slices": 5, "slices": "A"}, "non-empty list"),
        ({"n_pred_slices": 5, "slices": []}, "non-empty list"),
        ({"n_pred_slices": 5, "slices": ["A", "A"]}, "appears more than once"),
        ({"n_pred_slices": 5, "slices": ["id"]}, "may not be called 'id'"),
        ({"n_pred_slices": 5, "slices": [3]}, "must be text"),
    ],
)
def test_validate_config_rejects_a_bad_config(
    slice_evaluator: Evaluator[Any, Any], config: dict[str, Any], message: str
) -> None:
    with pytest.raises(TaskConfigError) as raised:
        slice_evaluator.validate_config(config)
    assert message in str(raised.value)


def test_validate_config_normalises(slice_evaluator: Evaluator[Any, Any]) -> None:
    assert slice_evaluator.validate_config({"n_pred_slices": 5}) == {"n_pred_slices": 5}
    assert slice_evaluator.validate_config({"n_pred_slices": 2, "slices": ("A",)}) == {
        "n_pred_slices": 2,
        "slices": ["A"],
    }


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("id,target\na,1\n", "missing ['probs']"),
        ("id,target,probs\na,1,0.5\na,0,0.5\n", "an id appears more than once"),
        ("id,target,probs\n,1,0.5\n", "an id is empty"),
        ("id,target,probs\n", "lists no example"),
        ("", "the file is empty"),
        ("id,target,probs\na,1\n", "row 2 has 2 fields, the header has 3"),
        ("id,target,probs\na,1,high\n", "column 'probs' must hold numbers"),
    ],
)
def test_load_task_rejects_bad_predictions(
    slice_evaluator: Evaluator[Any, Any], make_task: MakeTask, content: str, message: str
) -> None:
    task_dir = make_task(IDS, {"A": ["a"]})
    (task_dir / "test_predictions.csv").write_text(content)
    with pytest.raises(TaskConfigError) as raised:
        slice_evaluator.load_task(task_dir, {"n_pred_slices": 2})
    assert message in str(raised.value)


def test_load_task_rejects_missing_predictions(slice_evaluator: Evaluator[Any, Any], tmp_path: Path) -> None:
    with pytest.raises(TaskConfigError, match="missing task file"):
        slice_evaluator.load_task(tmp_path, {"n_pred_slices": 2})


def test_load_task_does_not_read_the_hidden_slices(slice_evaluator: Evaluator[Any, Any], make_task: MakeTask) -> None:
    task_dir = make_task(IDS, {"A": ["a"]})
    (task_dir / "test_slices.csv").unlink()
    task = slice_evaluator.load_task(task_dir, {"n_pred_slices": 2})
    assert task.n_examples == 4
    assert any("missing task file" in problem for problem in slice_evaluator.check_task(task))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("name,A\na,1\nb,0\nc,0\nd,0\n", "the header must be 'id' followed by one column per ground-truth slice"),
        ("id\na\nb\nc\nd\n", "the header must be 'id' followed by one column per ground-truth slice"),
        ("id,A,A\na,1,1\nb,0,0\nc,0,0\nd,0,0\n", "a slice name appears more than once"),
        ("id,A\na,1\nb,yes\nc,0\nd,0\n", "row 3, slice 'A': 'yes' is not 0 or 1"),
        ("id,A\na,1\nb,0\nc,0\n", "must list exactly the ids of test_predictions.csv"),
        ("id,A\na,1\nb,0\nc,0\nd,0\ne,0\n", "1 of them unknown"),
        ("id,A\na,1\na,0\nc,0\nd,0\n", "an id appears more than once"),
        ("id, A\na,1\nb,0\nc,0\nd,0\n", "leading or trailing blanks"),
    ],
)
def test_check_task_reports_bad_ground_truth(
    slice_evaluator: Evaluator[Any, Any], make_task: MakeTask, content: str, message: str
) -> None:
    task_dir = make_task(IDS, {"A": ["a"]})
    (task_dir / "test_slices.csv").write_text(content)
    task = slice_evaluator.load_task(task_dir, {"n_pred_slices": 2, "slices": ["A"]})
    problems = slice_evaluator.check_task(task)
    assert len(problems) == 1
    assert message in problems[0]


def test_ground_truth_accepts_boolean_spellings(slice_evaluator: Evaluator[Any, Any], make_task: MakeTask) -> None:
    task_dir = make_task(IDS, {"A": ["a"]})
    (task_dir / "test_slices.csv").write_text("id,A\na,True\nb,false\nc,1.0\nd,0\n")
    task = slice_evaluator.load_task(task_dir, {"n_pred_slices": 2, "slices": ["A"]})
    assert task.ground_truth().truth.members[:, 0].tolist() == [True, False, True, False]


def test_the_ground_truth_is_loaded_once_and_shared_between_threads(
    slice_evaluator: Evaluator[Any, Any], make_task: MakeTask
) -> None:
    task = slice_evaluator.load_task(make_task(IDS, {"A": ["a"]}), {"n_pred_slices": 2, "slices": ["A"]})
    with ThreadPoolExecutor(max_workers=4) as pool:
        loaded = list(pool.map(lambda _: task.ground_truth(), range(8)))
    assert all(item is loaded[0] for item in loaded)
