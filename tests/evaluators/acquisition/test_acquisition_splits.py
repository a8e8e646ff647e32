"""acquisition private splits: buyer rows as units, stratified by label per market, scores per side."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from sklearn.linear_model import LogisticRegression

from evaluators import Evaluator, TaskConfigError
from evaluators.acquisition.data import read_rows
from evaluators.acquisition.task import AcquisitionTask
from evaluators.base import EvaluationResult
from evaluators.cli import main
from evaluators.splits import SplitConfig, partition
from tests.evaluators.acquisition.helpers import CONFIG, WriteDir, line

SMALL_CONFIG = {"markets": ["a", "b"], "model": "lr", "trials": 2, "alpha": 0.9}
SPLIT_CONFIG = {**SMALL_CONFIG, "private_fraction": 0.5, "split_seed": 7}
PLAN = {"a": [20, 0, 30, 5, 0, 10, 0, 0], "b": [0, 15, 0, 0, 25, 0, 5, 0]}


def _files(plan: dict[str, list[int]]) -> dict[str, str | bytes]:
    return {f"{market}.csv": line(counts) for market, counts in plan.items()}


def _evaluate(
    evaluator: Evaluator[Any, Any], task_dir: Path, config: dict[str, Any], write_dir: WriteDir
) -> tuple[AcquisitionTask, EvaluationResult]:
    task: AcquisitionTask = evaluator.load_task(task_dir, evaluator.validate_config(config))
    return task, evaluator.evaluate(task, evaluator.validate(task, write_dir(_files(PLAN))))


def _buyer(task_dir: Path, market: str) -> np.ndarray:
    rows: np.ndarray = read_rows(task_dir / "marketinfo" / market / "data_buyer" / "20.csv")
    return rows


def _manual_side_scores(task_dir: Path, private: dict[str, np.ndarray], side: str) -> dict[str, float]:
    """The README's recipe written out again, with the accuracy taken on one side's buyer rows only."""
    rng = np.random.RandomState(1111)
    scores: dict[str, float] = {}
    for market in ("a", "b"):
        sellers = [read_rows(path) for path in sorted((task_dir / "features" / market).glob("*.csv"))]
        buyer = _buyer(task_dir, market)
        rows = buyer[private[market]] if side == "private" else buyer[~private[market]]
        accuracy = 0.0
        for _ in range(2):
            parts = [s[rng.choice(len(s), size=n, replace=True)] for s, n in zip(sellers, PLAN[market], strict=True)]
            train = np.concatenate(parts)
            model = LogisticRegression(random_state=0).fit(train[:, :-1], train[:, -1])
            accuracy += model.score(rows[:, :-1], rows[:, -1]) / 2
        scores[f"accuracy.{market}"] = accuracy
    return scores


def _expected_private(task_dir: Path, market: str) -> np.ndarray:
    buyer = _buyer(task_dir, market)
    ids = [f"{market}/{row}" for row in range(len(buyer))]
    strata = [f"{label:g}" for label in buyer[:, -1]]
    return np.array(partition(ids, split=SplitConfig(0.5, 7), strata=strata))


def test_without_split_keys_or_with_fraction_0_the_config_and_result_are_todays(
    acquisition_evaluator: Evaluator[Any, Any], small_market_dir: Path, write_dir: WriteDir
) -> None:
    assert acquisition_evaluator.validate_config(CONFIG) == CONFIG
    assert acquisition_evaluator.validate_config({**CONFIG, "private_fraction": 0, "split_seed": 3}) == CONFIG
    _, today = _evaluate(acquisition_evaluator, small_market_dir, SMALL_CONFIG, write_dir)
    _, zero = _evaluate(acquisition_evaluator, small_market_dir, {**SMALL_CONFIG, "private_fraction": 0}, write_dir)
    assert zero == today
    assert zero.splits == {}
    assert "sealed" not in zero.details and "sealed_charts" not in zero.details


def test_a_split_is_stored_in_the_normalised_config(acquisition_evaluator: Evaluator[Any, Any]) -> None:
    assert acquisition_evaluator.validate_config(SPLIT_CONFIG) == {
        **SMALL_CONFIG,
        "private_fraction": 0.5,
        "split_seed": 7,
    }


def test_each_side_scores_its_own_buyer_rows_and_the_whole_set_is_unchanged(
    acquisition_evaluator: Evaluator[Any, Any], small_market_dir: Path, write_dir: WriteDir
) -> None:
    _, today = _evaluate(acquisition_evaluator, small_market_dir, SMALL_CONFIG, write_dir)
    _, split = _evaluate(acquisition_evaluator, small_market_dir, SPLIT_CONFIG, write_dir)
    assert (split.primary, split.metrics) == (today.primary, today.metrics)
    private = {market: _expected_private(small_market_dir, market) for market in ("a", "b")}
    for side in ("public", "private"):
        score = split.splits[side]
        assert set(score.metrics) == set(today.metrics)
        manual = _manual_side_scores(small_market_dir, private, side)
        market_scores = []
        for market in ("a", "b"):
            accuracy = manual[f"accuracy.{market}"]
            assert score.metrics[f"accuracy.{market}"] == accuracy
            assert score.metrics[f"cost.{market}"] == today.metrics[f"cost.{market}"]
            budget = split.details["markets"][0 if market == "a" else 1]["budget"]
            cost = today.metrics[f"cost.{market}"]
            market_score = 0.9 * accuracy + 0.1 * (budget - cost) / budget
            assert score.metrics[f"score.{market}"] == pytest.approx(market_score, abs=1e-15)
            market_scores.append(score.metrics[f"score.{market}"])
        assert score.primary == float(np.mean(market_scores))
    assert split.splits["public"].metrics != split.splits["private"].metrics


def test_the_partition_is_stratified_by_label_per_market_and_deterministic(
    acquisition_evaluator: Evaluator[Any, Any], small_market_dir: Path
) -> None:
    task: AcquisitionTask = acquisition_evaluator.load_task(small_market_dir, SPLIT_CONFIG)
    for market in ("a", "b"):
        private = task.private_rows(market)
        labels = _buyer(small_market_dir, market)[:, -1]
        for label in (0.0, 1.0):
            size = int(np.sum(labels == label))
            assert int(np.sum(private & (labels == label))) == int(np.floor(size * 0.5 + 0.5))
            assert np.any(~private & (labels == label))
        np.testing.assert_array_equal(private, _expected_private(small_market_dir, market))
        ids = [f"{market}/{row}" for row in range(len(labels))]
        strata = [f"{label:g}" for label in labels]
        reversed_mask = partition(ids[::-1], split=SplitConfig(0.5, 7), strata=strata[::-1])
        assert reversed_mask[::-1] == private.tolist()
    again: AcquisitionTask = acquisition_evaluator.load_task(small_market_dir, SPLIT_CONFIG)
    np.testing.assert_array_equal(again.private_rows("a"), task.private_rows("a"))
    other: AcquisitionTask = acquisition_evaluator.load_task(small_market_dir, {**SPLIT_CONFIG, "split_seed": 8})
    assert not np.array_equal(other.private_rows("a"), task.private_rows("a"))


def _lists(value: object) -> list[list[Any]]:
    if isinstance(value, dict):
        return [found for item in value.values() for found in _lists(item)]
    if isinstance(value, list):
        return [value, *(found for item in value for found in _lists(item))]
    return []


def test_with_a_split_the_visible_details_show_the_public_side_only(
    acquisition_evaluator: Evaluator[Any, Any], small_market_dir: Path, write_dir: WriteDir
) -> None:
    _, today = _evaluate(acquisition_evaluator, small_market_dir, SMALL_CONFIG, write_dir)
    _, split = _evaluate(acquisition_evaluator, small_market_dir, SPLIT_CONFIG, write_dir)
    public = split.splits["public"].metrics
    visible = {key: value for key, value in split.details.items() if key not in {"sealed", "sealed_charts"}}
    buyer_rows = len(_buyer(small_market_dir, "a"))
    assert all(len(found) < buyer_rows // 2 for found in _lists(visible))
    assert "/" not in json.dumps(visible)
    charts = {(chart["title"], chart["series"]): chart for chart in visible["charts"]}
    assert charts[("Accuracy per market (mean over trials), public part", "")]["y"] == [
        public["accuracy.a"],
        public["accuracy.b"],
    ]
    assert not any(title.startswith("Accuracy") and "public" not in title for title, _ in charts)
    assert [market["accuracy"] for market in visible["markets"]] == [public["accuracy.a"], public["accuracy.b"]]
    assert [market["score"] for market in visible["markets"]] == [public["score.a"], public["score.b"]]
    assert split.details["sealed"]["markets"] == today.details["markets"]
    sealed = {chart["title"]: chart for chart in split.details["sealed_charts"]}
    whole = next(chart for chart in today.details["charts"] if chart["title"].startswith("Accuracy per market"))
    assert sealed["Accuracy per market (mean over trials), whole evaluation set"]["y"] == whole["y"]


def test_a_bad_fraction_or_seed_names_the_key_and_the_rule(acquisition_evaluator: Evaluator[Any, Any]) -> None:
    with pytest.raises(TaskConfigError, match=r"config\.private_fraction must be at least 0 and below 1"):
        acquisition_evaluator.validate_config({**CONFIG, "private_fraction": 1})
    with pytest.raises(TaskConfigError, match=r"config\.split_seed must be an integer"):
        acquisition_evaluator.validate_config({**CONFIG, "private_fraction": 0.2, "split_seed": "x"})
    with pytest.raises(TaskConfigError, match="allowed: markets, model, trials, alpha, private_fraction, split_seed"):
        acquisition_evaluator.validate_config({**CONFIG, "private_fraktion": 0.2})


def test_check_task_reports_a_buyer_class_too_small_to_split(
    acquisition_evaluator: Evaluator[Any, Any], small_market_dir: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "task"
    shutil.copytree(small_market_dir, copy)
    buyer_file = copy / "marketinfo" / "a" / "data_buyer" / "20.csv"
    lines = buyer_file.read_text().splitlines()
    ones = [text for text in lines if float(text.split(",")[-1]) == 1]
    buyer_file.write_text("\n".join([text for text in lines if float(text.split(",")[-1]) == 0] + ones[:1]) + "\n")
    task = acquisition_evaluator.load_task(copy, SPLIT_CONFIG)
    problems = acquisition_evaluator.check_task(task)
    assert len(problems) == 1
    assert problems[0].startswith("market a: config.private_fraction 0.5: class '1' has 1 buyer evaluation row(s)")
    assert "(public 1, private 0)" in problems[0]
    assert acquisition_evaluator.check_task(acquisition_evaluator.load_task(copy, SMALL_CONFIG)) == []


def test_the_offline_cli_prints_both_sides(
    small_market_dir: Path, tmp_path: Path, write_dir: WriteDir, capsys: pytest.CaptureFixture[str]
) -> None:
    copy = tmp_path / "task"
    shutil.copytree(small_market_dir, copy)
    (copy / "task.yaml").write_text(yaml.safe_dump({"benchmark": "acquisition", "config": SPLIT_CONFIG}))
    submission = write_dir(_files(PLAN))
    assert main(["score", "--task", str(copy), "--submission", str(submission)]) == 0
    output = json.loads(capsys.readouterr().out)
    assert set(output) == {"primary", "metrics", "splits"}
    assert set(output["splits"]) == {"public", "private"}
    assert set(output["splits"]["private"]["metrics"]) == set(output["metrics"])
    assert 0 < output["splits"]["public"]["primary"] < 1
