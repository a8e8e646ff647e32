"""budget-cleaning private splits: test rows as units, stratified by label, every metric per side."""

from __future__ import annotations

import csv
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from evaluators import EvaluationResult, Evaluator, TaskConfigError
from evaluators.budget_cleaning.synthetic import baseline_selections
from evaluators.budget_cleaning.task import CleaningTask
from evaluators.cli import main
from evaluators.splits import SplitConfig, partition

WriteFile = Callable[[str, "str | bytes"], Path]
DEMO_CONFIG = {"budget": 0.2, "model": "logreg"}
SPLIT_CONFIG = {**DEMO_CONFIG, "private_fraction": 0.5, "split_seed": 1}
CONFIG = {"budget": 0.4, "model": "logreg"}


def _test_rows(task_dir: Path) -> tuple[list[str], list[str], list[str], list[str]]:
    """The X_test.csv and y_test.csv lines (headers first), with each row's id and label."""
    x_lines = (task_dir / "X_test.csv").read_text().splitlines()
    y_lines = (task_dir / "y_test.csv").read_text().splitlines()
    ids = [row[0] for row in csv.reader(x_lines[1:])]
    labels = [row[1] for row in csv.reader(y_lines[1:])]
    assert len(ids) == len(labels) == len(x_lines) - 1
    return x_lines, y_lines, ids, labels


def _private(task_dir: Path) -> np.ndarray:
    _, _, ids, labels = _test_rows(task_dir)
    return np.array(partition(ids, split=SplitConfig(0.5, 1), strata=labels))


def _only_rows(task_dir: Path, rows: np.ndarray, out: Path) -> Path:
    """A copy of the task whose test split holds only `rows`: the side scored as a task of its own."""
    shutil.copytree(task_dir, out)
    x_lines, y_lines, _, _ = _test_rows(task_dir)
    kept = [index + 1 for index in np.flatnonzero(rows)]
    (out / "X_test.csv").write_text("\n".join([x_lines[0], *(x_lines[i] for i in kept)]) + "\n")
    (out / "y_test.csv").write_text("\n".join([y_lines[0], *(y_lines[i] for i in kept)]) + "\n")
    return out


def _score(
    evaluator: Evaluator[Any, Any], task_dir: Path, config: dict[str, Any], submission: Path
) -> EvaluationResult:
    task = evaluator.load_task(task_dir, evaluator.validate_config(config))
    return evaluator.evaluate(task, evaluator.validate(task, submission))


@pytest.fixture(scope="module")
def selection_file(synthetic_task_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cleaning_splits") / "selection.csv"
    path.write_text("\n".join(["id", *baseline_selections(synthetic_task_dir, seed=0)["most-dirty-first"]]) + "\n")
    return path


def test_without_split_keys_or_with_fraction_0_the_config_and_result_are_todays(
    cleaning_evaluator: Evaluator[Any, Any], synthetic_task_dir: Path, selection_file: Path
) -> None:
    assert cleaning_evaluator.validate_config(CONFIG) == CONFIG
    assert cleaning_evaluator.validate_config({**CONFIG, "private_fraction": 0.0, "split_seed": 9}) == CONFIG
    today = _score(cleaning_evaluator, synthetic_task_dir, DEMO_CONFIG, selection_file)
    zero = _score(cleaning_evaluator, synthetic_task_dir, {**DEMO_CONFIG, "private_fraction": 0}, selection_file)
    assert zero == today
    assert zero.splits == {}
    assert "sealed_charts" not in zero.details


def test_a_split_is_stored_in_the_normalised_config(cleaning_evaluator: Evaluator[Any, Any]) -> None:
    assert cleaning_evaluator.validate_config(SPLIT_CONFIG) == {**DEMO_CONFIG, "private_fraction": 0.5, "split_seed": 1}


def test_each_side_scores_as_a_task_of_its_test_rows_alone(
    cleaning_evaluator: Evaluator[Any, Any], synthetic_task_dir: Path, selection_file: Path, tmp_path: Path
) -> None:
    today = _score(cleaning_evaluator, synthetic_task_dir, DEMO_CONFIG, selection_file)
    split = _score(cleaning_evaluator, synthetic_task_dir, SPLIT_CONFIG, selection_file)
    assert (split.primary, split.metrics) == (today.primary, today.metrics)
    private = _private(synthetic_task_dir)
    for side, rows in (("public", ~private), ("private", private)):
        alone = _score(
            cleaning_evaluator, _only_rows(synthetic_task_dir, rows, tmp_path / side), DEMO_CONFIG, selection_file
        )
        assert split.splits[side].metrics == alone.metrics
        assert split.splits[side].primary == alone.primary
    assert split.splits["public"].metrics["acc_val_gapclosed"] == today.metrics["acc_val_gapclosed"]
    assert split.splits["public"].primary != split.splits["private"].primary


def test_the_partition_is_stratified_by_label_and_deterministic(
    cleaning_evaluator: Evaluator[Any, Any], synthetic_task_dir: Path
) -> None:
    task: CleaningTask = cleaning_evaluator.load_task(synthetic_task_dir, SPLIT_CONFIG)
    private = task.private_test_rows()
    _, _, ids, labels = _test_rows(synthetic_task_dir)
    np.testing.assert_array_equal(private, _private(synthetic_task_dir))
    for label in set(labels):
        members = np.array([value == label for value in labels])
        assert int(np.sum(private & members)) == int(np.floor(np.sum(members) * 0.5 + 0.5))
        assert np.any(~private & members)
    shuffled = partition(ids[::-1], split=SplitConfig(0.5, 1), strata=labels[::-1])
    assert shuffled[::-1] == private.tolist()
    assert task.private_test_rows() is private
    other: CleaningTask = cleaning_evaluator.load_task(synthetic_task_dir, {**SPLIT_CONFIG, "split_seed": 3})
    assert not np.array_equal(other.private_test_rows(), private)


def test_with_a_split_the_visible_charts_show_the_public_test_rows_only(
    cleaning_evaluator: Evaluator[Any, Any], synthetic_task_dir: Path, selection_file: Path
) -> None:
    today = _score(cleaning_evaluator, synthetic_task_dir, DEMO_CONFIG, selection_file)
    split = _score(cleaning_evaluator, synthetic_task_dir, SPLIT_CONFIG, selection_file)
    public = split.splits["public"].metrics
    charts = {(chart["title"], chart["series"]): chart for chart in split.details["charts"]}
    test = charts[("Accuracy of the three models", "test (public part)")]
    assert test["y"] == [public["acc_test_dirty"], public["acc_test_solution"], public["acc_test_clean"]]
    gap = charts[("Share of the accuracy gap closed", "")]
    assert gap["x"] == ["validation", "test (public part)"]
    assert gap["y"] == [public["acc_val_gapclosed"], public["acc_test_gapclosed"]]
    assert ("Accuracy of the three models", "test") not in charts
    sealed = {(chart["title"], chart["series"]): chart for chart in split.details["sealed_charts"]}
    whole = {(chart["title"], chart["series"]): chart for chart in today.details["charts"]}
    assert (
        sealed[("Accuracy of the three models", "test (whole)")]["y"]
        == whole[("Accuracy of the three models", "test")]["y"]
    )
    visible = {key: value for key, value in split.details.items() if key not in {"sealed", "sealed_charts"}}
    assert {key: value for key, value in visible.items() if key != "charts"} == {
        key: value for key, value in today.details.items() if key != "charts"
    }
    _, _, ids, _ = _test_rows(synthetic_task_dir)
    assert all(len(chart["x"]) <= 3 for chart in visible["charts"])
    assert not set(json.dumps(visible).split('"')) & set(ids)


def test_a_bad_fraction_or_key_names_the_key_and_the_rule(cleaning_evaluator: Evaluator[Any, Any]) -> None:
    with pytest.raises(TaskConfigError, match=r"config\.private_fraction must be at least 0 and below 1"):
        cleaning_evaluator.validate_config({**CONFIG, "private_fraction": -0.1})
    with pytest.raises(TaskConfigError, match=r"config\.private_fraction must be a number"):
        cleaning_evaluator.validate_config({**CONFIG, "private_fraction": True})
    with pytest.raises(TaskConfigError, match="allowed: budget, model, private_fraction, split_seed"):
        cleaning_evaluator.validate_config({**CONFIG, "seed": 1})


def test_check_task_reports_a_test_class_too_small_to_split(
    cleaning_evaluator: Evaluator[Any, Any], synthetic_task_dir: Path, selection_file: Path, tmp_path: Path
) -> None:
    _, _, _, labels = _test_rows(synthetic_task_dir)
    rare = sorted(set(labels))[0]
    seen = False
    keep = []
    for label in labels:
        keep.append(label != rare or not seen)
        seen = seen or label == rare
    copy = _only_rows(synthetic_task_dir, np.array(keep), tmp_path / "task")
    task = cleaning_evaluator.load_task(copy, SPLIT_CONFIG)
    problems = cleaning_evaluator.check_task(task)
    expected = f"config.private_fraction 0.5: class {rare!r} has 1 test row(s), so one side of the split would hold"
    assert any(problem.startswith(expected) and "(public 1, private 0)" in problem for problem in problems)
    with pytest.raises(TaskConfigError, match=f"class {rare!r} has 1 test row"):
        cleaning_evaluator.evaluate(task, cleaning_evaluator.validate(task, selection_file))


def test_the_offline_cli_prints_both_sides(
    synthetic_task_dir: Path, selection_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    copy = tmp_path / "task"
    shutil.copytree(synthetic_task_dir, copy)
    (copy / "task.yaml").write_text(yaml.safe_dump({"benchmark": "budget-cleaning", "config": SPLIT_CONFIG}))
    assert main(["score", "--task", str(copy), "--submission", str(selection_file)]) == 0
    output = json.loads(capsys.readouterr().out)
    assert set(output) == {"primary", "metrics", "splits"}
    assert set(output["splits"]) == {"public", "private"}
    assert set(output["splits"]["public"]["metrics"]) == set(output["metrics"])
    assert output["splits"]["private"]["primary"] == output["splits"]["private"]["metrics"]["acc_test_gapclosed"]


def test_check_task_and_evaluate_refuse_a_side_where_the_clean_and_dirty_model_tie(
    cleaning_evaluator: Evaluator[Any, Any], synthetic_task_dir: Path, selection_file: Path
) -> None:
    # On the demo's private half under seed 5 both reference models are right on 92% of the rows.
    task = cleaning_evaluator.load_task(synthetic_task_dir, {**SPLIT_CONFIG, "split_seed": 5})
    assert cleaning_evaluator.check_task(task) == [
        "config.private_fraction 0.5: on the private test rows the clean and the dirty model have the same "
        "accuracy (0.920000): the gap closed would divide by zero; change split_seed or private_fraction"
    ]
    with pytest.raises(TaskConfigError, match="on the private test rows the clean and the dirty model"):
        cleaning_evaluator.evaluate(task, cleaning_evaluator.validate(task, selection_file))
    assert cleaning_evaluator.check_task(cleaning_evaluator.load_task(synthetic_task_dir, SPLIT_CONFIG)) == []
