"""test-set-creation scoring: credit per item, sharing among submissions (evaluate_all), aggregates only."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from evaluators import EvaluationResult
from evaluators.base import CollectiveEvaluator
from evaluators.test_set_creation.data import POOL_FILE, TRAIN_FILE, read_pool, read_train
from evaluators.test_set_creation.suite import suite_predictions
from evaluators.test_set_creation.task import TestSetTask
from evaluators.test_set_creation.validation import TestItems
from tests.evaluators.test_set_creation.helpers import N_ITEMS, WriteCsv


class Pool:
    """The hidden truth of the small task, to build submissions with known outcomes."""

    def __init__(self, task: TestSetTask) -> None:
        self.task = task
        self.human = task.human_labels()
        self.wrong = (task.predictions() != self.human[np.newaxis, :]).sum(axis=0)
        self.used: set[int] = set()

    def rows(self, n_wrong: int, count: int) -> list[int]:
        """`count` unused pool rows that exactly `n_wrong` models mispredict."""
        found = [int(r) for r in np.flatnonzero(self.wrong == n_wrong) if int(r) not in self.used][:count]
        assert len(found) == count, f"the small task has too few items with {n_wrong} wrong models"
        self.used.update(found)
        return found

    def claim(self, row: int, right: bool = True) -> list[str]:
        labels = self.task.config.labels
        human = int(self.human[row])
        return [self.task.pool_ids[row], labels[human] if right else labels[(human + 1) % len(labels)]]


@pytest.fixture
def pool(task: TestSetTask) -> Pool:
    return Pool(task)


def _parse(
    evaluator: CollectiveEvaluator[Any, Any], task: TestSetTask, write: WriteCsv, rows: list[list[str]]
) -> TestItems:
    parsed: TestItems = evaluator.validate(task, write(rows))
    return parsed


def _alone(
    evaluator: CollectiveEvaluator[Any, Any], task: TestSetTask, write: WriteCsv, rows: list[list[str]]
) -> EvaluationResult:
    return evaluator.evaluate(task, _parse(evaluator, task, write, rows))


def test_credit_is_the_share_of_wrong_models_when_the_claim_is_right(
    evaluator: CollectiveEvaluator[Any, Any], task: TestSetTask, pool: Pool, write_csv: WriteCsv
) -> None:
    rows = [pool.claim(r) for n in (3, 2, 1, 0) for r in pool.rows(n, 1)] + [pool.claim(r) for r in pool.rows(0, 2)]
    result = _alone(evaluator, task, write_csv, rows)
    assert result.primary == pytest.approx(1 + 2 / 3 + 1 / 3, abs=1e-15)
    assert result.metrics == {"raw_credit": result.primary, "items_accepted": 6.0, "items_fooling": 2.0}


def test_a_wrong_claim_earns_nothing_even_when_every_model_is_wrong(
    evaluator: CollectiveEvaluator[Any, Any], task: TestSetTask, pool: Pool, write_csv: WriteCsv
) -> None:
    rows = [pool.claim(r, right=False) for r in pool.rows(3, 3)] + [pool.claim(r) for r in pool.rows(3, 3)]
    result = _alone(evaluator, task, write_csv, rows)
    assert result.primary == 3.0
    assert result.metrics["items_accepted"] == 3.0
    assert result.metrics["items_fooling"] == 3.0


def test_the_row_order_does_not_change_a_bit(
    evaluator: CollectiveEvaluator[Any, Any], task: TestSetTask, pool: Pool, write_csv: WriteCsv
) -> None:
    rows = [pool.claim(r) for n in (1, 2) for r in pool.rows(n, 3)]
    forward = _alone(evaluator, task, write_csv, rows)
    backward = _alone(evaluator, task, write_csv, rows[::-1])
    assert forward.primary == backward.primary
    assert forward.metrics == backward.metrics


def test_one_submission_scored_together_equals_its_score_alone(
    evaluator: CollectiveEvaluator[Any, Any], task: TestSetTask, pool: Pool, write_csv: WriteCsv
) -> None:
    parsed = _parse(evaluator, task, write_csv, [pool.claim(r) for n in (3, 1, 0) for r in pool.rows(n, 2)])
    alone = evaluator.evaluate(task, parsed)
    together = evaluator.evaluate_all(task, {"only": parsed})
    assert set(together) == {"only"}
    assert together["only"].primary == alone.primary
    assert together["only"].metrics == alone.metrics
    assert together["only"].details == alone.details


def test_credit_is_divided_among_one_two_and_three_holders(
    evaluator: CollectiveEvaluator[Any, Any], task: TestSetTask, pool: Pool, write_csv: WriteCsv
) -> None:
    shared_by_three = [pool.claim(r) for r in pool.rows(3, 2)]
    shared_by_two = [pool.claim(r) for r in pool.rows(3, 2)]
    own = [[pool.claim(r) for r in pool.rows(3, 2)] for _ in range(3)]
    filler = [pool.claim(r) for r in pool.rows(0, 2)]
    parsed = {
        "a": _parse(evaluator, task, write_csv, shared_by_three + shared_by_two + own[0]),
        "b": _parse(evaluator, task, write_csv, shared_by_three + shared_by_two + own[1]),
        "c": _parse(evaluator, task, write_csv, shared_by_three + own[2] + filler),
    }
    results = evaluator.evaluate_all(task, parsed)
    assert results["a"].primary == pytest.approx(2 / 3 + 2 / 2 + 2, abs=1e-12)
    assert results["b"].primary == pytest.approx(2 / 3 + 2 / 2 + 2, abs=1e-12)
    assert results["c"].primary == pytest.approx(2 / 3 + 2, abs=1e-12)
    assert [results[k].metrics["raw_credit"] for k in "abc"] == [6.0, 6.0, 4.0]
    assert [results[k].details["items_shared"] for k in "abc"] == [4, 4, 2]
    assert all(results[k].details["n_submissions_compared"] == 3 for k in "abc")


def test_a_holder_with_another_label_does_not_divide_the_credit(
    evaluator: CollectiveEvaluator[Any, Any], task: TestSetTask, pool: Pool, write_csv: WriteCsv
) -> None:
    found = pool.rows(3, N_ITEMS)
    right = _parse(evaluator, task, write_csv, [pool.claim(r) for r in found])
    wrong = _parse(evaluator, task, write_csv, [pool.claim(r, right=False) for r in found])
    results = evaluator.evaluate_all(task, {"right": right, "wrong": wrong})
    assert results["right"].primary == 6.0
    assert results["right"].details["items_shared"] == 0
    assert results["wrong"].primary == 0.0


def test_evaluate_all_does_not_depend_on_the_order_of_the_mapping(
    evaluator: CollectiveEvaluator[Any, Any], task: TestSetTask, pool: Pool, write_csv: WriteCsv
) -> None:
    common = [pool.claim(r) for r in pool.rows(1, 2) + pool.rows(2, 1)]
    submissions = {
        key: _parse(evaluator, task, write_csv, common + [pool.claim(r) for r in pool.rows(3, 3)]) for key in "xyz"
    }
    reference = evaluator.evaluate_all(task, submissions)
    for order in itertools.permutations("xyz"):
        again = evaluator.evaluate_all(task, {key: submissions[key] for key in order})
        assert {k: (r.primary, r.metrics, r.details) for k, r in again.items()} == {
            k: (r.primary, r.metrics, r.details) for k, r in reference.items()
        }


def test_evaluate_all_of_nothing_is_nothing(evaluator: CollectiveEvaluator[Any, Any], task: TestSetTask) -> None:
    progress: list[float] = []
    assert evaluator.evaluate_all(task, {}, lambda f, m: progress.append(f)) == {}
    assert progress[-1] == 1.0


def test_progress_is_reported(
    evaluator: CollectiveEvaluator[Any, Any], task: TestSetTask, pool: Pool, write_csv: WriteCsv
) -> None:
    parsed = _parse(evaluator, task, write_csv, [pool.claim(r) for r in pool.rows(0, N_ITEMS)])
    alone: list[float] = []
    evaluator.evaluate(task, parsed, lambda f, m: alone.append(f))
    assert alone == [0.0, 1.0]
    together: list[float] = []
    evaluator.evaluate_all(task, {"a": parsed, "b": parsed}, lambda f, m: together.append(f))
    assert together == [0.0, 0.5, 1.0]


def test_the_details_reveal_no_item_and_no_human_label(
    evaluator: CollectiveEvaluator[Any, Any], task: TestSetTask, pool: Pool, write_csv: WriteCsv
) -> None:
    rows = [pool.claim(r) for r in pool.rows(3, 3)] + [pool.claim(r, right=False) for r in pool.rows(0, 3)]
    result = _alone(evaluator, task, write_csv, rows)
    text = json.dumps(result.details)
    assert not any(item in text for item, _ in rows)
    assert {chart["title"] for chart in result.details["charts"]} == {"Your items", "Credit"}
    assert all(len(chart["x"]) <= 4 for chart in result.details["charts"])


def test_the_suite_is_fitted_once_and_reproducible_from_the_public_files(task: TestSetTask, task_dir: Path) -> None:
    assert task.predictions() is task.predictions()
    train, pool = read_train(task_dir / TRAIN_FILE), read_pool(task_dir / POOL_FILE)
    labels = np.array([task.label_index[label] for label in train.labels or ()])
    assert np.array_equal(suite_predictions(train, labels, pool, task.config.models), task.predictions())
