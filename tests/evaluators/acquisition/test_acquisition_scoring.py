"""acquisition scoring: the random stream's order, seller order, accumulation, formula, details and progress."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from evaluators import Evaluator, SubmissionError
from evaluators.acquisition.data import read_rows
from evaluators.acquisition.task import AcquisitionTask
from tests.evaluators.acquisition.helpers import WriteDir, line

SMALL_CONFIG = {"markets": ["a", "b"], "model": "lr", "trials": 2, "alpha": 0.9}
PLAN = {"a": [20, 0, 30, 5, 0, 10, 0, 0], "b": [0, 15, 0, 0, 25, 0, 5, 0]}


@pytest.fixture(scope="module")
def small_task(acquisition_evaluator: Evaluator[Any, Any], small_market_dir: Path) -> AcquisitionTask:
    task: AcquisitionTask = acquisition_evaluator.load_task(small_market_dir, SMALL_CONFIG)
    return task


def _manual_accuracies(
    task_dir: Path, markets: list[str], trials: int, plan: dict[str, list[int]]
) -> dict[str, list[float]]:
    """The README's recipe, written out independently of the evaluator."""
    rng = np.random.RandomState(1111)
    result: dict[str, list[float]] = {}
    for market in markets:
        sellers = [read_rows(path) for path in sorted((task_dir / "features" / market).glob("*.csv"))]
        buyer = read_rows(task_dir / "marketinfo" / market / "data_buyer" / "20.csv")
        result[market] = []
        for _ in range(trials):
            parts = [
                rows[rng.choice(len(rows), size=n, replace=True)] for rows, n in zip(sellers, plan[market], strict=True)
            ]
            train = np.concatenate(parts)
            model = LogisticRegression(random_state=0).fit(train[:, :-1], train[:, -1])
            result[market].append(model.score(buyer[:, :-1], buyer[:, -1]))
    return result


def _files(plan: dict[str, list[int]]) -> dict[str, str | bytes]:
    return {f"{market}.csv": line(counts) for market, counts in plan.items()}


def test_one_generator_is_consumed_market_by_market_trial_by_trial_seller_by_seller(
    acquisition_evaluator: Evaluator[Any, Any], small_task: AcquisitionTask, small_market_dir: Path, write_dir: WriteDir
) -> None:
    result = acquisition_evaluator.evaluate(
        small_task, acquisition_evaluator.validate(small_task, write_dir(_files(PLAN)))
    )
    manual = _manual_accuracies(small_market_dir, ["a", "b"], 2, PLAN)
    for market in ("a", "b"):
        assert result.metrics[f"accuracy.{market}"] == pytest.approx(np.mean(manual[market]), abs=1e-12)
        assert [round(v, 12) for v in result.details["markets"][["a", "b"].index(market)]["trial_accuracies"]] == [
            round(v, 12) for v in manual[market]
        ]


def test_the_market_order_of_the_config_decides_the_random_stream(
    acquisition_evaluator: Evaluator[Any, Any], small_task: AcquisitionTask, small_market_dir: Path, write_dir: WriteDir
) -> None:
    swapped: AcquisitionTask = acquisition_evaluator.load_task(
        small_market_dir, {**SMALL_CONFIG, "markets": ["b", "a"]}
    )
    result = acquisition_evaluator.evaluate(swapped, acquisition_evaluator.validate(swapped, write_dir(_files(PLAN))))
    manual = _manual_accuracies(small_market_dir, ["b", "a"], 2, PLAN)
    assert result.metrics["accuracy.a"] == pytest.approx(np.mean(manual["a"]), abs=1e-12)


def test_accuracy_and_cost_are_accumulated_per_trial_and_the_primary_follows_the_dataperf_formula(
    acquisition_evaluator: Evaluator[Any, Any], small_task: AcquisitionTask, write_dir: WriteDir
) -> None:
    result = acquisition_evaluator.evaluate(
        small_task, acquisition_evaluator.validate(small_task, write_dir(_files(PLAN)))
    )
    scores = []
    for market in ("a", "b"):
        info = small_task.markets[market]
        cost = sum(s.price.max_price * (n / s.rows) for s, n in zip(info.sellers, PLAN[market], strict=True))
        assert result.metrics[f"cost.{market}"] == pytest.approx(cost, rel=1e-15)
        accuracy = result.metrics[f"accuracy.{market}"]
        expected = 0.9 * accuracy + (1 - 0.9) * (info.budget - result.metrics[f"cost.{market}"]) / info.budget
        assert result.metrics[f"score.{market}"] == expected
        scores.append(expected)
    assert result.primary == pytest.approx(np.mean(scores), abs=1e-15)


def test_sellers_are_numbered_in_sorted_file_name_order(small_task: AcquisitionTask) -> None:
    names = [seller.file_name for seller in small_task.markets["a"].sellers]
    assert names == sorted(names) == [f"seller_{i:02d}.csv" for i in range(8)]


def test_a_draw_with_one_label_is_rejected_at_scoring_time(
    acquisition_evaluator: Evaluator[Any, Any], small_task: AcquisitionTask, write_dir: WriteDir
) -> None:
    plan = {"a": [1, 0, 0, 0, 0, 0, 0, 0], "b": PLAN["b"]}
    parsed = acquisition_evaluator.validate(small_task, write_dir(_files(plan)))
    with pytest.raises(SubmissionError) as raised:
        acquisition_evaluator.evaluate(small_task, parsed)
    assert "market a, trial 1: the 1 rows drawn all carry the same label" in str(raised.value)


def test_the_details_chart_the_plan_without_hidden_data(
    acquisition_evaluator: Evaluator[Any, Any], small_task: AcquisitionTask, small_market_dir: Path, write_dir: WriteDir
) -> None:
    details = acquisition_evaluator.evaluate(
        small_task, acquisition_evaluator.validate(small_task, write_dir(_files(PLAN)))
    ).details
    titles = {(chart["title"], chart["series"]) for chart in details["charts"]}
    assert ("Rows bought per seller", "a") in titles
    assert ("Cost and budget per market", "budget") in titles
    assert details["markets"][0]["rows_bought"] == PLAN["a"]
    buyer_line = (small_market_dir / "marketinfo" / "a" / "data_buyer" / "20.csv").read_text().splitlines()[0]
    assert buyer_line.split(",")[0] not in json.dumps(details)


def test_it_reports_progress_after_each_trial(
    acquisition_evaluator: Evaluator[Any, Any], small_task: AcquisitionTask, write_dir: WriteDir
) -> None:
    seen: list[float] = []
    parsed = acquisition_evaluator.validate(small_task, write_dir(_files(PLAN)))
    acquisition_evaluator.evaluate(small_task, parsed, lambda fraction, message: seen.append(fraction))
    assert seen == [0.0, 0.25, 0.5, 0.75, 1.0]
