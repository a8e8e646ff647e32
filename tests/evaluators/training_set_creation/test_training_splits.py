"""training-set-creation public/private splits: config, partition, per-side scores, sealed details, CLI."""

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
from evaluators.cli import main
from evaluators.splits import SplitConfig, partition, private_count
from evaluators.training_set_creation.task import TrainingTask
from tests.evaluators.training_set_creation.helpers import DIGITS_CONFIG, MakeSubmission, pool_rows, write_submission

# Two models (the mean is exercised), both fast on the digits task.
BASE_CONFIG: dict[str, Any] = {**DIGITS_CONFIG, "models": ["logreg", "svc"]}
SPLIT_CONFIG: dict[str, Any] = {**BASE_CONFIG, "private_fraction": 0.5, "split_seed": 7}
TEST_CSV = Path("test") / "items.csv"

RowFilter = Callable[[list[list[str]]], list[list[str]]]


def _load(evaluator: Evaluator[Any, Any], task_dir: Path, config: dict[str, Any]) -> TrainingTask:
    task: TrainingTask = evaluator.load_task(task_dir, evaluator.validate_config(config))
    return task


def _copy_task(source: Path, target: Path, config: dict[str, Any], rows: RowFilter | None = None) -> Path:
    """A copy of the task directory with `config` in task.yaml and, given `rows`, its test rows filtered."""
    shutil.copytree(source, target)
    document = yaml.safe_load((target / "task.yaml").read_text())
    (target / "task.yaml").write_text(yaml.safe_dump({**document, "config": config}, sort_keys=False))
    if rows is not None:
        with (target / TEST_CSV).open(encoding="utf-8", newline="") as handle:
            header, *body = list(csv.reader(handle))
        with (target / TEST_CSV).open("w", encoding="utf-8", newline="") as handle:
            csv.writer(handle, lineterminator="\n").writerows([header, *rows(body)])
    return target


def _score(evaluator: Evaluator[Any, Any], task: TrainingTask, path: Path) -> EvaluationResult:
    return evaluator.evaluate(task, evaluator.validate(task, path))


@pytest.fixture(scope="module")
def plain(evaluator: Evaluator[Any, Any], digits_dir: Path) -> TrainingTask:
    return _load(evaluator, digits_dir, BASE_CONFIG)


@pytest.fixture(scope="module")
def split(evaluator: Evaluator[Any, Any], digits_dir: Path) -> TrainingTask:
    return _load(evaluator, digits_dir, SPLIT_CONFIG)


@pytest.fixture(scope="module")
def expected_private(split: TrainingTask) -> list[bool]:
    """The partition computed here from the ids and labels, not by the task."""
    test = split.test()
    strata = [split.config.labels[int(label)] for label in test.labels]
    return partition(test.ids, split=SplitConfig(0.5, 7), strata=strata)


def test_a_config_without_a_split_or_with_fraction_0_is_stored_as_today(evaluator: Evaluator[Any, Any]) -> None:
    today = evaluator.validate_config(BASE_CONFIG)
    assert "private_fraction" not in today and "split_seed" not in today
    assert evaluator.validate_config({**BASE_CONFIG, "private_fraction": 0, "split_seed": 3}) == today
    stored = evaluator.validate_config(SPLIT_CONFIG)
    assert stored == {**today, "private_fraction": 0.5, "split_seed": 7}
    assert evaluator.validate_config(stored) == stored


def test_fraction_0_gives_exactly_todays_result(
    evaluator: Evaluator[Any, Any], plain: TrainingTask, digits_dir: Path, make_submission: MakeSubmission
) -> None:
    zero = _load(evaluator, digits_dir, {**BASE_CONFIG, "private_fraction": 0.0, "split_seed": 9})
    path = make_submission(pool_rows(plain, 120))
    today, with_zero = _score(evaluator, plain, path), _score(evaluator, zero, path)
    assert (with_zero.primary, with_zero.metrics, with_zero.details) == (today.primary, today.metrics, today.details)
    assert today.splits == {} and with_zero.splits == {}
    assert not zero.private_mask().any()


def test_the_partition_is_stratified_by_label(split: TrainingTask, expected_private: list[bool]) -> None:
    mask = split.private_mask()
    assert mask.tolist() == expected_private
    labels = split.test().labels
    for label in range(len(split.config.labels)):
        members = labels == label
        assert 0 < int(mask[members].sum()) < int(members.sum())
        assert int(mask[members].sum()) == private_count(int(members.sum()), 0.5)


def test_the_partition_depends_on_ids_and_seed_not_on_row_order(
    evaluator: Evaluator[Any, Any], split: TrainingTask, digits_dir: Path, tmp_path: Path
) -> None:
    def shuffled(rows: list[list[str]]) -> list[list[str]]:
        return rows[1::2][::-1] + rows[::2]

    moved = _load(evaluator, _copy_task(digits_dir, tmp_path / "shuffled", SPLIT_CONFIG, shuffled), SPLIT_CONFIG)
    assert moved.test().ids != split.test().ids
    by_id = dict(zip(split.test().ids, split.private_mask().tolist(), strict=True))
    assert dict(zip(moved.test().ids, moved.private_mask().tolist(), strict=True)) == by_id
    reseeded = _load(evaluator, digits_dir, {**SPLIT_CONFIG, "split_seed": 8})
    assert reseeded.private_mask().tolist() != split.private_mask().tolist()


@pytest.fixture(scope="module")
def scored(
    evaluator: Evaluator[Any, Any], plain: TrainingTask, split: TrainingTask, tmp_path_factory: pytest.TempPathFactory
) -> tuple[EvaluationResult, EvaluationResult]:
    """Today's result and the split task's result for the same 120 pool items."""
    directory = write_submission(tmp_path_factory.mktemp("split") / "submission", pool_rows(plain, 120), {})
    return _score(evaluator, plain, directory), _score(evaluator, split, directory)


def _side_task(evaluator: Evaluator[Any, Any], source: Path, target: Path, keep: set[str]) -> TrainingTask:
    """The task without a split whose test set holds only the items of `keep`."""
    copy = _copy_task(source, target, BASE_CONFIG, lambda rows: [row for row in rows if row[0] in keep])
    return _load(evaluator, copy, BASE_CONFIG)


def test_each_side_scores_like_a_task_holding_only_its_items(
    evaluator: Evaluator[Any, Any],
    split: TrainingTask,
    expected_private: list[bool],
    scored: tuple[EvaluationResult, EvaluationResult],
    digits_dir: Path,
    tmp_path: Path,
    make_submission: MakeSubmission,
) -> None:
    today, result = scored
    assert (result.primary, result.metrics) == (today.primary, today.metrics)
    assert set(result.splits) == {"public", "private"}
    path = make_submission(pool_rows(split, 120))
    ids = split.test().ids
    for side, private in (("public", False), ("private", True)):
        keep = {item for item, flag in zip(ids, expected_private, strict=True) if flag is private}
        alone = _score(evaluator, _side_task(evaluator, digits_dir, tmp_path / side, keep), path)
        assert result.splits[side].primary == alone.primary
        assert result.splits[side].metrics == alone.metrics
    assert result.splits["public"].primary != result.splits["private"].primary


def test_visible_details_are_the_public_parts_and_name_no_test_item(
    evaluator: Evaluator[Any, Any],
    split: TrainingTask,
    expected_private: list[bool],
    scored: tuple[EvaluationResult, EvaluationResult],
    digits_dir: Path,
    tmp_path: Path,
    make_submission: MakeSubmission,
) -> None:
    today, result = scored
    public = {item for item, flag in zip(split.test().ids, expected_private, strict=True) if not flag}
    alone = _score(
        evaluator,
        _side_task(evaluator, digits_dir, tmp_path / "public", public),
        make_submission(pool_rows(split, 120)),
    )
    visible = {key: value for key, value in result.details.items() if key not in {"sealed", "sealed_charts"}}
    assert visible == alone.details
    assert visible["charts"] != today.details["charts"]
    whole = [chart for chart in result.details["sealed_charts"] if chart["title"].endswith(" (whole test set)")]
    assert [chart["y"] for chart in whole] == [
        chart["y"] for chart in today.details["charts"] if chart["title"] != "Submitted items per label"
    ]
    assert result.details["sealed"]["confusion"] == today.details["confusion"]
    text = json.dumps(visible)
    assert not any(f'"{item}"' in text for item in split.test().ids)


def test_a_private_fraction_outside_0_to_1_names_the_key_and_the_rule(evaluator: Evaluator[Any, Any]) -> None:
    with pytest.raises(TaskConfigError, match=r"config\.private_fraction must be at least 0 and below 1"):
        evaluator.validate_config({**BASE_CONFIG, "private_fraction": 1})
    with pytest.raises(TaskConfigError, match=r"config\.split_seed must be an integer"):
        evaluator.validate_config({**BASE_CONFIG, "private_fraction": 0.2, "split_seed": "a"})
    with pytest.raises(
        TaskConfigError, match=r"unexpected config key\(s\) seed; allowed: .*private_fraction, split_seed"
    ):
        evaluator.validate_config({**BASE_CONFIG, "seed": 1})


def test_check_task_reports_a_label_too_small_to_split(
    evaluator: Evaluator[Any, Any], split: TrainingTask, digits_dir: Path, tmp_path: Path
) -> None:
    assert evaluator.check_task(split) == []

    def one_seven(rows: list[list[str]]) -> list[list[str]]:
        sevens = [row for row in rows if row[1] == "7"]
        return [row for row in rows if row[1] != "7"] + sevens[:1]

    small = _load(evaluator, _copy_task(digits_dir, tmp_path / "one_seven", SPLIT_CONFIG, one_seven), SPLIT_CONFIG)
    problems = evaluator.check_task(small)
    assert len(problems) == 1
    assert "config.private_fraction 0.5: class '7' has 1 test item(s)" in problems[0]
    assert "(public 1, private 0)" in problems[0]
    without = _load(evaluator, _copy_task(digits_dir, tmp_path / "no_split", BASE_CONFIG, one_seven), BASE_CONFIG)
    assert evaluator.check_task(without) == []


def test_the_cli_prints_the_public_and_private_scores(
    split: TrainingTask,
    scored: tuple[EvaluationResult, EvaluationResult],
    digits_dir: Path,
    tmp_path: Path,
    make_submission: MakeSubmission,
    capsys: pytest.CaptureFixture[str],
) -> None:
    task_dir = _copy_task(digits_dir, tmp_path / "cli_task", SPLIT_CONFIG)
    submission = make_submission(pool_rows(split, 120))
    assert main(["score", "--task", str(task_dir), "--submission", str(submission)]) == 0
    output = json.loads(capsys.readouterr().out)
    result = scored[1]
    assert output["primary"] == result.primary
    assert output["splits"] == {side: score.as_dict() for side, score in result.splits.items()}
    assert np.isclose(
        output["splits"]["public"]["primary"], np.mean(list(output["splits"]["public"]["metrics"].values()))
    )
