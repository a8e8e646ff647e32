"""slice-discovery: organizers add newly discovered slices to the ground truth, and the task rescores with them."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from evaluators import Evaluator, SubmissionError, TaskConfigError
from evaluators.slice_discovery.ground_truth import (
    add_ground_truth_slice,
    config_with_file_slices,
    slice_from_submission,
)

MakeTask = Callable[..., Path]
WriteFile = Callable[[str, "str | bytes"], Path]
IDS = [f"e{index:02d}" for index in range(8)]
SUBMISSION = "id,alpha,beta\n" + "".join(f"e{i:02d},{i / 10},{1 - i / 10}\n" for i in range(8))


@pytest.fixture
def task_dir(make_task: MakeTask) -> Path:
    return make_task(IDS, {"A": IDS[:3]}, slice_order=IDS[::-1])


def test_it_adds_a_column_and_keeps_the_existing_ones_as_written(task_dir: Path) -> None:
    before = (task_dir / "test_slices.csv").read_text().splitlines()
    path = add_ground_truth_slice(task_dir, name="late", member_ids={"e06", "e07"})
    after = path.read_text().splitlines()
    assert after[0] == "id,A,late"
    assert [line.rsplit(",", 1)[0] for line in after] == ["id,A", *before[1:]]
    assert after[1:3] == ["e07,0,1", "e06,0,1"]
    assert [line.rsplit(",", 1)[1] for line in after[3:]] == ["0"] * 6
    assert not [p for p in task_dir.iterdir() if p.name.startswith(".")]  # no temporary file left behind


def test_the_task_rescores_with_the_new_slice(
    slice_evaluator: Evaluator[Any, Any], task_dir: Path, write_file: WriteFile
) -> None:
    members = slice_from_submission(task_dir, write_file("s.csv", SUBMISSION), "alpha", threshold=0.55)
    assert members == {"e06", "e07"}
    add_ground_truth_slice(task_dir, name="late", member_ids=members)
    config = config_with_file_slices({"n_pred_slices": 2}, task_dir)
    assert config == {"n_pred_slices": 2, "slices": ["A", "late"]}
    task = slice_evaluator.load_task(task_dir, slice_evaluator.validate_config(config))
    assert slice_evaluator.check_task(task) == []
    result = slice_evaluator.evaluate(task, slice_evaluator.validate(task, write_file("s.csv", SUBMISSION)))
    assert result.metrics["average_precision.late"] == 1.0
    assert result.metrics["pred_slice_idx.late"] == 0
    assert {spec.name for spec in slice_evaluator.metric_specs(config)} == set(result.metrics)


def test_slice_from_submission_takes_a_column_by_position_and_complements(
    task_dir: Path, write_file: WriteFile
) -> None:
    path = write_file("s.csv", SUBMISSION)
    assert slice_from_submission(task_dir, path, 1) == {"e00", "e01", "e02", "e03", "e04"}  # 1 - i/10 > 0.5
    assert slice_from_submission(task_dir, path, "beta", complement=True) == {"e05", "e06", "e07"}
    assert slice_from_submission(task_dir, path, 0, threshold=0.5, complement=True) == {f"e0{i}" for i in range(6)}


def test_slice_from_submission_reads_parquet_with_any_number_of_columns(task_dir: Path, tmp_path: Path) -> None:
    path = tmp_path / "three.bin"
    table = pa.table({"id": IDS, "a": [0.0] * 8, "b": [0.9] * 7 + [0.1], "c": [0.0] * 8})
    pq.write_table(table, path)
    assert slice_from_submission(task_dir, path, "b") == set(IDS[:7])


def test_slice_from_submission_rejects_an_unknown_column(task_dir: Path, write_file: WriteFile) -> None:
    with pytest.raises(TaskConfigError, match="no score column 'gamma'"):
        slice_from_submission(task_dir, write_file("s.csv", SUBMISSION), "gamma")
    with pytest.raises(TaskConfigError, match="column 2 is out of range"):
        slice_from_submission(task_dir, write_file("s.csv", SUBMISSION), 2)


def test_slice_from_submission_rejects_an_invalid_submission(task_dir: Path, write_file: WriteFile) -> None:
    with pytest.raises(SubmissionError, match="is not an example"):
        slice_from_submission(task_dir, write_file("s.csv", SUBMISSION.replace("e03", "zz")), "alpha")


@pytest.mark.parametrize(
    ("name", "members", "message"),
    [
        ("A", {"e05"}, "a slice named 'A' exists already"),
        ("id", {"e05"}, "may not be called 'id'"),
        ("", {"e05"}, "is empty"),
        (" padded", {"e05"}, "leading or trailing blanks"),
        ("tab\there", {"e05"}, "control characters"),
        ("new", set(), "has no member"),
        ("new", {"e05", "nobody"}, "1 member id(s) are not examples of test_slices.csv, e.g. ['nobody']"),
        ("new", set(IDS), "holds every example"),
        ("new", {"e00", "e01", "e02"}, "exactly the members of the slice 'A'"),
        ("new", "e05", "not a single string"),
    ],
)
def test_it_refuses_a_slice_that_breaks_a_rule_and_leaves_the_file_untouched(
    task_dir: Path, name: str, members: Any, message: str
) -> None:
    before = (task_dir / "test_slices.csv").read_bytes()
    with pytest.raises(TaskConfigError) as raised:
        add_ground_truth_slice(task_dir, name=name, member_ids=members)
    assert message in str(raised.value)
    assert (task_dir / "test_slices.csv").read_bytes() == before


def test_a_failed_write_leaves_the_old_file_and_no_temporary_file(
    task_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = (task_dir / "test_slices.csv").read_bytes()

    def broken_replace(source: Any, target: Any) -> None:
        raise OSError("disk full")

    monkeypatch.setattr("evaluators.slice_discovery.ground_truth.os.replace", broken_replace)
    with pytest.raises(TaskConfigError, match="cannot be rewritten: disk full"):
        add_ground_truth_slice(task_dir, name="late", member_ids={"e07"})
    assert (task_dir / "test_slices.csv").read_bytes() == before
    assert sorted(path.name for path in task_dir.iterdir()) == ["task.yaml", "test_predictions.csv", "test_slices.csv"]


def test_it_works_on_the_public_reference_case(tmp_path: Path) -> None:
    source = Path(__file__).resolve().parents[3] / "tests/fixtures/reference_cases/slice-discovery/n1000_2slices/task"
    copy = tmp_path / "task"
    shutil.copytree(source, copy)
    add_ground_truth_slice(copy, name="C", member_ids={"ex00001", "ex00002"})
    assert config_with_file_slices({"n_pred_slices": 5}, copy)["slices"] == ["A", "B", "C"]
