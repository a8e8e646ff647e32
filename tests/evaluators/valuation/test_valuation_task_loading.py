"""valuation task loading: config rules, public tables, hidden files checked by check_task."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from evaluators import Evaluator, TaskConfigError
from evaluators.valuation.task import ValuationTask
from tests.evaluators.valuation.helpers import WriteFile, predictions_csv

SMALL_CONFIG = {"pairs": ["clean", "noisy-labels", "duplicates"]}


@pytest.fixture
def task_copy(small_pairs_dir: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "task"
    shutil.copytree(small_pairs_dir, copy)
    return copy


def _load(evaluator: Evaluator[Any, Any], directory: Path) -> ValuationTask:
    task: ValuationTask = evaluator.load_task(directory, SMALL_CONFIG)
    return task


def _load_error(evaluator: Evaluator[Any, Any], directory: Path) -> str:
    with pytest.raises(TaskConfigError) as raised:
        _load(evaluator, directory)
    return str(raised.value)


def _edit(path: Path, old: str, new: str) -> None:
    path.write_text(path.read_text(encoding="utf-8").replace(old, new, 1), encoding="utf-8")


@pytest.mark.parametrize(
    ("config", "fragment"),
    [
        ({}, "config.pairs must be a list of 1 to 1000 pair names"),
        ({"pairs": ["a", "a"]}, "'a' is listed twice"),
        ({"pairs": [".."]}, "'..' is not a usable pair name"),
        ({"pairs": ["a/b"]}, "'a/b' is not a usable pair name"),
        ({"pairs": ["a"], "pair_errors": "yes"}, "config.pair_errors must be true or false"),
        ({"pairs": ["a"], "metric": "mae"}, "unexpected config key(s) metric"),
    ],
)
def test_it_rejects_a_bad_config(
    valuation_evaluator: Evaluator[Any, Any], config: dict[str, Any], fragment: str
) -> None:
    with pytest.raises(TaskConfigError) as raised:
        valuation_evaluator.validate_config(config)
    assert fragment in str(raised.value)


def test_per_pair_errors_are_off_by_default(valuation_evaluator: Evaluator[Any, Any]) -> None:
    assert valuation_evaluator.validate_config({"pairs": [1, "b"]}) == {"pairs": ["1", "b"], "pair_errors": False}
    assert not valuation_evaluator.primary_metric({"pairs": ["b"]}).higher_is_better


def test_it_rejects_b_with_other_columns_than_a(valuation_evaluator: Evaluator[Any, Any], task_copy: Path) -> None:
    _edit(task_copy / "pairs" / "clean" / "B.csv", "mean_radius", "radius")
    assert "the feature columns differ from those of A.csv" in _load_error(valuation_evaluator, task_copy)


def test_it_rejects_a_public_b_with_labels(valuation_evaluator: Evaluator[Any, Any], task_copy: Path) -> None:
    _edit(task_copy / "pairs" / "clean" / "B.csv", "mean_radius", "label")
    assert "must not hold the 'label' column" in _load_error(valuation_evaluator, task_copy)


def test_it_rejects_an_a_without_a_label_column_last(valuation_evaluator: Evaluator[Any, Any], task_copy: Path) -> None:
    _edit(task_copy / "pairs" / "duplicates" / "A.csv", ",label", ",target")
    assert "the last column must be 'label'" in _load_error(valuation_evaluator, task_copy)


def test_it_rejects_a_non_numeric_feature(valuation_evaluator: Evaluator[Any, Any], task_copy: Path) -> None:
    path = task_copy / "pairs" / "clean" / "A.csv"
    lines = path.read_text().splitlines()
    lines[1] = "big" + lines[1][lines[1].index(",") :]
    path.write_text("\n".join(lines) + "\n")
    assert "feature column 'mean_radius' is not numeric" in _load_error(valuation_evaluator, task_copy)


def test_it_rejects_a_missing_feature(valuation_evaluator: Evaluator[Any, Any], task_copy: Path) -> None:
    path = task_copy / "pairs" / "clean" / "B.csv"
    lines = path.read_text().splitlines()
    lines[1] = lines[1][lines[1].index(",") :]
    path.write_text("\n".join(lines) + "\n")
    assert "a feature is missing, NaN or infinite" in _load_error(valuation_evaluator, task_copy)


def test_it_rejects_a_fractional_label(valuation_evaluator: Evaluator[Any, Any], task_copy: Path) -> None:
    path = task_copy / "pairs" / "clean" / "A.csv"
    lines = path.read_text().splitlines()
    lines[1] = lines[1].rsplit(",", 1)[0] + ",0.5"
    path.write_text("\n".join(lines) + "\n")
    assert "must hold integer class labels" in _load_error(valuation_evaluator, task_copy)


def test_validation_works_with_only_the_public_files(
    valuation_evaluator: Evaluator[Any, Any], task_copy: Path, write_file: WriteFile
) -> None:
    (task_copy / "test.csv").unlink()
    for pair in SMALL_CONFIG["pairs"]:
        (task_copy / "pairs" / pair / "B_labels.csv").unlink()
    task = _load(valuation_evaluator, task_copy)
    parsed = valuation_evaluator.validate(task, write_file(predictions_csv(dict.fromkeys(SMALL_CONFIG["pairs"], 0.5))))
    with pytest.raises(TaskConfigError):
        valuation_evaluator.evaluate(task, parsed)


def test_check_task_accepts_the_generated_task(valuation_evaluator: Evaluator[Any, Any], small_pairs_dir: Path) -> None:
    assert valuation_evaluator.check_task(_load(valuation_evaluator, small_pairs_dir)) == []


def test_check_task_reports_b_labels_of_another_length(
    valuation_evaluator: Evaluator[Any, Any], task_copy: Path
) -> None:
    path = task_copy / "pairs" / "noisy-labels" / "B_labels.csv"
    path.write_text(path.read_text() + "1\n")
    problems = valuation_evaluator.check_task(_load(valuation_evaluator, task_copy))
    assert len(problems) == 1
    assert "labels for the 60 rows of B.csv" in problems[0]


def test_check_task_reports_a_missing_test_set(valuation_evaluator: Evaluator[Any, Any], task_copy: Path) -> None:
    (task_copy / "test.csv").unlink()
    assert "test.csv: missing task file" in valuation_evaluator.check_task(_load(valuation_evaluator, task_copy))[0]


def test_check_task_reports_a_pair_with_one_class(valuation_evaluator: Evaluator[Any, Any], task_copy: Path) -> None:
    directory = task_copy / "pairs" / "clean"
    lines = (directory / "A.csv").read_text().splitlines()
    (directory / "A.csv").write_text("\n".join([lines[0], *(row.rsplit(",", 1)[0] + ",1" for row in lines[1:])]) + "\n")
    labels = (directory / "B_labels.csv").read_text().splitlines()
    (directory / "B_labels.csv").write_text("\n".join(["label", *(["1"] * (len(labels) - 1))]) + "\n")
    assert "one class only" in valuation_evaluator.check_task(_load(valuation_evaluator, task_copy))[0]


def test_a_pair_s_own_test_set_replaces_the_shared_one(
    valuation_evaluator: Evaluator[Any, Any], task_copy: Path
) -> None:
    shared = task_copy / "test.csv"
    lines = shared.read_text().splitlines()
    own = task_copy / "pairs" / "clean" / "test.csv"
    own.write_text("\n".join(lines[:3]) + "\n")  # two rows
    actual = _load(valuation_evaluator, task_copy).actual_accuracies()
    assert actual["clean"] in (0.0, 0.5, 1.0)
