"""debugging-vision: the config, loading the task files, and the organizer checks of `check_task`."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from evaluators import TaskConfigError
from evaluators.debugging_vision.evaluator import DebuggingVisionEvaluator
from evaluators.debugging_vision.task import DebuggingConfig, DebuggingTask
from evaluators.debugging_vision.validation import parse_submission

CopyTask = Callable[[Path], Path]
LoadTask = Callable[[Path], DebuggingTask]
TRAIN = "embeddings/01g317_train_0.3_40.parquet"
GROUND_TRUTH = "data/dataset_01g317_train.csv"


def _config(**changes: Any) -> dict[str, Any]:
    return {"datasets": ["01g317", "09j2d"], **changes}


def test_the_config_fills_in_the_dataperf_defaults() -> None:
    config = DebuggingVisionEvaluator().validate_config({"datasets": ["synC"]})
    assert config == {"datasets": ["synC"], "noise_level": 0.3, "train_size": 300, "test_size": 500, "val_size": 100}
    assert DebuggingVisionEvaluator().validate_config(config) == config


def test_the_noise_level_builds_the_file_name_as_the_reference_prints_it() -> None:
    assert DebuggingConfig.from_mapping(_config()).train_file("01g317") == "embeddings/01g317_train_0.3_300.parquet"
    assert DebuggingConfig.from_mapping(_config(noise_level="0.30")).noise_text == "0.30"
    assert DebuggingConfig.from_mapping(_config(noise_level=1)).noise_text == "1"


@pytest.mark.parametrize(
    ("config", "rule"),
    [
        ({}, "config.datasets is required"),
        (_config(datasets=[]), "list of 1 to"),
        (_config(datasets=["a_b"]), "no '_'"),
        (_config(datasets=["../x"]), "no '_'"),
        (_config(datasets=["timeline"]), "starts with 'time'"),
        (_config(datasets=["a", "a"]), "more than once"),
        (_config(train_size=True), "config.train_size must be an integer"),
        (_config(test_size=0), "config.test_size must be an integer"),
        (_config(val_size="100"), "config.val_size must be an integer"),
        (_config(noise_level=float("nan")), "finite"),
        (_config(noise_level="0.3/x"), "cannot be part of a file name"),
        (_config(noise_level=[0.3]), "number or a short text"),
        (_config(seed=1), "unexpected config key(s) seed"),
    ],
)
def test_it_rejects_a_bad_config(config: dict[str, Any], rule: str) -> None:
    with pytest.raises(TaskConfigError) as raised:
        DebuggingVisionEvaluator().validate_config(config)
    assert rule in str(raised.value)


def test_the_public_case_has_no_organizer_problem(
    evaluator: DebuggingVisionEvaluator, public_task: DebuggingTask
) -> None:
    assert evaluator.check_task(public_task) == []


def test_validation_needs_no_hidden_file(
    small_task_dir: Path, copy_task: CopyTask, load_task: LoadTask, tmp_path: Path
) -> None:
    public = copy_task(small_task_dir)
    shutil.rmtree(public / "data")
    for path in public.glob("embeddings/*_test_*.parquet"):
        path.unlink()
    task = load_task(public)
    submission = tmp_path / "submission"
    submission.mkdir()
    for data_id in task.config.datasets:
        (submission / f"{data_id}_m.txt").write_text("0\n1\n")
    assert len(parse_submission(task, submission).files) == 2


def test_it_rejects_a_missing_training_file(small_task_dir: Path, copy_task: CopyTask, load_task: LoadTask) -> None:
    task_dir = copy_task(small_task_dir)
    (task_dir / TRAIN).unlink()
    with pytest.raises(TaskConfigError, match="missing task file"):
        load_task(task_dir)


def _rewrite_train(task_dir: Path, change: Callable[[pa.Table], pa.Table]) -> None:
    table = pq.read_table(task_dir / TRAIN)
    pq.write_table(change(table), task_dir / TRAIN)


@pytest.mark.parametrize(
    ("change", "rule"),
    [
        (lambda t: t.slice(0, 39), "has 39 rows, but config.train_size is 40"),
        (lambda t: t.set_column(2, "label", pa.array([2] * 40)), "must hold only 0 and 1"),
        (lambda t: t.set_column(2, "label", pa.array([0.0] * 40)), "must hold integers 0 or 1"),
        (lambda t: t.set_column(1, "encoding", pa.array([[0.5] * 16] * 40)), "vector of 2048 numbers"),
        (lambda t: t.set_column(0, "filename", pa.array(list(range(40)))), "must hold strings"),
        (lambda t: t.drop_columns(["label"]), "cannot be read as parquet"),
    ],
    ids=["rows", "label-values", "label-type", "dimension", "filename-type", "column"],
)
def test_it_rejects_a_malformed_training_file(
    small_task_dir: Path, copy_task: CopyTask, load_task: LoadTask, change: Callable[[pa.Table], pa.Table], rule: str
) -> None:
    task_dir = copy_task(small_task_dir)
    _rewrite_train(task_dir, change)
    with pytest.raises(TaskConfigError) as raised:
        load_task(task_dir)
    assert rule in str(raised.value)


def _problems(task_dir: Path, load_task: LoadTask) -> list[str]:
    return DebuggingVisionEvaluator().check_task(load_task(task_dir))


def test_check_task_reports_a_missing_validation_file(
    small_task_dir: Path, copy_task: CopyTask, load_task: LoadTask
) -> None:
    task_dir = copy_task(small_task_dir)
    (task_dir / "embeddings/09j2d_val_20.parquet").unlink()
    assert any("09j2d_val_20.parquet: missing" in problem for problem in _problems(task_dir, load_task))


def test_check_task_reports_an_image_missing_from_the_ground_truth(
    small_task_dir: Path, copy_task: CopyTask, load_task: LoadTask
) -> None:
    task_dir = copy_task(small_task_dir)
    lines = (task_dir / GROUND_TRUTH).read_text().splitlines()
    (task_dir / GROUND_TRUTH).write_text("\n".join(lines[:-1]) + "\n")
    assert any("has no row for ImageID" in problem for problem in _problems(task_dir, load_task))


def test_check_task_reports_a_ground_truth_label_that_is_not_binary(
    small_task_dir: Path, copy_task: CopyTask, load_task: LoadTask
) -> None:
    task_dir = copy_task(small_task_dir)
    lines = (task_dir / GROUND_TRUTH).read_text().splitlines()
    lines[3] = lines[3].rsplit(",", 1)[0] + ",yes"
    (task_dir / GROUND_TRUTH).write_text("\n".join(lines) + "\n")
    assert any("row 4: hv_label must be 0 or 1" in problem for problem in _problems(task_dir, load_task))


def test_check_task_reports_conflicting_duplicates_in_the_ground_truth(
    small_task_dir: Path, copy_task: CopyTask, load_task: LoadTask
) -> None:
    task_dir = copy_task(small_task_dir)
    text = (task_dir / GROUND_TRUTH).read_text()
    image_id, label = text.splitlines()[1].split(",")
    (task_dir / GROUND_TRUTH).write_text(text + f"{image_id},{1 - int(label)}\n")
    assert any("listed twice with different labels" in problem for problem in _problems(task_dir, load_task))


def test_check_task_reports_a_dataset_without_label_noise(
    small_task_dir: Path, copy_task: CopyTask, load_task: LoadTask
) -> None:
    task_dir = copy_task(small_task_dir)
    truth = dict(line.split(",") for line in (task_dir / GROUND_TRUTH).read_text().splitlines()[1:])
    _rewrite_train(
        task_dir, lambda t: t.set_column(2, "label", pa.array([int(truth[name]) for name in t.column(0).to_pylist()]))
    )
    assert any("no training label differs" in problem for problem in _problems(task_dir, load_task))


def test_check_task_reports_a_test_set_of_another_size(
    small_task_dir: Path, copy_task: CopyTask, load_task: LoadTask
) -> None:
    task_dir = copy_task(small_task_dir)
    path = task_dir / "embeddings/01g317_test_60.parquet"
    pq.write_table(pq.read_table(path).slice(0, 50), path)
    assert any("has 50 rows, config.test_size is 60" in problem for problem in _problems(task_dir, load_task))


def test_the_training_features_are_float32_rows_in_file_order(small_task: DebuggingTask) -> None:
    train = small_task.train["01g317"]
    table = pq.read_table(train.path)
    assert train.features.dtype == np.float32
    assert train.features.flags.c_contiguous
    assert np.array_equal(train.features[7], np.asarray(table.column("encoding")[7].as_py(), dtype=np.float32))
    assert train.filenames[7] == table.column("filename")[7].as_py()
