"""slice-discovery: public and private splits of the examples (config, partition, scores, details, CLI)."""

from __future__ import annotations

import csv
import json
import shutil
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from evaluators.base import EvaluationResult, Evaluator, TaskConfigError
from evaluators.cli import main
from evaluators.slice_discovery.data import PREDICTIONS_FILE, SLICES_FILE
from evaluators.slice_discovery.synthetic import write_baselines
from evaluators.slice_discovery.task import SliceTask, membership_strata
from evaluators.splits import SplitConfig, partition
from evaluators.taskdir import TASK_FILE, load_task_dir

SPLIT = {"private_fraction": 0.4, "split_seed": 11}
AnyEvaluator = Evaluator[Any, Any]
MakeTask = Callable[..., Path]


def _with_config(source: Path, target: Path, extra: Mapping[str, Any]) -> Path:
    """A copy of the task directory `source` whose config has `extra` added."""
    shutil.copytree(source, target)
    task_file = target / TASK_FILE
    document = yaml.safe_load(task_file.read_text())
    document["config"].update(extra)
    task_file.write_text(yaml.safe_dump(document))
    return target


def _keep_rows(path: Path, ids: set[str]) -> None:
    """Rewrite a CSV file with an id column keeping the header and the rows of `ids`."""
    with path.open(newline="") as handle:
        rows = list(csv.reader(handle))
    with path.open("w", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows([rows[0], *(row for row in rows[1:] if row[0] in ids)])


def _load(evaluator: AnyEvaluator, task_dir: Path) -> SliceTask:
    task: SliceTask = evaluator.load_task(task_dir, evaluator.validate_config(load_task_dir(task_dir).config))
    return task


def _evaluate(evaluator: AnyEvaluator, task: SliceTask, submission: Path) -> EvaluationResult:
    return evaluator.evaluate(task, evaluator.validate(task, submission))


@pytest.fixture(scope="module")
def split_task_dir(small_task_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _with_config(small_task_dir, tmp_path_factory.mktemp("split") / "task", SPLIT)


@pytest.fixture(scope="module")
def split_task(slice_evaluator: AnyEvaluator, split_task_dir: Path) -> SliceTask:
    return _load(slice_evaluator, split_task_dir)


@pytest.fixture(scope="module")
def submission(small_task_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_baselines(small_task_dir, tmp_path_factory.mktemp("baselines"), seed=0)["kmeans-errors"]


@pytest.fixture(scope="module")
def today(slice_evaluator: AnyEvaluator, small_task_dir: Path, submission: Path) -> EvaluationResult:
    return _evaluate(slice_evaluator, _load(slice_evaluator, small_task_dir), submission)


@pytest.fixture(scope="module")
def split_result(slice_evaluator: AnyEvaluator, split_task: SliceTask, submission: Path) -> EvaluationResult:
    return _evaluate(slice_evaluator, split_task, submission)


def test_a_config_without_a_split_or_with_fraction_0_is_stored_as_today(slice_evaluator: AnyEvaluator) -> None:
    base = {"n_pred_slices": 2, "slices": ["A"]}
    assert slice_evaluator.validate_config(base) == base
    assert slice_evaluator.validate_config({**base, "private_fraction": 0.0, "split_seed": 5}) == base
    assert slice_evaluator.validate_config({**base, **SPLIT}) == {**base, **SPLIT}


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        ({"private_fraction": 1.0}, "config.private_fraction must be at least 0 and below 1"),
        ({"private_fraction": True}, "config.private_fraction must be a number"),
        ({"split_seed": -1}, "config.split_seed must be an integer"),
        ({"seed": 1}, "unexpected config key(s) seed; allowed: n_pred_slices, slices, private_fraction, split_seed"),
    ],
)
def test_bad_split_settings_name_the_key_and_the_rule(
    slice_evaluator: AnyEvaluator, extra: dict[str, Any], words: str
) -> None:
    with pytest.raises(TaskConfigError) as caught:
        slice_evaluator.validate_config({"n_pred_slices": 2, **extra})
    assert words in str(caught.value)


def test_fraction_0_gives_exactly_todays_result(
    slice_evaluator: AnyEvaluator, small_task_dir: Path, tmp_path: Path, submission: Path, today: EvaluationResult
) -> None:
    zero_dir = _with_config(small_task_dir, tmp_path / "zero", {"private_fraction": 0})
    zero = _evaluate(slice_evaluator, _load(slice_evaluator, zero_dir), submission)
    assert zero == today
    assert zero.splits == {}
    assert "sealed" not in today.details


def test_the_whole_set_scores_do_not_move_with_a_split(split_result: EvaluationResult, today: EvaluationResult) -> None:
    assert (split_result.primary, split_result.metrics) == (today.primary, today.metrics)
    assert split_result.details["sealed"]["matches"] == today.details["matches"]
    assert split_result.details["sealed_charts"] != []


@pytest.mark.parametrize("side", ["public", "private"])
def test_each_side_scores_as_a_task_holding_only_its_examples(
    slice_evaluator: AnyEvaluator,
    split_task: SliceTask,
    small_task_dir: Path,
    tmp_path: Path,
    submission: Path,
    split_result: EvaluationResult,
    side: str,
) -> None:
    private = split_task.private_rows()
    ids = split_task.ground_truth().truth.ids
    kept = {example_id for example_id, flag in zip(ids, private, strict=True) if flag == (side == "private")}
    subset_dir = _with_config(small_task_dir, tmp_path / side, {})
    for name in (PREDICTIONS_FILE, SLICES_FILE):
        _keep_rows(subset_dir / name, kept)
    subset_submission = tmp_path / "submission.csv"
    shutil.copy(submission, subset_submission)
    _keep_rows(subset_submission, kept)
    alone = _evaluate(slice_evaluator, _load(slice_evaluator, subset_dir), subset_submission)
    assert split_result.splits[side].primary == alone.primary
    assert split_result.splits[side].metrics == alone.metrics
    assert split_result.splits[side].metrics != split_result.metrics


def test_the_partition_is_stratified_by_slice_membership(split_task: SliceTask) -> None:
    truth = split_task.ground_truth().truth
    private = split_task.private_rows()
    for column, name in enumerate(truth.names):
        members = truth.members[:, column]
        assert 0 < private[members].sum() < members.sum(), name
    strata = np.array(membership_strata(truth))
    for stratum in set(strata.tolist()):
        size = int((strata == stratum).sum())
        assert int(private[strata == stratum].sum()) == (0 if size == 1 else min(max(round(0.4 * size), 1), size - 1))


def test_the_partition_depends_on_the_seed_and_ids_only(
    slice_evaluator: AnyEvaluator, split_task: SliceTask, split_task_dir: Path
) -> None:
    truth = split_task.ground_truth().truth
    strata = membership_strata(truth)
    mask = split_task.private_rows().tolist()
    assert partition(truth.ids[::-1], split=split_task.config.split, strata=strata[::-1])[::-1] == mask
    assert _load(slice_evaluator, split_task_dir).private_rows().tolist() == mask
    assert partition(truth.ids, split=SplitConfig(0.4, seed=12), strata=strata) != mask


def test_visible_details_are_the_public_sides_and_name_no_example(
    split_result: EvaluationResult, split_task: SliceTask
) -> None:
    details = split_result.details
    public = split_result.splits["public"]
    for row in details["matches"]:
        assert row["average_precision"] == public.metrics[f"average_precision.{row['slice']}"]
        assert row["pred_slice_idx"] == public.metrics[f"pred_slice_idx.{row['slice']}"]
    ap_chart = next(c for c in details["charts"] if c["series"] == "average precision")
    assert ap_chart["y"] == [public.metrics[f"average_precision.{name}"] for name in ap_chart["x"]]
    visible = json.dumps({key: value for key, value in details.items() if key not in {"sealed", "sealed_charts"}})
    assert not [example_id for example_id in split_task.predictions.ids if example_id in visible]


def test_check_task_reports_a_membership_too_rare_to_split(slice_evaluator: AnyEvaluator, make_task: MakeTask) -> None:
    ids = [f"e{index:02d}" for index in range(12)]
    config = {"n_pred_slices": 2, "slices": ["A", "B"], "private_fraction": 0.5, "split_seed": 0}
    fine = slice_evaluator.load_task(make_task(ids, {"A": ids[:4], "B": ids[4:6]}, config=config), config)
    assert slice_evaluator.check_task(fine) == []
    rare = slice_evaluator.load_task(make_task(ids, {"A": ids[:4], "B": ids[4:5]}, config=config), config)
    problems = slice_evaluator.check_task(rare)
    assert problems == [
        "config.private_fraction 0.5: class 'B' has 1 example(s), so one side of the split would hold none of it "
        "(public 1, private 0); every class needs at least 2"
    ]


def test_the_cli_prints_the_whole_set_and_both_sides(
    split_task_dir: Path, submission: Path, split_result: EvaluationResult, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["score", "--task", str(split_task_dir), "--submission", str(submission)]) == 0
    output = json.loads(capsys.readouterr().out)
    assert output["primary"] == split_result.primary
    assert output["splits"] == {side: score.as_dict() for side, score in split_result.splits.items()}
