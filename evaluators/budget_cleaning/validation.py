"""Parsing and checking a budget-cleaning submission: which training rows to clean.

Two CSV layouts are accepted, told apart by the header line:

* a selection list (the platform's format): header `id`, then one selected row id per line, any order; a
  header alone selects nothing;
* a boolean mask (DCBench's solution, "one boolean per row"): header `id,clean` (or `id,idx_selected`, or
  `,idx_selected` as `DataFrame.to_csv` writes DCBench's `idx_selected` artifact), then one line per
  training row, any order, with `true`/`false` or `1`/`0` (any letter case).

Ids are the index values of X_train_dirty.csv, as written there. Rules: every id known and listed once; in
a mask every row present; at most `int(budget * n_train)` rows selected.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from evaluators.base import SubmissionError
from evaluators.budget_cleaning.data import X_TRAIN_DIRTY
from evaluators.budget_cleaning.task import CleaningTask
from evaluators.inputs import read_text_file, show

MAX_SUBMISSION_BYTES = 64 * 1024 * 1024
LIST_HEADER = ("id",)
MASK_ID_HEADERS = ("id", "")
MASK_FLAG_HEADERS = ("clean", "idx_selected")
_TRUE = frozenset({"true", "1"})
_FALSE = frozenset({"false", "0"})
_SHOWN_MISSING = 3


@dataclass(frozen=True)
class CleaningSelection:
    """A valid submission: the selected training rows (0-based positions, ascending) and the layout used."""

    rows: tuple[int, ...]
    file_format: str


def _lines(text: str, label: str) -> Iterator[tuple[int, list[str]]]:
    """(line number, stripped fields) of every non-blank line, read lazily (the checks refuse a huge file at
    its first broken line, without holding it all); a blank line is allowed only at the end of the file."""
    blank_line = 0
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        for fields in reader:
            if not fields:
                blank_line = blank_line or reader.line_num
                continue
            if blank_line:
                raise SubmissionError(f"{label}: line {blank_line} is blank; blank lines are only allowed at the end")
            yield reader.line_num, [field.strip() for field in fields]
    except csv.Error as exc:
        raise SubmissionError(f"{label}: line {reader.line_num}: not valid CSV ({exc})") from exc


def _layout(header: list[str], label: str) -> str:
    if tuple(header) == LIST_HEADER:
        return "list"
    if len(header) == 2 and header[0] in MASK_ID_HEADERS and header[1] in MASK_FLAG_HEADERS:
        return "mask"
    raise SubmissionError(
        f"{label}: line 1: the header {show(','.join(header))} is neither 'id' (a list of the row ids to clean) "
        "nor 'id,clean' (one true/false per training row)"
    )


def _row(task: CleaningTask, fields: list[str], width: int, line: int, label: str) -> int:
    """The training row named on a line; checks the field count and that the id is known."""
    if len(fields) != width:
        raise SubmissionError(f"{label}: line {line} has {len(fields)} fields, expected {width}")
    row = task.row_of.get(fields[0])
    if row is None:
        raise SubmissionError(f"{label}: line {line}: {show(fields[0])} is not a training row id of {X_TRAIN_DIRTY}")
    return row


def _check_repeat(seen: dict[int, int], row: int, line: int, row_id: str, label: str) -> None:
    if row in seen:
        raise SubmissionError(f"{label}: line {line}: the id {show(row_id)} is repeated (first on line {seen[row]})")
    seen[row] = line


def _selected_list(task: CleaningTask, body: Iterator[tuple[int, list[str]]], label: str) -> list[int]:
    seen: dict[int, int] = {}
    for line, fields in body:
        row = _row(task, fields, 1, line, label)
        _check_repeat(seen, row, line, fields[0], label)
    return list(seen)


def _flag(text: str, line: int, label: str) -> bool:
    value = text.lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise SubmissionError(f"{label}: line {line}: {show(text)} is not a boolean (true/false or 1/0)")


def _selected_mask(task: CleaningTask, body: Iterator[tuple[int, list[str]]], label: str) -> list[int]:
    seen: dict[int, int] = {}
    selected: list[int] = []
    for line, fields in body:
        row = _row(task, fields, 2, line, label)
        _check_repeat(seen, row, line, fields[0], label)
        if _flag(fields[1], line, label):
            selected.append(row)
    if len(seen) != task.n_train:
        missing = [task.ids[row] for row in range(task.n_train) if row not in seen]
        shown = ", ".join(show(row_id) for row_id in missing[:_SHOWN_MISSING])
        raise SubmissionError(
            f"{label}: {len(missing)} training row(s) have no line, e.g. {shown}; a mask lists every row of "
            f"{X_TRAIN_DIRTY} once (or use the header 'id' and list only the rows to clean)"
        )
    return selected


def parse_selection(task: CleaningTask, path: Path) -> CleaningSelection:
    """Read and check a submission file; raise `SubmissionError` with the first broken rule.

    Reads only the submission and the task's public data (already loaded in `task`).
    """
    label = path.name
    body = _lines(read_text_file(path, max_bytes=MAX_SUBMISSION_BYTES, label=label), label)
    header = next(body, None)
    if header is None:
        raise SubmissionError(f"{label}: the file is empty; a header line 'id' is expected")
    layout = _layout(header[1], label)
    selected = _selected_list(task, body, label) if layout == "list" else _selected_mask(task, body, label)
    if len(selected) > task.max_selected:
        raise SubmissionError(
            f"{label}: {len(selected)} rows selected, more than the budget of {task.max_selected} "
            f"(int(budget {task.config.budget} x {task.n_train} training rows))"
        )
    return CleaningSelection(rows=tuple(sorted(selected)), file_format=layout)
