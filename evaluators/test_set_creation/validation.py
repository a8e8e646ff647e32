"""Parsing and checking a test-set-creation submission: a CSV file `item,label` with exactly `n_items` rows.

Rules: the header `item,label`; every item an id of `pool.parquet`, listed once; every label one of the
task's labels; exactly `n_items` rows. Problems of the rows are reported together (the first 20, then a
count), each naming the line, the value and the rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from evaluators.base import SubmissionError
from evaluators.inputs import read_text_file, show
from evaluators.test_set_creation.data import IndexArray
from evaluators.test_set_creation.task import TestSetTask
from evaluators.training_set_creation.item_csv import Problems, Row, parse_labels_csv

MAX_SUBMISSION_BYTES = 10 * 1024 * 1024


@dataclass(frozen=True, eq=False)
class TestItems:
    """A valid submission: pool rows and claimed label indexes, in file order (each pool row at most once)."""

    __test__ = False  # a name starting with "Test" is not a pytest test class
    rows: IndexArray
    claimed: IndexArray

    def pairs(self) -> list[tuple[int, int]]:
        """(pool row, claimed label index) of every item, in file order."""
        return list(zip(self.rows.tolist(), self.claimed.tolist(), strict=True))


def _row_problem(task: TestSetTask, row: Row, first_line: dict[str, int]) -> str | None:
    if row.item in first_line:
        return f"item {show(row.item)} is listed twice (first on line {first_line[row.item]}); list every item once"
    if row.item not in task.row_of:
        return f"item {show(row.item)} is not an id of the pool (pool.parquet)"
    if row.label not in task.label_index:
        hint = " (labels are case-sensitive)" if row.label.lower() in task.label_index else ""
        return (
            f"label {show(row.label)} is not a label of this task{hint}; the labels are "
            f"{', '.join(task.config.labels[:30])}"
        )
    return None


def _check_count(task: TestSetTask, rows: list[Row], name: str) -> None:
    if len(rows) != task.config.n_items:
        raise SubmissionError(
            f"{name} lists {len(rows)} items; this task takes exactly n_items = {task.config.n_items} items"
        )


def parse_test_items(task: TestSetTask, path: Path) -> TestItems:
    """Read and check a submission file; raise `SubmissionError` naming every broken row (up to 20).

    Reads only the submission and the pool's ids (public); nothing about the human labels.
    """
    name = path.name or "submission"
    rows = parse_labels_csv(read_text_file(path, max_bytes=MAX_SUBMISSION_BYTES, label=name), name)
    _check_count(task, rows, name)
    problems = Problems()
    first_line: dict[str, int] = {}
    for row in rows:
        problem = _row_problem(task, row, first_line)
        first_line.setdefault(row.item, row.line)
        if problem is not None:
            problems.add(f"{name} line {row.line}: {problem}")
    problems.raise_if_any()
    return TestItems(
        rows=np.asarray([task.row_of[row.item] for row in rows], dtype=np.int64),
        claimed=np.asarray([task.label_index[row.label] for row in rows], dtype=np.int64),
    )
