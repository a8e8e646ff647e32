"""test-set-creation: every rule a submission can break, one test each."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from evaluators import Evaluator, SubmissionError
from evaluators.test_set_creation.task import TestSetTask
from evaluators.test_set_creation.validation import MAX_SUBMISSION_BYTES
from tests.evaluators.test_set_creation.helpers import N_ITEMS, WriteCsv


def rows_of(task: TestSetTask, count: int = N_ITEMS, start: int = 0) -> list[list[str]]:
    """`count` distinct pool items, each claiming the first label."""
    return [[task.pool_ids[row], task.config.labels[0]] for row in range(start, start + count)]


def rejects(evaluator: Evaluator[Any, Any], task: TestSetTask, path: Path) -> str:
    with pytest.raises(SubmissionError) as raised:
        evaluator.validate(task, path)
    return str(raised.value)


def test_it_accepts_exactly_n_items_in_file_order(
    evaluator: Evaluator[Any, Any], task: TestSetTask, write_csv: WriteCsv
) -> None:
    rows = rows_of(task)[::-1]
    rows[0][1] = task.config.labels[3]
    parsed = evaluator.validate(task, write_csv(rows))
    assert parsed.rows.tolist() == [task.row_of[item] for item, _ in rows]
    assert parsed.claimed.tolist() == [3, 0, 0, 0, 0, 0]
    assert parsed.claimed.dtype == np.int64


def test_it_accepts_a_byte_order_mark_crlf_and_spaces(
    evaluator: Evaluator[Any, Any], task: TestSetTask, write_csv: WriteCsv
) -> None:
    body = "".join(f' "{item}" , {label}\r\n' for item, label in rows_of(task))
    assert evaluator.validate(task, write_csv("\ufeffitem,label\r\n" + body)).rows.size == N_ITEMS


def test_it_rejects_a_missing_file(evaluator: Evaluator[Any, Any], task: TestSetTask, tmp_path: Path) -> None:
    assert "no such file" in rejects(evaluator, task, tmp_path / "absent.csv")


def test_it_rejects_a_directory(evaluator: Evaluator[Any, Any], task: TestSetTask, tmp_path: Path) -> None:
    assert "is a directory" in rejects(evaluator, task, tmp_path)


def test_it_rejects_an_oversized_file_before_reading_it(
    evaluator: Evaluator[Any, Any], task: TestSetTask, tmp_path: Path
) -> None:
    huge = tmp_path / "huge.csv"
    with huge.open("wb") as handle:
        handle.truncate(MAX_SUBMISSION_BYTES + 1)
    assert f"limit of {MAX_SUBMISSION_BYTES}" in rejects(evaluator, task, huge)


def test_it_rejects_a_file_that_is_not_utf8(
    evaluator: Evaluator[Any, Any], task: TestSetTask, write_csv: WriteCsv
) -> None:
    assert "not UTF-8 text" in rejects(evaluator, task, write_csv(b"item,label\n\xff,cat\n"))


def test_it_rejects_an_empty_file(evaluator: Evaluator[Any, Any], task: TestSetTask, write_csv: WriteCsv) -> None:
    assert "the file is empty" in rejects(evaluator, task, write_csv(""))


def test_it_rejects_a_wrong_header(evaluator: Evaluator[Any, Any], task: TestSetTask, write_csv: WriteCsv) -> None:
    assert "the header must be item,label" in rejects(evaluator, task, write_csv("ImageID,label\npool_00001,cat\n"))


def test_it_rejects_an_empty_line(evaluator: Evaluator[Any, Any], task: TestSetTask, write_csv: WriteCsv) -> None:
    text = "item,label\n" + "\n".join(f"{i},{label}" for i, label in rows_of(task)[:3]) + "\n\n"
    assert "line 5: empty line" in rejects(evaluator, task, write_csv(text))


def test_it_rejects_a_row_with_one_field(
    evaluator: Evaluator[Any, Any], task: TestSetTask, write_csv: WriteCsv
) -> None:
    rows = rows_of(task)
    rows[2] = [rows[2][0]]
    assert "line 4: 1 field(s), expected 2 (item,label)" in rejects(evaluator, task, write_csv(rows))


@pytest.mark.parametrize("count", [N_ITEMS - 1, N_ITEMS + 1])
def test_it_rejects_a_row_count_other_than_n_items(
    evaluator: Evaluator[Any, Any], task: TestSetTask, write_csv: WriteCsv, count: int
) -> None:
    message = rejects(evaluator, task, write_csv(rows_of(task, count)))
    assert f"lists {count} items; this task takes exactly n_items = {N_ITEMS} items" in message


def test_it_rejects_a_header_only_file(evaluator: Evaluator[Any, Any], task: TestSetTask, write_csv: WriteCsv) -> None:
    assert "no item is listed" in rejects(evaluator, task, write_csv([]))


def test_it_rejects_an_item_that_is_not_in_the_pool(
    evaluator: Evaluator[Any, Any], task: TestSetTask, write_csv: WriteCsv
) -> None:
    rows = rows_of(task)
    rows[1][0] = "train_00001"
    assert 'line 3: item "train_00001" is not an id of the pool' in rejects(evaluator, task, write_csv(rows))


def test_it_rejects_an_item_listed_twice_even_with_another_label(
    evaluator: Evaluator[Any, Any], task: TestSetTask, write_csv: WriteCsv
) -> None:
    rows = rows_of(task)
    rows[5] = [rows[0][0], task.config.labels[2]]
    message = rejects(evaluator, task, write_csv(rows))
    assert f'line 7: item "{rows[0][0]}" is listed twice (first on line 2)' in message


def test_it_rejects_an_unknown_label_with_a_case_hint(
    evaluator: Evaluator[Any, Any], task: TestSetTask, write_csv: WriteCsv
) -> None:
    rows = rows_of(task)
    rows[0][1] = "Cat"
    rows[1][1] = "zebra"
    message = rejects(evaluator, task, write_csv(rows))
    assert message.startswith("2 problems:")
    assert 'line 2: label "Cat" is not a label of this task (labels are case-sensitive)' in message
    assert 'line 3: label "zebra" is not a label of this task; the labels are airplane, bird, car' in message
