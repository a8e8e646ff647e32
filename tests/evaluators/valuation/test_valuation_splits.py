"""valuation private splits: the pairs are the units; each side's score is the mean error over its pairs."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from evaluators import EvaluationResult, Evaluator, TaskConfigError
from evaluators.cli import main
from evaluators.splits import SplitConfig, partition
from evaluators.valuation.task import ValuationTask
from tests.evaluators.valuation.helpers import PAIRS, VALUATION_CASE, WriteFile, predictions_csv

PLAIN = {"pairs": PAIRS, "pair_errors": False}
SPLIT_CONFIG = {**PLAIN, "private_fraction": 0.5, "split_seed": 11}
PREDICTIONS = {pair: 0.55 + 0.07 * index for index, pair in enumerate(PAIRS)}


def _score(evaluator: Evaluator[Any, Any], config: dict[str, Any], submission: Path) -> EvaluationResult:
    task = evaluator.load_task(VALUATION_CASE / "task", evaluator.validate_config(config))
    return evaluator.evaluate(task, evaluator.validate(task, submission))


def _private_pairs() -> list[str]:
    mask = partition(PAIRS, split=SplitConfig(0.5, 11))
    return [pair for pair, private in zip(PAIRS, mask, strict=True) if private]


def test_without_split_keys_or_with_fraction_0_the_config_and_result_are_todays(
    valuation_evaluator: Evaluator[Any, Any], write_file: WriteFile
) -> None:
    assert valuation_evaluator.validate_config(PLAIN) == PLAIN
    assert valuation_evaluator.validate_config({**PLAIN, "private_fraction": 0, "split_seed": 4}) == PLAIN
    # pair_errors stays allowed without a split, as today.
    assert valuation_evaluator.validate_config({**PLAIN, "pair_errors": True, "private_fraction": 0.0})["pair_errors"]
    submission = write_file(predictions_csv(PREDICTIONS))
    today = _score(valuation_evaluator, PLAIN, submission)
    zero = _score(valuation_evaluator, {**PLAIN, "private_fraction": 0}, submission)
    assert zero == today
    assert zero.splits == {}


def test_a_split_is_stored_in_the_normalised_config(valuation_evaluator: Evaluator[Any, Any]) -> None:
    assert valuation_evaluator.validate_config(SPLIT_CONFIG) == {**PLAIN, "private_fraction": 0.5, "split_seed": 11}


def test_each_side_scores_as_a_task_of_its_pairs_alone(
    valuation_evaluator: Evaluator[Any, Any], write_file: WriteFile
) -> None:
    today = _score(valuation_evaluator, PLAIN, write_file(predictions_csv(PREDICTIONS)))
    split = _score(valuation_evaluator, SPLIT_CONFIG, write_file(predictions_csv(PREDICTIONS)))
    assert (split.primary, split.metrics, split.details) == (today.primary, today.metrics, today.details)
    private = _private_pairs()
    assert len(private) == 3
    sides = {"private": private, "public": [pair for pair in PAIRS if pair not in private]}
    for side, pairs in sides.items():
        alone = _score(
            valuation_evaluator,
            {"pairs": pairs},
            write_file(predictions_csv({pair: PREDICTIONS[pair] for pair in pairs})),
        )
        assert split.splits[side].primary == alone.primary
        assert split.splits[side].metrics == {}
    assert split.splits["public"].primary != split.splits["private"].primary


def test_the_partition_depends_on_the_seed_and_names_only(valuation_evaluator: Evaluator[Any, Any]) -> None:
    task: ValuationTask = valuation_evaluator.load_task(VALUATION_CASE / "task", SPLIT_CONFIG)
    assert [pair for pair, private in zip(PAIRS, task.private, strict=True) if private] == _private_pairs()
    reordered: ValuationTask = valuation_evaluator.load_task(
        VALUATION_CASE / "task", {**SPLIT_CONFIG, "pairs": PAIRS[::-1]}
    )
    assert reordered.private[::-1] == task.private
    masks = {
        valuation_evaluator.load_task(VALUATION_CASE / "task", {**SPLIT_CONFIG, "split_seed": seed}).private
        for seed in range(6)
    }
    assert len(masks) > 1
    assert all(sum(mask) == 3 for mask in masks)


def test_with_a_split_the_details_hold_only_the_submitted_predictions(
    valuation_evaluator: Evaluator[Any, Any], write_file: WriteFile
) -> None:
    details = _score(valuation_evaluator, SPLIT_CONFIG, write_file(predictions_csv(PREDICTIONS))).details
    assert set(details) == {"predicted", "pairs", "charts"}
    assert details["predicted"] == PREDICTIONS
    assert [chart["title"] for chart in details["charts"]] == ["Predicted accuracy per pair"]
    assert "private" not in json.dumps(details)


def test_split_config_errors_name_the_key_and_the_rule(valuation_evaluator: Evaluator[Any, Any]) -> None:
    with pytest.raises(TaskConfigError, match=r"config\.pair_errors must be false with config\.private_fraction"):
        valuation_evaluator.validate_config({**SPLIT_CONFIG, "pair_errors": True})
    with pytest.raises(TaskConfigError, match=r"config\.pairs needs at least 2 pairs, got 1"):
        valuation_evaluator.validate_config({"pairs": ["clean"], "private_fraction": 0.3, "split_seed": 5})
    with pytest.raises(TaskConfigError, match=r"config\.private_fraction must be at least 0 and below 1"):
        valuation_evaluator.validate_config({**PLAIN, "private_fraction": 1.5})
    with pytest.raises(TaskConfigError, match="allowed: pairs, pair_errors, private_fraction, split_seed"):
        valuation_evaluator.validate_config({**PLAIN, "seed": 3})


def test_the_offline_cli_prints_both_sides(
    write_file: WriteFile, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    copy = tmp_path / "task"
    shutil.copytree(VALUATION_CASE / "task", copy)
    (copy / "task.yaml").write_text(yaml.safe_dump({"benchmark": "valuation", "config": SPLIT_CONFIG}))
    submission = write_file(predictions_csv(PREDICTIONS))
    assert main(["score", "--task", str(copy), "--submission", str(submission)]) == 0
    output = json.loads(capsys.readouterr().out)
    assert set(output) == {"primary", "metrics", "splits"}
    assert set(output["splits"]) == {"public", "private"}
    assert output["splits"]["private"]["metrics"] == {}
    mean = (output["splits"]["public"]["primary"] + output["splits"]["private"]["primary"]) / 2
    assert output["primary"] == pytest.approx(mean, abs=1e-15)
