"""acquisition task loading: config rules, public market files, lazy hidden data, organizer checks."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from evaluators import Evaluator, TaskConfigError
from evaluators.acquisition.task import AcquisitionTask
from tests.evaluators.acquisition.helpers import WriteDir, line

SMALL_CONFIG = {"markets": ["a", "b"], "trials": 2}


@pytest.fixture
def task_copy(small_market_dir: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "task"
    shutil.copytree(small_market_dir, copy)
    return copy


def _load(evaluator: Evaluator[Any, Any], directory: Path) -> AcquisitionTask:
    task: AcquisitionTask = evaluator.load_task(directory, SMALL_CONFIG)
    return task


def _load_error(evaluator: Evaluator[Any, Any], directory: Path) -> str:
    with pytest.raises(TaskConfigError) as raised:
        _load(evaluator, directory)
    return str(raised.value)


@pytest.mark.parametrize(
    ("config", "fragment"),
    [
        ({}, "config.markets must be a list of 1 to 100 market names"),
        ({"markets": ["0", "0"]}, "'0' is listed twice"),
        ({"markets": ["../0"]}, "'../0' is not a usable market name"),
        ({"markets": [True]}, "True is not a usable market name"),
        ({"markets": ["0"], "model": "knn"}, "config.model must be one of lr"),
        ({"markets": ["0"], "trials": 0}, "config.trials must be an integer from 1 to 1000"),
        ({"markets": ["0"], "alpha": 1.5}, "config.alpha must be a number from 0 to 1"),
        ({"markets": ["0"], "alpha": float("nan")}, "config.alpha must be a number from 0 to 1"),
        ({"markets": ["0"], "seed": 1}, "unexpected config key(s) seed"),
    ],
)
def test_it_rejects_a_bad_config(
    acquisition_evaluator: Evaluator[Any, Any], config: dict[str, Any], fragment: str
) -> None:
    with pytest.raises(TaskConfigError) as raised:
        acquisition_evaluator.validate_config(config)
    assert fragment in str(raised.value)


def test_integer_market_names_and_defaults_are_normalised(acquisition_evaluator: Evaluator[Any, Any]) -> None:
    config = acquisition_evaluator.validate_config({"markets": [0, 1]})
    assert config == {"markets": ["0", "1"], "model": "lr", "trials": 10, "alpha": 0.98}
    assert acquisition_evaluator.validate_config(config) == config


def test_the_accuracy_of_each_market_is_a_leaderboard_column(acquisition_evaluator: Evaluator[Any, Any]) -> None:
    specs = acquisition_evaluator.metric_specs({"markets": ["0", "1"]})
    assert [spec.name for spec in specs if spec.leaderboard_column] == ["accuracy.0", "accuracy.1"]
    assert not next(spec for spec in specs if spec.name == "cost.0").higher_is_better


def test_it_reads_the_public_side_of_each_market(market_task: AcquisitionTask) -> None:
    info = market_task.markets["1"]
    assert info.budget == 120.0
    assert [seller.price.max_price for seller in info.sellers[:3]] == [160.0, 155.0, 150.0]
    assert all(seller.columns == 13 for seller in info.sellers)


def test_it_rejects_a_price_file_with_another_number_of_lines(
    acquisition_evaluator: Evaluator[Any, Any], task_copy: Path
) -> None:
    price = task_copy / "marketinfo" / "a" / "price" / "price.txt"
    price.write_text(price.read_text() + "Lin,10\n")
    assert "9 price lines, but 8 sellers have a summary" in _load_error(acquisition_evaluator, task_copy)


@pytest.mark.parametrize("text", ["Exp,10\n", "Lin,ten\n", "Lin,-5\n", "Lin,inf\n", "Lin,1_0\n"])
def test_it_rejects_a_malformed_price_line(
    acquisition_evaluator: Evaluator[Any, Any], task_copy: Path, text: str
) -> None:
    price = task_copy / "marketinfo" / "a" / "price" / "price.txt"
    lines = price.read_text().splitlines(keepends=True)
    price.write_text("".join([text, *lines[1:]]))
    assert "price.txt: line 1" in _load_error(acquisition_evaluator, task_copy)


@pytest.mark.parametrize("text", ["0\n", "-1\n", "x\n"])
def test_it_rejects_a_budget_that_is_not_a_positive_number(
    acquisition_evaluator: Evaluator[Any, Any], task_copy: Path, text: str
) -> None:
    (task_copy / "marketinfo" / "b" / "price" / "budget.txt").write_text(text)
    assert "budget.txt" in _load_error(acquisition_evaluator, task_copy)


def test_it_rejects_a_summary_without_a_row_count(acquisition_evaluator: Evaluator[Any, Any], task_copy: Path) -> None:
    summary = task_copy / "marketinfo" / "a" / "summary" / "seller_02.csv.json"
    document = json.loads(summary.read_text())
    del document["row_number"]
    summary.write_text(json.dumps(document))
    assert "'row_number' must be an integer of at least 1, got None" in _load_error(acquisition_evaluator, task_copy)


def test_it_rejects_a_market_without_summaries(acquisition_evaluator: Evaluator[Any, Any], task_copy: Path) -> None:
    shutil.rmtree(task_copy / "marketinfo" / "b" / "summary")
    assert "summary: missing" in _load_error(acquisition_evaluator, task_copy)


def test_validation_works_with_only_the_public_files(
    acquisition_evaluator: Evaluator[Any, Any], task_copy: Path, write_dir: WriteDir
) -> None:
    shutil.rmtree(task_copy / "features")
    for market in ("a", "b"):
        shutil.rmtree(task_copy / "marketinfo" / market / "data_buyer")
    task = _load(acquisition_evaluator, task_copy)
    parsed = acquisition_evaluator.validate(task, write_dir({"a.csv": line([5] * 8), "b.csv": line([5] * 8)}))
    with pytest.raises(TaskConfigError):
        acquisition_evaluator.evaluate(task, parsed)


def test_check_task_accepts_the_generated_task(
    acquisition_evaluator: Evaluator[Any, Any], small_market_dir: Path
) -> None:
    assert acquisition_evaluator.check_task(_load(acquisition_evaluator, small_market_dir)) == []


def test_check_task_reports_seller_files_that_do_not_match_the_summaries(
    acquisition_evaluator: Evaluator[Any, Any], task_copy: Path
) -> None:
    features = task_copy / "features" / "a"
    (features / "seller_07.csv").rename(features / "seller_99.csv")
    problems = acquisition_evaluator.check_task(_load(acquisition_evaluator, task_copy))
    assert len(problems) == 1
    assert "do not match the summaries" in problems[0]


def test_check_task_reports_a_row_count_that_differs_from_the_summary(
    acquisition_evaluator: Evaluator[Any, Any], task_copy: Path
) -> None:
    seller = task_copy / "features" / "b" / "seller_01.csv"
    seller.write_text("".join(seller.read_text().splitlines(keepends=True)[1:]))
    assert "but its summary says" in acquisition_evaluator.check_task(_load(acquisition_evaluator, task_copy))[0]


def test_check_task_reports_a_label_other_than_0_or_1(
    acquisition_evaluator: Evaluator[Any, Any], task_copy: Path
) -> None:
    buyer = task_copy / "marketinfo" / "a" / "data_buyer" / "20.csv"
    lines = buyer.read_text().splitlines()
    lines[0] = lines[0].rsplit(",", 1)[0] + ",2.000000"
    buyer.write_text("\n".join(lines) + "\n")
    assert (
        "the last column must be the 0/1 label"
        in acquisition_evaluator.check_task(_load(acquisition_evaluator, task_copy))[0]
    )


def test_check_task_reports_a_buyer_with_one_label(acquisition_evaluator: Evaluator[Any, Any], task_copy: Path) -> None:
    buyer = task_copy / "marketinfo" / "b" / "data_buyer" / "20.csv"
    lines = [row.rsplit(",", 1)[0] + ",1.000000" for row in buyer.read_text().splitlines()]
    buyer.write_text("\n".join(lines) + "\n")
    problems = acquisition_evaluator.check_task(_load(acquisition_evaluator, task_copy))
    assert problems == ["market b: the buyer's data holds one label only; accuracy means little"]
