"""Parsing and checking a slice-discovery submission: one score per example and predicted slice.

Two encodings of the same table are accepted, told apart by their first bytes (never by the file name):
a parquet file (magic `PAR1`) or a UTF-8 CSV file. Either has the column `id` first, then exactly
`n_pred_slices` numeric score columns (any names), one row per example of test_predictions.csv, in any
order. Every rule break is a `SubmissionError` naming the line (CSV) or row (parquet), the column and the
value.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.parquet as pq

from evaluators.base import SubmissionError
from evaluators.inputs import read_text_file, show
from evaluators.slice_discovery.data import ID_COLUMN, PREDICTIONS_FILE
from evaluators.slice_discovery.task import SliceTask

MAX_SUBMISSION_BYTES = 256 * 1024 * 1024
PARQUET_MAGIC = b"PAR1"
_SHOWN_MISSING = 3

FloatMatrix = npt.NDArray[np.float64]


@dataclass(frozen=True)
class SliceScores:
    """A valid submission: score column names (file order) and scores, row i = example i of the predictions."""

    columns: tuple[str, ...]
    scores: FloatMatrix
    file_format: str


@dataclass(frozen=True)
class _Table:
    """A decoded table before the id rules: ids, their places ("line 7", "row 6") and the score strings or
    values."""

    columns: tuple[str, ...]
    ids: list[str]
    places: list[str]
    scores: FloatMatrix


def _file_kind(path: Path, label: str) -> str:
    """Parquet or CSV, from the first bytes; refuses a missing path, a directory and an oversized file."""
    try:
        if path.is_dir():
            raise SubmissionError(f"{label}: is a directory; a single CSV or parquet file is expected")
        if not path.is_file():
            raise SubmissionError(f"{label}: no such file")
        size = path.stat().st_size
        if size > MAX_SUBMISSION_BYTES:
            raise SubmissionError(f"{label}: the file has {size} bytes, more than the limit of {MAX_SUBMISSION_BYTES}")
        with path.open("rb") as handle:
            head = handle.read(len(PARQUET_MAGIC))
    except OSError as exc:
        raise SubmissionError(f"{label}: cannot be read ({exc.strerror or exc})") from exc
    return "parquet" if head == PARQUET_MAGIC else "csv"


def _check_header(task: SliceTask, names: Sequence[str], label: str) -> tuple[str, ...]:
    expected = task.config.n_pred_slices
    if not names or names[0].strip() != ID_COLUMN:
        first = show(names[0]) if names else "nothing"
        raise SubmissionError(f"{label}: the first column must be {ID_COLUMN!r}, found {first}")
    found = len(names) - 1
    if found != expected:
        raise SubmissionError(
            f"{label}: wrong number of columns: {found} score column(s) after {ID_COLUMN!r}, this task needs "
            f"exactly {expected} (one per predicted slice, n_pred_slices)"
        )
    return tuple(names[1:])


# --- CSV ---------------------------------------------------------------------------------------------------


def csv_lines(text: str, label: str) -> Iterator[tuple[int, list[str]]]:
    """(line number, fields) of every non-blank line, read lazily so that memory follows the valid rows only;
    a blank line is allowed only at the end of the file."""
    blank_line = 0
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        for fields in reader:
            if not fields or fields == [""]:
                blank_line = blank_line or reader.line_num
                continue
            if blank_line:
                raise SubmissionError(f"{label}: line {blank_line} is blank; blank lines are only allowed at the end")
            yield reader.line_num, fields
    except csv.Error as exc:
        raise SubmissionError(f"{label}: line {reader.line_num}: not valid CSV ({exc})") from exc


def _bad_cell(text: str) -> str | None:
    """Why a CSV cell is not a usable score (None when it is)."""
    try:
        value = float(text)
    except ValueError:
        return "is not a number"
    return None if math.isfinite(value) else "is not finite (NaN and infinity are not scores)"


def _csv_scores(rows: list[tuple[int, list[str]]], columns: tuple[str, ...], label: str) -> FloatMatrix:
    cells = [fields[1:] for _, fields in rows]
    try:
        # float() per cell, vectorised; the slow search below only runs on a fault, to name it.
        scores = np.array(cells, dtype=np.float64).reshape(len(rows), len(columns))
        if np.isfinite(scores).all():
            return scores
    except ValueError:
        pass
    for (line, _), row in zip(rows, cells, strict=True):
        for column, text in zip(columns, row, strict=True):
            problem = _bad_cell(text)
            if problem:
                raise SubmissionError(f"{label}: line {line}, column {show(column)}: {show(text)} {problem}")
    raise SubmissionError(f"{label}: a score is not a finite number")  # unreachable: a bad cell was found above


def _read_csv(task: SliceTask, path: Path, label: str) -> _Table:
    lines = csv_lines(read_text_file(path, max_bytes=MAX_SUBMISSION_BYTES, label=label), label)
    header = next(lines, None)
    if header is None:
        raise SubmissionError(f"{label}: the file is empty; a header line '{ID_COLUMN},<score>,...' is expected")
    columns = _check_header(task, header[1], label)
    body: list[tuple[int, list[str]]] = []
    seen: dict[str, int] = {}
    for line, fields in lines:
        if len(fields) != len(columns) + 1:
            raise SubmissionError(
                f"{label}: line {line} has {len(fields)} fields, the header has {len(columns) + 1} "
                f"(wrong number of columns)"
            )
        # The id rules are checked while reading, so that a huge file of repeats is refused at its first one.
        example_id = fields[0].strip()
        _check_id(task, example_id, seen, line, label)
        body.append((line, fields))
    return _Table(
        columns=columns,
        ids=[fields[0].strip() for _, fields in body],
        places=[f"line {line}" for line, _ in body],
        scores=_csv_scores(body, columns, label),
    )


def _check_id(task: SliceTask, example_id: str, seen: dict[str, int], line: int, label: str) -> None:
    if example_id not in task.predictions.row_of:
        raise SubmissionError(
            f"{label}: line {line}: the id {show(example_id)} is not an example of {PREDICTIONS_FILE}"
        )
    if example_id in seen:
        raise SubmissionError(
            f"{label}: line {line}: the id {show(example_id)} is repeated (first on line {seen[example_id]})"
        )
    seen[example_id] = line


# --- parquet -----------------------------------------------------------------------------------------------


def _parquet_schema(task: SliceTask, parquet: pq.ParquetFile, label: str) -> tuple[str, ...]:
    schema = parquet.schema_arrow
    columns = _check_header(task, schema.names, label)
    id_type = schema.field(0).type
    if not (pa.types.is_string(id_type) or pa.types.is_large_string(id_type) or pa.types.is_integer(id_type)):
        raise SubmissionError(f"{label}: column {ID_COLUMN!r} must hold strings, not {id_type}")
    for index, name in enumerate(columns, start=1):
        field_type = schema.field(index).type
        if not (pa.types.is_floating(field_type) or pa.types.is_integer(field_type)):
            raise SubmissionError(f"{label}: score column {show(name)} must be numeric, not {field_type}")
    if parquet.metadata.num_rows > task.n_examples:
        raise SubmissionError(
            f"{label}: {parquet.metadata.num_rows} rows, more than the {task.n_examples} examples of "
            f"{PREDICTIONS_FILE} (an id is repeated or unknown)"
        )
    return columns


def _first_null(column: pa.ChunkedArray) -> int:
    return int(np.flatnonzero(column.is_null().to_numpy(zero_copy_only=False))[0])


def _parquet_values(table: pa.Table, columns: tuple[str, ...], label: str) -> tuple[list[str], FloatMatrix]:
    id_column = table.column(0)
    if id_column.null_count:
        raise SubmissionError(f"{label}: row {_first_null(id_column) + 1}: the id is null")
    ids = [str(value) for value in id_column.to_pylist()]
    scores = np.empty((table.num_rows, len(columns)), dtype=np.float64)
    for index, name in enumerate(columns):
        column = table.column(index + 1)
        if column.null_count:
            raise SubmissionError(f"{label}: row {_first_null(column) + 1}, column {show(name)}: the score is null")
        scores[:, index] = column.to_numpy().astype(np.float64)
        bad = np.flatnonzero(~np.isfinite(scores[:, index]))
        if bad.size:
            value = scores[bad[0], index]
            raise SubmissionError(
                f"{label}: row {bad[0] + 1}, column {show(name)}: {value} is not finite (NaN and infinity are not "
                "scores)"
            )
    return ids, scores


def _read_parquet(task: SliceTask, path: Path, label: str) -> _Table:
    try:
        parquet = pq.ParquetFile(path, memory_map=True)
        columns = _parquet_schema(task, parquet, label)
        table = parquet.read()
    except (OSError, ValueError, TypeError, pa.ArrowException) as exc:
        raise SubmissionError(f"{label}: starts like a parquet file but cannot be read as one ({exc})") from exc
    ids, scores = _parquet_values(table, columns, label)
    return _Table(columns=columns, ids=ids, places=[f"row {row}" for row in range(1, len(ids) + 1)], scores=scores)


# --- ids ---------------------------------------------------------------------------------------------------


def _aligned(task: SliceTask, table: _Table, label: str) -> FloatMatrix:
    """The scores reordered to the predictions' row order; every id known, once, none missing."""
    row_of = task.predictions.row_of
    seen: dict[int, str] = {}
    order = np.empty(len(table.ids), dtype=np.intp)
    for position, (example_id, place) in enumerate(zip(table.ids, table.places, strict=True)):
        row = row_of.get(example_id)
        if row is None:
            raise SubmissionError(
                f"{label}: {place}: the id {show(example_id)} is not an example of {PREDICTIONS_FILE}"
            )
        if row in seen:
            raise SubmissionError(f"{label}: {place}: the id {show(example_id)} is repeated (first on {seen[row]})")
        seen[row] = place
        order[position] = row
    if len(seen) != task.n_examples:
        missing = [task.predictions.ids[row] for row in range(task.n_examples) if row not in seen]
        shown = ", ".join(show(example_id) for example_id in missing[:_SHOWN_MISSING])
        raise SubmissionError(
            f"{label}: {len(missing)} id(s) of {PREDICTIONS_FILE} have no row, e.g. {shown}; every example needs "
            "a score in every column"
        )
    scores = np.empty_like(table.scores)
    scores[order] = table.scores
    return scores


def parse_scores(task: SliceTask, path: Path) -> SliceScores:
    """Read and check a submission (CSV or parquet); raise `SubmissionError` with the first broken rule.

    Reads only the submission and the task's public predictions (already loaded in `task`).
    """
    label = path.name
    kind = _file_kind(path, label)
    table = _read_parquet(task, path, label) if kind == "parquet" else _read_csv(task, path, label)
    return SliceScores(columns=table.columns, scores=_aligned(task, table, label), file_format=kind)
