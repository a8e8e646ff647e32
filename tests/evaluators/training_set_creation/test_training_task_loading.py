"""training-set-creation: the config and the task files (organizer errors are TaskConfigError), check_task."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from evaluators import Evaluator, TaskConfigError
from evaluators.training_set_creation.task import TrainingConfig
from tests.evaluators.training_set_creation.helpers import DIGITS_CONFIG, ROMAN_CONFIG

LABELS = ["a", "b"]


def test_the_config_fills_in_the_defaults(evaluator: Evaluator[Any, Any]) -> None:
    config = evaluator.validate_config({"labels": LABELS, "max_items": 10})
    assert config == {
        "labels": ["a", "b"],
        "max_items": 10,
        "models": ["logreg", "svc", "mlp"],
        "input": "image",
        "allow_new_items": True,
        "image_size": 32,
    }
    assert evaluator.validate_config(config) == config


def test_integer_labels_become_strings(evaluator: Evaluator[Any, Any]) -> None:
    assert evaluator.validate_config({"labels": [0, 1], "max_items": 5, "input": "features"})["labels"] == ["0", "1"]


@pytest.mark.parametrize(
    ("config", "rule"),
    [
        ({"max_items": 5}, "config.labels must be a list of 2 to 1000"),
        ({"labels": ["a"], "max_items": 5}, "config.labels must be a list of 2 to 1000"),
        ({"labels": ["a", "a"], "max_items": 5}, "lists a label twice"),
        ({"labels": ["a", "b,c"], "max_items": 5}, "comma, quote or control character"),
        ({"labels": ["a", " b"], "max_items": 5}, "non-empty string"),
        ({"labels": ["a", True], "max_items": 5}, "non-empty string"),
        ({"labels": LABELS}, "config.max_items must be an integer from 2"),
        ({"labels": LABELS, "max_items": True}, "config.max_items must be an integer"),
        ({"labels": LABELS, "max_items": 1}, "config.max_items must be an integer"),
        ({"labels": LABELS, "max_items": 5, "models": []}, "config.models must be a non-empty list"),
        ({"labels": LABELS, "max_items": 5, "models": ["knn"]}, "config.models must be a non-empty list"),
        ({"labels": LABELS, "max_items": 5, "models": ["svc", "svc"]}, "lists a model twice"),
        ({"labels": LABELS, "max_items": 5, "input": "audio"}, "config.input must be one of image, features"),
        ({"labels": LABELS, "max_items": 5, "input": "features", "image_size": 8}, "applies only to input: image"),
        ({"labels": LABELS, "max_items": 5, "image_size": 2}, "config.image_size must be an integer from 4"),
        ({"labels": LABELS, "max_items": 5, "allow_new_items": "yes"}, "must be true or false"),
        ({"labels": LABELS, "max_items": 5, "budget": 3}, "unexpected config key(s) budget"),
    ],
)
def test_it_rejects_a_bad_config(evaluator: Evaluator[Any, Any], config: dict[str, Any], rule: str) -> None:
    with pytest.raises(TaskConfigError) as raised:
        evaluator.validate_config(config)
    assert rule in str(raised.value)


def test_one_accuracy_metric_per_configured_model_in_order(evaluator: Evaluator[Any, Any]) -> None:
    config = evaluator.validate_config({**ROMAN_CONFIG, "models": ["mlp", "logreg"]})
    specs = evaluator.metric_specs(config)
    assert [spec.name for spec in specs] == ["accuracy.mlp", "accuracy.logreg"]
    assert all(spec.leaderboard_column for spec in specs)
    assert evaluator.primary_metric(config).name == "accuracy"


def test_the_hidden_files_are_declared_hidden(evaluator: Evaluator[Any, Any]) -> None:
    hidden = {rule.pattern for rule in evaluator.data_files if rule.hidden}
    assert hidden == {"test/items.csv", "test/images/*.png"}


def _copy(source: Path, tmp_path: Path) -> Path:
    target = tmp_path / "task"
    shutil.copytree(source, target)
    return target


def _load(evaluator: Evaluator[Any, Any], task_dir: Path, config: dict[str, Any]) -> Any:
    return evaluator.load_task(task_dir, evaluator.validate_config(config))


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("", "empty file"),
        ("item,label\nd0001,1\n", "the header must start with id,label"),
        ("id,label\nd0001,1\n", "a feature task's header is id,label followed by the feature names"),
        ("id,label,x,x\nd1,1,0,0\n", "feature names must be unique"),
        ("id,label,x\nd1,1\n", "line 2: 2 fields, the header has 3"),
        ("id,label,x\nbad id,1,0\n", "line 2: 'bad id' is not a valid id"),
        ("id,label,x\nd1,1,0\nd1,2,0\n", "line 3: the id 'd1' appears twice"),
        ("id,label,x\nd1,eleven,0\n", "line 2: label 'eleven' is not one of the task's labels"),
        ("id,label,x\nd1,1,inf\n", "line 2: x = 'inf' is not a finite number"),
        ("id,label,x\n", "the pool has no item"),
    ],
)
def test_it_rejects_a_malformed_pool_table(
    evaluator: Evaluator[Any, Any], digits_dir: Path, tmp_path: Path, text: str, rule: str
) -> None:
    task_dir = _copy(digits_dir, tmp_path)
    (task_dir / "pool" / "items.csv").write_text(text, encoding="utf-8")
    with pytest.raises(TaskConfigError) as raised:
        _load(evaluator, task_dir, DIGITS_CONFIG)
    assert rule in str(raised.value)


def test_it_rejects_a_missing_pool(evaluator: Evaluator[Any, Any], tmp_path: Path) -> None:
    with pytest.raises(TaskConfigError, match="missing task file"):
        _load(evaluator, tmp_path, DIGITS_CONFIG)


def test_it_rejects_an_image_task_header_with_features(
    evaluator: Evaluator[Any, Any], roman_dir: Path, tmp_path: Path
) -> None:
    task_dir = _copy(roman_dir, tmp_path)
    (task_dir / "pool" / "items.csv").write_text("id,label,x\nr00001,i,0\n", encoding="utf-8")
    with pytest.raises(TaskConfigError, match="an image task's header is exactly id,label"):
        _load(evaluator, task_dir, ROMAN_CONFIG)


def test_check_task_accepts_the_demo_tasks(evaluator: Evaluator[Any, Any], roman: Any, digits: Any) -> None:
    assert evaluator.check_task(roman) == []
    assert evaluator.check_task(digits) == []


def test_check_task_reports_a_test_set_whose_columns_differ(
    evaluator: Evaluator[Any, Any], digits_dir: Path, tmp_path: Path
) -> None:
    task_dir = _copy(digits_dir, tmp_path)
    lines = (task_dir / "test" / "items.csv").read_text(encoding="utf-8").splitlines()
    lines[0] = lines[0].replace("px0_0", "pixel0")
    (task_dir / "test" / "items.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    problems = evaluator.check_task(_load(evaluator, task_dir, DIGITS_CONFIG))
    assert len(problems) == 1
    assert "the feature columns differ" in problems[0]


def test_check_task_reports_an_empty_test_set_and_missing_labels(
    evaluator: Evaluator[Any, Any], digits_dir: Path, tmp_path: Path
) -> None:
    task_dir = _copy(digits_dir, tmp_path)
    lines = (task_dir / "test" / "items.csv").read_text(encoding="utf-8").splitlines()
    (task_dir / "test" / "items.csv").write_text(lines[0] + "\n", encoding="utf-8")
    assert evaluator.check_task(_load(evaluator, task_dir, DIGITS_CONFIG)) == [
        "test/items.csv: the test set has no item"
    ]
    twos = [line for line in lines[1:] if line.split(",")[1] == "2"]
    (task_dir / "test" / "items.csv").write_text("\n".join([lines[0], *twos]) + "\n", encoding="utf-8")
    problems = evaluator.check_task(_load(evaluator, task_dir, DIGITS_CONFIG))
    assert "test/items.csv: the test set has items of fewer than two labels" in problems
    assert "test/items.csv: no test item has the label(s) 0, 1, 3, 4, 5, 6, 7, 8, 9" in problems


def test_the_config_object_round_trips(evaluator: Evaluator[Any, Any]) -> None:
    parsed = TrainingConfig.from_mapping(DIGITS_CONFIG)
    assert parsed.image_size is None
    assert TrainingConfig.from_mapping(parsed.as_dict()) == parsed
