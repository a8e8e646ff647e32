"""training-set-creation, feature tasks: the new items of features.csv, one test per rule."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from evaluators import Evaluator, SubmissionError
from evaluators.training_set_creation.task import TrainingTask
from tests.evaluators.training_set_creation.helpers import MakeSubmission, csv_text, pool_rows


def features_csv(task: TrainingTask, rows: list[list[str]], header: list[str] | None = None) -> str:
    return csv_text(header or ["item", *task.pool.feature_names], rows)


def vector(value: float = 0.5, dim: int = 64) -> list[str]:
    return [repr(value)] * dim


def rejects(evaluator: Evaluator[Any, Any], task: TrainingTask, path: Path) -> str:
    with pytest.raises(SubmissionError) as raised:
        evaluator.validate(task, path)
    return str(raised.value)


def test_it_accepts_new_rows_in_labels_csv_order(
    evaluator: Evaluator[Any, Any], digits: TrainingTask, make_submission: MakeSubmission
) -> None:
    rows = [["new_b", "3"], *pool_rows(digits, 4), ["new_a", "7"]]
    files = {"features.csv": features_csv(digits, [["new_a", *vector(0.25)], ["new_b", *vector(0.75)]])}
    parsed = evaluator.validate(digits, make_submission(rows, files))
    assert parsed.is_new.tolist() == [True, False, False, False, False, True]
    assert np.all(parsed.features[0] == 0.75)
    assert np.all(parsed.features[-1] == 0.25)


def test_it_rejects_a_features_header_that_differs_from_the_pool(
    evaluator: Evaluator[Any, Any], digits: TrainingTask, make_submission: MakeSubmission
) -> None:
    header = ["item", *reversed(digits.pool.feature_names)]
    files = {"features.csv": features_csv(digits, [["n", *vector()]], header)}
    message = rejects(evaluator, digits, make_submission([*pool_rows(digits, 2), ["n", "1"]], files))
    assert "features.csv line 1: the header must be item followed by the 64 feature names" in message


def test_it_rejects_an_empty_features_file(
    evaluator: Evaluator[Any, Any], digits: TrainingTask, make_submission: MakeSubmission
) -> None:
    message = rejects(evaluator, digits, make_submission(pool_rows(digits, 2), {"features.csv": ""}))
    assert "features.csv: the file is empty" in message


@pytest.mark.parametrize(
    ("value", "shown"), [("abc", '"abc"'), ("nan", '"nan"'), ("-inf", '"-inf"'), ("1e7", '"1e7"'), ("", '""')]
)
def test_it_rejects_a_value_that_is_not_a_finite_number(
    evaluator: Evaluator[Any, Any], digits: TrainingTask, make_submission: MakeSubmission, value: str, shown: str
) -> None:
    bad = vector()
    bad[5] = value
    files = {"features.csv": features_csv(digits, [["ok", *vector()], ["bad", *bad]])}
    rows = [*pool_rows(digits, 2), ["ok", "1"], ["bad", "2"]]
    message = rejects(evaluator, digits, make_submission(rows, files))
    assert f"features.csv line 3: px0_5 = {shown} is not a finite number" in message


def test_it_rejects_a_row_with_a_wrong_field_count(
    evaluator: Evaluator[Any, Any], digits: TrainingTask, make_submission: MakeSubmission
) -> None:
    files = {"features.csv": features_csv(digits, [["short", "0.1", "0.2"]])}
    message = rejects(evaluator, digits, make_submission([*pool_rows(digits, 2), ["short", "1"]], files))
    assert "features.csv line 2: 3 field(s), the header has 65" in message


@pytest.mark.parametrize(
    ("item", "rule"),
    [("bad id", "is not a valid id"), ("x.png", "is not a valid id"), ("", "is not a valid id")],
)
def test_it_rejects_an_invalid_new_item_id(
    evaluator: Evaluator[Any, Any], digits: TrainingTask, make_submission: MakeSubmission, item: str, rule: str
) -> None:
    files = {"features.csv": features_csv(digits, [[item, *vector()]])}
    assert rule in rejects(evaluator, digits, make_submission(pool_rows(digits, 2), files))


def test_it_rejects_a_new_item_with_a_pool_id(
    evaluator: Evaluator[Any, Any], digits: TrainingTask, make_submission: MakeSubmission
) -> None:
    pool_id = digits.pool.ids[0]
    files = {"features.csv": features_csv(digits, [[pool_id, *vector()]])}
    message = rejects(evaluator, digits, make_submission(pool_rows(digits, 2), files))
    assert f'item "{pool_id}" is an id of the pool; give new items ids of their own' in message


def test_it_rejects_a_new_item_listed_twice_in_features_csv(
    evaluator: Evaluator[Any, Any], digits: TrainingTask, make_submission: MakeSubmission
) -> None:
    files = {"features.csv": features_csv(digits, [["n1", *vector()], ["n1", *vector()]])}
    message = rejects(evaluator, digits, make_submission([*pool_rows(digits, 2), ["n1", "1"]], files))
    assert 'features.csv line 3: item "n1" appears twice (first on line 2)' in message


def test_it_rejects_a_feature_row_that_labels_csv_does_not_list(
    evaluator: Evaluator[Any, Any], digits: TrainingTask, make_submission: MakeSubmission
) -> None:
    files = {"features.csv": features_csv(digits, [["n1", *vector()], ["n2", *vector()]])}
    message = rejects(evaluator, digits, make_submission([*pool_rows(digits, 2), ["n1", "1"]], files))
    assert 'features.csv line 3: item "n2" is not listed in labels.csv' in message


def test_it_rejects_an_item_that_is_neither_a_pool_id_nor_a_new_row(
    evaluator: Evaluator[Any, Any], digits: TrainingTask, make_submission: MakeSubmission
) -> None:
    message = rejects(evaluator, digits, make_submission([*pool_rows(digits, 2), ["ghost", "1"]]))
    assert 'item "ghost": neither an id of the pool nor an item of features.csv' in message


def test_it_rejects_images_in_a_feature_task(
    evaluator: Evaluator[Any, Any], digits: TrainingTask, make_submission: MakeSubmission
) -> None:
    listed = rejects(evaluator, digits, make_submission([*pool_rows(digits, 2), ["a.png", "1"]], {"a.png": b"x"}))
    assert 'item "a.png": this task takes feature vectors (features.csv), not image files' in listed
    unlisted = rejects(evaluator, digits, make_submission(pool_rows(digits, 2), {"img/b.png": b"x"}))
    assert "img/b.png: this task takes feature vectors, not images; remove the file" in unlisted


def test_it_rejects_more_feature_rows_than_max_items(
    evaluator: Evaluator[Any, Any], digits: TrainingTask, make_submission: MakeSubmission
) -> None:
    rows = [[f"n{k}", *vector()] for k in range(digits.config.max_items + 1)]
    files = {"features.csv": features_csv(digits, rows)}
    message = rejects(evaluator, digits, make_submission(pool_rows(digits, 2), files))
    assert f"features.csv: more than max_items = {digits.config.max_items} rows" in message


def test_it_rejects_features_csv_when_the_task_accepts_only_pool_items(
    evaluator: Evaluator[Any, Any], digits: TrainingTask, digits_dir: Path, make_submission: MakeSubmission
) -> None:
    closed = evaluator.load_task(digits_dir, {**digits.config.as_dict(), "allow_new_items": False})
    files = {"features.csv": features_csv(digits, [["n1", *vector()]])}
    message = rejects(evaluator, closed, make_submission([*pool_rows(digits, 2), ["n1", "1"]], files))
    assert "features.csv: this task accepts only pool items; remove the file" in message
    no_file = rejects(evaluator, closed, make_submission([*pool_rows(digits, 2), ["n1", "1"]]))
    assert "not an id of the pool (this task accepts only pool items)" in no_file
