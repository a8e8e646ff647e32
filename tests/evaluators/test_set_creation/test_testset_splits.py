"""test-set-creation public/private splits: config, partition of the pool, per-side sums (alone and shared),
sealed details, check_task, CLI."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from evaluators import EvaluationResult, TaskConfigError
from evaluators.base import CollectiveEvaluator
from evaluators.cli import main
from evaluators.splits import SplitConfig, partition, private_count
from evaluators.test_set_creation.task import TestSetTask
from evaluators.test_set_creation.validation import TestItems
from tests.evaluators.test_set_creation.helpers import CONFIG, WriteCsv

Evaluator = CollectiveEvaluator[Any, Any]
SPLIT_CONFIG: dict[str, Any] = {**CONFIG, "private_fraction": 0.5, "split_seed": 3}
HALF_CONFIG: dict[str, Any] = {**CONFIG, "n_items": 3}


def _load(evaluator: Evaluator, task_dir: Path, config: dict[str, Any]) -> TestSetTask:
    loaded: TestSetTask = evaluator.load_task(task_dir, evaluator.validate_config(config))
    return loaded


def _copy_task(source: Path, target: Path, config: dict[str, Any]) -> Path:
    shutil.copytree(source, target)
    document = yaml.safe_load((target / "task.yaml").read_text())
    (target / "task.yaml").write_text(yaml.safe_dump({**document, "config": config}, sort_keys=False))
    return target


@pytest.fixture(scope="module")
def split(evaluator: Evaluator, task_dir: Path) -> TestSetTask:
    return _load(evaluator, task_dir, SPLIT_CONFIG)


@pytest.fixture(scope="module")
def fooled(task: TestSetTask) -> np.ndarray:
    """How many models get each pool item's human label wrong (computed here, from the task's parts)."""
    wrong: np.ndarray = (task.predictions() != task.human_labels()[np.newaxis, :]).sum(axis=0)
    return wrong


@pytest.fixture(scope="module")
def expected_private(task: TestSetTask, fooled: np.ndarray) -> list[bool]:
    """The partition computed here: strata = fooling some model or none."""
    strata = ["some" if count > 0 else "none" for count in fooled.tolist()]
    return partition(task.pool_ids, split=SplitConfig(0.5, 3), strata=strata)


def _claim(task: TestSetTask, row: int, right: bool) -> list[str]:
    labels, human = task.config.labels, int(task.human_labels()[row])
    return [task.pool_ids[row], labels[human if right else (human + 1) % len(labels)]]


@pytest.fixture(scope="module")
def claims(task: TestSetTask, fooled: np.ndarray, expected_private: list[bool]) -> dict[str, list[list[str]]]:
    """Two submissions of 3 public and 3 private items each, sharing some claims (public items first)."""
    private = np.array(expected_private)
    pub = [int(r) for r in np.flatnonzero(~private & (fooled > 0))[:4]] + [int(np.flatnonzero(~private)[0])]
    prv = [int(r) for r in np.flatnonzero(private & (fooled > 0))[:5]]
    a = [_claim(task, pub[0], True), _claim(task, pub[1], True), _claim(task, pub[4], True)]
    a += [_claim(task, prv[0], True), _claim(task, prv[1], True), _claim(task, prv[2], False)]
    b = [_claim(task, pub[0], True), _claim(task, pub[2], True), _claim(task, pub[3], False)]
    b += [_claim(task, prv[0], True), _claim(task, prv[3], True), _claim(task, prv[4], True)]
    return {"a": a, "b": b}


def _parse(evaluator: Evaluator, task: TestSetTask, write: WriteCsv, rows: list[list[str]]) -> TestItems:
    parsed: TestItems = evaluator.validate(task, write(rows))
    return parsed


def _same(result: EvaluationResult, other: EvaluationResult) -> bool:
    return (result.primary, result.metrics) == (other.primary, other.metrics)


def test_a_config_without_a_split_or_with_fraction_0_is_stored_as_today(evaluator: Evaluator) -> None:
    today = evaluator.validate_config(CONFIG)
    assert "private_fraction" not in today and "split_seed" not in today
    assert evaluator.validate_config({**CONFIG, "private_fraction": 0.0, "split_seed": 5}) == today
    stored = evaluator.validate_config(SPLIT_CONFIG)
    assert stored == {**today, "private_fraction": 0.5, "split_seed": 3}
    assert evaluator.validate_config(stored) == stored


def test_fraction_0_gives_exactly_todays_results(
    evaluator: Evaluator, task: TestSetTask, task_dir: Path, claims: dict[str, list[list[str]]], write_csv: WriteCsv
) -> None:
    zero = _load(evaluator, task_dir, {**CONFIG, "private_fraction": 0, "split_seed": 9})
    parsed = {key: _parse(evaluator, task, write_csv, rows) for key, rows in claims.items()}
    assert evaluator.evaluate(zero, parsed["a"]) == evaluator.evaluate(task, parsed["a"])
    assert evaluator.evaluate_all(zero, parsed) == evaluator.evaluate_all(task, parsed)
    assert evaluator.evaluate(task, parsed["a"]).splits == {}
    assert not zero.private_mask().any()


def test_the_partition_is_stratified_and_follows_the_ids(
    split: TestSetTask, fooled: np.ndarray, expected_private: list[bool]
) -> None:
    mask = split.private_mask()
    assert mask.tolist() == expected_private
    for stratum in (fooled > 0, fooled == 0):
        assert int(mask[stratum].sum()) == private_count(int(stratum.sum()), 0.5)
        assert 0 < int(mask[stratum].sum()) < int(stratum.sum())
    strata = split.pool_strata()
    reversed_mask = partition(split.pool_ids[::-1], split=SplitConfig(0.5, 3), strata=strata[::-1])
    assert reversed_mask[::-1] == mask.tolist()
    assert partition(split.pool_ids, split=SplitConfig(0.5, 4), strata=strata) != mask.tolist()


def test_each_side_alone_scores_like_a_submission_of_only_its_items(
    evaluator: Evaluator,
    task: TestSetTask,
    split: TestSetTask,
    task_dir: Path,
    claims: dict[str, list[list[str]]],
    write_csv: WriteCsv,
) -> None:
    half = _load(evaluator, task_dir, HALF_CONFIG)
    result = evaluator.evaluate(split, _parse(evaluator, split, write_csv, claims["a"]))
    assert _same(result, evaluator.evaluate(task, _parse(evaluator, task, write_csv, claims["a"])))
    for side, rows in (("public", claims["a"][:3]), ("private", claims["a"][3:])):
        alone = evaluator.evaluate(half, _parse(evaluator, half, write_csv, rows))
        assert (result.splits[side].primary, result.splits[side].metrics) == (alone.primary, alone.metrics)
    assert result.splits["public"].metrics != result.splits["private"].metrics


def test_each_side_together_shares_credit_like_submissions_of_only_its_items(
    evaluator: Evaluator,
    task: TestSetTask,
    split: TestSetTask,
    task_dir: Path,
    claims: dict[str, list[list[str]]],
    write_csv: WriteCsv,
) -> None:
    half = _load(evaluator, task_dir, HALF_CONFIG)
    results = evaluator.evaluate_all(split, {key: _parse(evaluator, split, write_csv, r) for key, r in claims.items()})
    today = evaluator.evaluate_all(task, {key: _parse(evaluator, task, write_csv, r) for key, r in claims.items()})
    assert all(_same(results[key], today[key]) for key in claims)
    for side, part in (("public", slice(0, 3)), ("private", slice(3, 6))):
        alone = evaluator.evaluate_all(
            half, {key: _parse(evaluator, half, write_csv, rows[part]) for key, rows in claims.items()}
        )
        for key in claims:
            assert (results[key].splits[side].primary, results[key].splits[side].metrics) == (
                alone[key].primary,
                alone[key].metrics,
            )
    # Both submissions hold one shared confirmed claim on each side, so each side's credit is divided.
    assert results["a"].splits["public"].primary < results["a"].splits["public"].metrics["raw_credit"]


def test_visible_details_are_the_public_items_and_do_not_count_them(
    evaluator: Evaluator,
    task: TestSetTask,
    split: TestSetTask,
    task_dir: Path,
    claims: dict[str, list[list[str]]],
    write_csv: WriteCsv,
) -> None:
    half = _load(evaluator, task_dir, HALF_CONFIG)
    parsed = {key: _parse(evaluator, split, write_csv, rows) for key, rows in claims.items()}
    result = evaluator.evaluate_all(split, parsed)["a"]
    public = evaluator.evaluate_all(
        half, {key: _parse(evaluator, half, write_csv, rows[:3]) for key, rows in claims.items()}
    )["a"]
    visible = {key: value for key, value in result.details.items() if key not in {"sealed", "sealed_charts"}}
    assert visible["n_items"] == 6
    for key in ("items_accepted", "items_fooling", "items_shared", "n_submissions_compared"):
        assert visible[key] == public.details[key]
    your_items, credit = visible["charts"]
    assert "submitted" not in your_items["x"]
    assert your_items["y"] == public.details["charts"][0]["y"][1:]
    assert credit == public.details["charts"][1]
    sealed_titles = [chart["title"] for chart in result.details["sealed_charts"]]
    assert sealed_titles == [
        "Your items (all items)",
        "Credit (all items)",
        "Your items (private part)",
        "Credit (private part)",
    ]
    assert result.details["sealed"]["n_items_public"] == 3
    text = json.dumps(visible)
    assert "n_items_public" not in text and not any(row[0] in text for rows in claims.values() for row in rows)


def test_a_bad_split_config_names_the_key_and_the_rule(evaluator: Evaluator) -> None:
    with pytest.raises(TaskConfigError, match=r"config\.private_fraction must be at least 0 and below 1"):
        evaluator.validate_config({**CONFIG, "private_fraction": -0.1})
    with pytest.raises(TaskConfigError, match=r"config\.private_fraction must be a number"):
        evaluator.validate_config({**CONFIG, "private_fraction": True})
    with pytest.raises(
        TaskConfigError, match=r"unexpected config key\(s\) fraction; allowed: .*private_fraction, split_seed"
    ):
        evaluator.validate_config({**CONFIG, "fraction": 0.5})


def test_check_task_reports_a_stratum_too_small_to_split(
    evaluator: Evaluator, split: TestSetTask, task_dir: Path, tmp_path: Path
) -> None:
    assert evaluator.check_task(split) == []
    config = {**SPLIT_CONFIG, "models": ["logreg"]}
    copy = _copy_task(task_dir, tmp_path / "one_fooling", config)
    predicted = _load(evaluator, copy, config).predictions()[0]
    labels = split.config.labels
    # Human labels equal to the one model's predictions, but for one item: one item fools the suite.
    human = [labels[int(p)] for p in predicted]
    human[0] = labels[(int(predicted[0]) + 1) % len(labels)]
    lines = ["id,label", *(f"{item},{label}" for item, label in zip(split.pool_ids, human, strict=True))]
    (copy / "human_labels.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    problems = evaluator.check_task(_load(evaluator, copy, config))
    assert problems == [
        "config.private_fraction 0.5: class 'fools at least one model' has 1 pool item(s), so one side of the "
        "split would hold none of it (public 1, private 0); every class needs at least 2"
    ]
    assert evaluator.check_task(_load(evaluator, copy, {**config, "private_fraction": 0})) == []


def test_the_cli_prints_the_public_and_private_scores(
    evaluator: Evaluator,
    split: TestSetTask,
    task_dir: Path,
    tmp_path: Path,
    claims: dict[str, list[list[str]]],
    write_csv: WriteCsv,
    capsys: pytest.CaptureFixture[str],
) -> None:
    copy = _copy_task(task_dir, tmp_path / "cli_task", SPLIT_CONFIG)
    path = write_csv(claims["a"])
    assert main(["score", "--task", str(copy), "--submission", str(path)]) == 0
    output = json.loads(capsys.readouterr().out)
    expected = evaluator.evaluate(split, _parse(evaluator, split, write_csv, claims["a"]))
    assert output["primary"] == expected.primary
    assert output["splits"] == {side: score.as_dict() for side, score in expected.splits.items()}
    assert set(output["splits"]) == {"public", "private"}
