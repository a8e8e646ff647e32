"""debugging-vision: public and private splits of the test images (config, partition, scores, details, CLI)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from evaluators.base import EvaluationResult, TaskConfigError
from evaluators.cli import main
from evaluators.debugging_vision.evaluator import DebuggingVisionEvaluator
from evaluators.debugging_vision.task import DebuggingTask, private_test_rows, split_units
from evaluators.splits import SplitConfig, partition
from evaluators.taskdir import TASK_FILE

WriteDirectory = Callable[[Mapping[str, str | bytes]], Path]
DATASETS = ("01g317", "09j2d")
SPLIT = {"private_fraction": 0.5, "split_seed": 7}
# Rows 0..39 fix every label; a shorter list in another order makes the two datasets' curves differ.
RANKINGS = {"01g317_m.txt": "".join(f"{row}\n" for row in range(40)), "09j2d_m.txt": "3\n9\n1\n12\n30\n"}


def _with_config(source: Path, target: Path, extra: Mapping[str, Any]) -> Path:
    """A copy of the task directory `source` whose config has `extra` added."""
    shutil.copytree(source, target)
    task_file = target / TASK_FILE
    document = yaml.safe_load(task_file.read_text())
    document["config"].update(extra)
    task_file.write_text(yaml.safe_dump(document))
    return target


def _keep_test_rows(task_dir: Path, task: DebuggingTask, keep: Mapping[str, np.ndarray]) -> None:
    """Rewrite each dataset's test parquet (same name) with only the rows where `keep[data_id]` is True."""
    for data_id in task.config.datasets:
        path = task_dir / task.config.test_file(data_id)
        pq.write_table(pq.read_table(path).filter(pa.array(keep[data_id])), path)


@pytest.fixture(scope="module")
def split_task_dir(small_task_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _with_config(small_task_dir, tmp_path_factory.mktemp("split") / "task", SPLIT)


@pytest.fixture(scope="module")
def split_task(split_task_dir: Path, load_task: Callable[[Path], DebuggingTask]) -> DebuggingTask:
    return load_task(split_task_dir)


@pytest.fixture(scope="module")
def submission_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("submission")
    for name, text in RANKINGS.items():
        (directory / name).write_text(text)
    return directory


def _evaluate(evaluator: DebuggingVisionEvaluator, task: DebuggingTask, submission: Path) -> EvaluationResult:
    return evaluator.evaluate(task, evaluator.validate(task, submission))


@pytest.fixture(scope="module")
def today(evaluator: DebuggingVisionEvaluator, small_task: DebuggingTask, submission_dir: Path) -> EvaluationResult:
    return _evaluate(evaluator, small_task, submission_dir)


@pytest.fixture(scope="module")
def split_result(
    evaluator: DebuggingVisionEvaluator, split_task: DebuggingTask, submission_dir: Path
) -> EvaluationResult:
    return _evaluate(evaluator, split_task, submission_dir)


def test_a_config_without_a_split_or_with_fraction_0_is_stored_as_today(evaluator: DebuggingVisionEvaluator) -> None:
    base = {"datasets": ["a"]}
    today = evaluator.validate_config(base)
    assert set(today) == {"datasets", "noise_level", "train_size", "test_size", "val_size"}
    assert evaluator.validate_config({**base, "private_fraction": 0, "split_seed": 3}) == today
    assert evaluator.validate_config({**base, **SPLIT}) == {**today, "private_fraction": 0.5, "split_seed": 7}


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        ({"private_fraction": 1}, "config.private_fraction must be at least 0 and below 1"),
        ({"private_fraction": -0.1}, "config.private_fraction must be at least 0 and below 1"),
        ({"private_fraction": "half"}, "config.private_fraction must be a number"),
        ({"split_seed": 1.5}, "config.split_seed must be an integer"),
        ({"privat_fraction": 0.5}, "unexpected config key(s) privat_fraction; allowed: datasets, noise_level"),
    ],
)
def test_bad_split_settings_name_the_key_and_the_rule(
    evaluator: DebuggingVisionEvaluator, extra: dict[str, Any], words: str
) -> None:
    with pytest.raises(TaskConfigError) as caught:
        evaluator.validate_config({"datasets": ["a"], **extra})
    assert words in str(caught.value)
    if "unexpected" in words:
        assert "private_fraction" in str(caught.value) and "split_seed" in str(caught.value)


def test_fraction_0_gives_exactly_todays_result(
    evaluator: DebuggingVisionEvaluator,
    small_task_dir: Path,
    tmp_path: Path,
    load_task: Callable[[Path], DebuggingTask],
    submission_dir: Path,
    today: EvaluationResult,
) -> None:
    zero = _evaluate(
        evaluator, load_task(_with_config(small_task_dir, tmp_path / "t", {"private_fraction": 0})), submission_dir
    )
    assert zero == today
    assert zero.splits == {}
    assert "public_curves" not in today.details["sealed"]


def test_the_whole_set_scores_do_not_move_with_a_split(split_result: EvaluationResult, today: EvaluationResult) -> None:
    assert (split_result.primary, split_result.metrics) == (today.primary, today.metrics)
    assert split_result.details["sealed"]["curves"] == today.details["sealed"]["curves"]
    assert split_result.details["sealed"]["datasets"] == today.details["datasets"]


@pytest.mark.parametrize("side", ["public", "private"])
def test_each_side_scores_as_a_task_holding_only_its_test_images(
    evaluator: DebuggingVisionEvaluator,
    split_task: DebuggingTask,
    small_task_dir: Path,
    tmp_path: Path,
    load_task: Callable[[Path], DebuggingTask],
    submission_dir: Path,
    split_result: EvaluationResult,
    side: str,
) -> None:
    private = {data_id: private_test_rows(split_task, data_id) for data_id in DATASETS}
    keep = {data_id: rows if side == "private" else ~rows for data_id, rows in private.items()}
    subset_dir = _with_config(small_task_dir, tmp_path / side, {})
    _keep_test_rows(subset_dir, split_task, keep)
    alone = _evaluate(evaluator, load_task(subset_dir), submission_dir)
    assert split_result.splits[side].primary == alone.primary
    assert split_result.splits[side].metrics == alone.metrics
    assert set(alone.metrics) == set(split_result.metrics)


def test_the_two_sides_differ_somewhere(split_result: EvaluationResult) -> None:
    # Guards the test above: a split that scored the whole set on each side would pass it only by accident.
    assert split_result.splits["public"].metrics != split_result.splits["private"].metrics


def test_the_partition_is_stratified_by_dataset_and_label(split_task: DebuggingTask) -> None:
    for data_id in DATASETS:
        private = private_test_rows(split_task, data_id)
        labels = split_task.hidden(data_id).test.labels
        for label in (0, 1):
            members = private[labels == label]
            assert 0 < members.sum() < len(members)
            assert abs(int(members.sum()) - len(members) / 2) <= 0.5


def test_the_partition_depends_on_the_seed_and_ids_only(
    split_task: DebuggingTask, split_task_dir: Path, load_task: Callable[[Path], DebuggingTask]
) -> None:
    ids, strata = split_units(split_task, "09j2d")
    assert len(set(ids)) == len(ids) and all(unit.startswith("09j2d/") for unit in ids)
    mask = private_test_rows(split_task, "09j2d").tolist()
    reversed_mask = partition(ids[::-1], split=split_task.config.split, strata=strata[::-1])
    assert reversed_mask[::-1] == mask
    assert private_test_rows(load_task(split_task_dir), "09j2d").tolist() == mask
    assert partition(ids, split=SplitConfig(0.5, seed=8), strata=strata) != mask


def test_visible_details_are_the_public_sides_and_name_no_test_image(
    split_result: EvaluationResult, split_task: DebuggingTask
) -> None:
    details = split_result.details
    public = split_result.splits["public"]
    (bar,) = details["charts"]
    assert bar["y"] == [public.metrics[f"fraction_fixes.{data_id}"] for data_id in DATASETS]
    for data_id in DATASETS:
        row = details["datasets"][data_id]
        assert row["fraction_fixes"] == public.metrics[f"fraction_fixes.{data_id}"]
        assert row["final_accuracy"] == public.metrics[f"final_accuracy.{data_id}"]
    visible = json.dumps({key: value for key, value in details.items() if key not in {"sealed", "sealed_charts"}})
    for data_id in DATASETS:
        assert not [name for name in split_task.hidden(data_id).test.filenames if name in visible]
    assert set(details["sealed"]) == {"curves", "datasets", "public_curves", "private_curves"}


def test_check_task_reports_a_label_too_rare_to_split(
    evaluator: DebuggingVisionEvaluator,
    split_task: DebuggingTask,
    split_task_dir: Path,
    tmp_path: Path,
    load_task: Callable[[Path], DebuggingTask],
) -> None:
    assert evaluator.check_task(split_task) == []
    broken = tmp_path / "broken"
    shutil.copytree(split_task_dir, broken)
    keep = {}
    for data_id in DATASETS:
        labels = split_task.hidden(data_id).test.labels
        keep[data_id] = (labels == 0) | (np.cumsum(labels == 1) == 1)  # every 0, one 1
    _keep_test_rows(broken, split_task, keep)
    problems = evaluator.check_task(load_task(broken))
    assert any(
        "config.private_fraction 0.5: class '09j2d label 1' has 1 test image(s)" in problem
        and "(public 1, private 0)" in problem
        for problem in problems
    )


def test_the_cli_prints_the_whole_set_and_both_sides(
    split_task_dir: Path, submission_dir: Path, split_result: EvaluationResult, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["score", "--task", str(split_task_dir), "--submission", str(submission_dir)]) == 0
    output = json.loads(capsys.readouterr().out)
    assert output["primary"] == split_result.primary
    assert output["splits"] == {side: score.as_dict() for side, score in split_result.splits.items()}
