"""budget-cleaning: config validation, DCBench's loading rules, and the organizer's file faults."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from evaluators import Evaluator, TaskConfigError
from evaluators.budget_cleaning.data import clear_list, load_artifact, parse_cell

CONFIG = {"budget": 0.4, "model": "logreg"}


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({}, "config.budget must be a fraction of the training rows, 0 < budget <= 1, got None"),
        ({"budget": True}, "got True"),
        ({"budget": 0}, "got 0"),
        ({"budget": 1.5}, "got 1.5"),
        ({"budget": "0.2"}, "got '0.2'"),
        ({"budget": 0.2, "model": "randomf"}, "config.model must be one of logreg, got 'randomf'"),
        ({"budget": 0.2, "seed": 1}, "unexpected config key(s) seed"),
    ],
)
def test_validate_config_rejects_a_bad_config(
    cleaning_evaluator: Evaluator[Any, Any], config: dict[str, Any], message: str
) -> None:
    with pytest.raises(TaskConfigError) as raised:
        cleaning_evaluator.validate_config(config)
    assert message in str(raised.value)


def test_validate_config_fills_in_the_model(cleaning_evaluator: Evaluator[Any, Any]) -> None:
    assert cleaning_evaluator.validate_config({"budget": 1}) == {"budget": 1.0, "model": "logreg"}


def test_the_budget_is_int_of_budget_times_rows_as_in_the_original(reference_task: Any) -> None:
    assert reference_task.config.max_selected(300) == 120  # 0.4 * 300 = 120.00000000000001
    assert reference_task.config.max_selected(7) == 2


def test_cells_are_parsed_as_dcbench_does() -> None:
    assert parse_cell("[5.43, 0.43, 0.0]") == [5.43, 0.43, 0.0]
    assert parse_cell('["green", "red"]') == ["green", "red"]
    assert parse_cell("green") == "green"
    assert parse_cell("1.5") == 1.5
    assert parse_cell(2.0) == 2.0
    assert clear_list([1, 2]) is None
    assert clear_list("red") == "red"


def test_a_numeric_column_with_dirty_cells_is_numeric_once_they_are_cleared(tmp_path: Path) -> None:
    path = tmp_path / "X.csv"
    pd.DataFrame({"f0": ["[1.5, 15.0]", "2.5", "3.5"], "color": ["red", '["red", "blue"]', "blue"]}).to_csv(path)
    loaded = load_artifact(path)
    assert loaded.loc[0, "f0"] == [1.5, 15.0]
    assert loaded.loc[1, "f0"] == 2.5
    cleared = loaded.map(clear_list)
    assert list(cleared.select_dtypes(include="number").columns) == ["f0"]
    assert cleared["color"].isna().tolist() == [False, True, False]


def test_ids_are_the_first_column_as_written(cleaning_evaluator: Evaluator[Any, Any], case_copy: Path) -> None:
    for name in ("X_train_dirty.csv", "X_train_clean.csv", "y_train.csv"):
        path = case_copy / name
        lines = path.read_text().splitlines()
        path.write_text("\n".join([lines[0], *(f"r{line}" for line in lines[1:])]) + "\n")
    task = cleaning_evaluator.load_task(case_copy, CONFIG)
    assert task.ids[:3] == ("r0", "r1", "r2")
    assert task.row_of["r4"] == 4


def _break(task_dir: Path, name: str, content: str) -> None:
    (task_dir / name).write_text(content)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("y_train.csv", ",y\n0,1\n1,0\n", "y_train.csv: 2 rows, but X_train_dirty.csv has 300"),
        ("y_val.csv", ",y,z\n0,1,1\n", "a label file has exactly one column besides the index, found 2"),
        ("X_val.csv", ",f0,f1\n0,1.0,2.0\n", "its columns ['f0', 'f1'] differ from those of X_train_dirty.csv"),
        ("X_val.csv", ',f0,f1,f2,color\n0,"[1.0, 2.0]",1,1,red\n', "X_val.csv: holds lists"),
        ("X_train_dirty.csv", ",f0\n", "has no row"),
        ("X_train_dirty.csv", "", "cannot be read as CSV"),
        ("y_train.csv", "", "cannot be read as CSV"),
    ],
)
def test_load_task_rejects_bad_public_files(
    cleaning_evaluator: Evaluator[Any, Any], case_copy: Path, name: str, content: str, message: str
) -> None:
    _break(case_copy, name, content)
    with pytest.raises(TaskConfigError) as raised:
        cleaning_evaluator.load_task(case_copy, CONFIG)
    assert message in str(raised.value)


def test_load_task_rejects_a_repeated_row_id(cleaning_evaluator: Evaluator[Any, Any], case_copy: Path) -> None:
    path = case_copy / "X_train_dirty.csv"
    lines = path.read_text().splitlines()
    lines[2] = "0" + lines[2][1:]
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(TaskConfigError, match="appears more than once"):
        cleaning_evaluator.load_task(case_copy, CONFIG)


def test_load_task_rejects_a_missing_public_file(cleaning_evaluator: Evaluator[Any, Any], case_copy: Path) -> None:
    (case_copy / "X_val.csv").unlink()
    with pytest.raises(TaskConfigError, match=r"X_val\.csv: missing task file"):
        cleaning_evaluator.load_task(case_copy, CONFIG)


def test_load_task_reads_no_hidden_file(cleaning_evaluator: Evaluator[Any, Any], case_copy: Path) -> None:
    for name in ("X_train_clean.csv", "X_test.csv", "y_test.csv"):
        (case_copy / name).unlink()
    task = cleaning_evaluator.load_task(case_copy, CONFIG)
    assert task.n_train == 300


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("X_test.csv", ',f0,f1,f2,color\n0,"[1.0, 2.0]",1,1,red\n', "X_test.csv: holds lists"),
        ("X_test.csv", ",f0,f1,f2\n0,1,1,1\n", "differ from those of X_train_dirty.csv"),
        ("y_test.csv", ",y\n0,1\n", "y_test.csv: 1 rows, but X_test.csv has 400"),
        ("X_train_clean.csv", ",f0,f1,f2,color\n0,1,1,1,red\n", "its index differs from that of X_train_dirty.csv"),
    ],
)
def test_check_task_reports_bad_hidden_files(
    cleaning_evaluator: Evaluator[Any, Any], case_copy: Path, name: str, content: str, message: str
) -> None:
    _break(case_copy, name, content)
    (problem,) = cleaning_evaluator.check_task(cleaning_evaluator.load_task(case_copy, CONFIG))
    assert message in problem


def test_check_task_reports_a_test_label_the_training_labels_lack(
    cleaning_evaluator: Evaluator[Any, Any], case_copy: Path
) -> None:
    labels = pd.read_csv(case_copy / "y_test.csv", index_col=0)
    labels.iloc[0, 0] = 7
    labels.to_csv(case_copy / "y_test.csv")
    (problem,) = cleaning_evaluator.check_task(cleaning_evaluator.load_task(case_copy, CONFIG))
    assert "cannot go through the fixed pipeline" in problem


def test_check_task_reports_a_single_training_class(cleaning_evaluator: Evaluator[Any, Any], case_copy: Path) -> None:
    labels = pd.read_csv(case_copy / "y_train.csv", index_col=0)
    labels.iloc[:, 0] = 1
    labels.to_csv(case_copy / "y_train.csv")
    (problem,) = cleaning_evaluator.check_task(cleaning_evaluator.load_task(case_copy, CONFIG))
    assert "y_train.csv has a single class" in problem
