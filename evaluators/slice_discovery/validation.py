"""Parsing and checking a slice-discovery submission: one score per example and predicted slice.

Two encodings of the same table are accepted, told apart by their first bytes (never by the file name):
a parquet file (magic `PAR1`) or a UTF-8 CSV file. Either has the column `id` first, then exactly
`n_pred_slices` numeric score columns (any names), one row per example of test_predictions.csv, in any
order. Every rule break is a `SubmissionError` naming the line (CSV) or row (parquet), the column and the
value.

Both are read in bounded chunks (see `score_table.py`): memory follows the result, one float64 per score,
not the file. Faults are reported in the order of a whole-file reader: the file's encoding first, then the
first line that breaks a shape or id rule, then the first score that is not a finite number, then the ids
that have no row. This module needs numpy only; the parquet reader (pyarrow) is imported for parquet files.

`check_scores` (the evaluator's `check`) reads and checks exactly as `parse_scores` does, through the same
readers, and stores no score (see `ScoreTable`).
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from evaluators.base import SubmissionError
from evaluators.inputs import check_single_file, open_text_file, show
from evaluators.slice_discovery.data import ID_COLUMN
from evaluators.slice_discovery.ids import encode_ids
from evaluators.slice_discovery.score_table import FloatMatrix, ScoreTable, check_header
from evaluators.slice_discovery.task import SliceTask

MAX_SUBMISSION_BYTES = 256 * 1024 * 1024
PARQUET_MAGIC = b"PAR1"
CHUNK_ROWS = 16_384
"""Lines decoded at a time: a few MB of Python objects, whatever the file's size."""


@dataclass(frozen=True)
class SliceScores:
    """A valid submission: score column names (file order) and scores, row i = example i of the predictions."""

    columns: tuple[str, ...]
    scores: FloatMatrix
    file_format: str


def _file_kind(path: Path, label: str) -> str:
    """Parquet or CSV, from the first bytes; refuses a missing path, a directory and an oversized file."""
    try:
        check_single_file(path, max_bytes=MAX_SUBMISSION_BYTES, label=label, expected="a single CSV or parquet file")
        with path.open("rb") as handle:
            head = handle.read(len(PARQUET_MAGIC))
    except OSError as exc:
        raise SubmissionError(f"{label}: cannot be read ({exc.strerror or exc})") from exc
    return "parquet" if head == PARQUET_MAGIC else "csv"


# --- CSV ---------------------------------------------------------------------------------------------------


def csv_lines(lines: Iterable[str], label: str) -> Iterator[tuple[int, list[str]]]:
    """(line number, fields) of every non-blank line of `lines` (a text stream opened with `newline=""`),
    read lazily; a blank line is allowed only at the end of the file."""
    blank_line = 0
    reader = csv.reader(lines, strict=True)
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


class _CsvScores:
    """Lines of a CSV submission, taken a chunk at a time into a `ScoreTable`.

    Shape and id faults are raised at once (the first line wins: a chunk is checked before a later line's
    fault is raised); the first score fault is kept and raised once every line has passed those rules.
    """

    def __init__(self, task: SliceTask, columns: tuple[str, ...], label: str, *, keep_scores: bool) -> None:
        self.columns = columns
        self.label = label
        self.table = ScoreTable(task, len(columns), label, "line", keep_scores=keep_scores)
        self.pending: list[tuple[int, list[str]]] = []
        self.score_fault = ""
        self.unexplained = False  # numpy refused a cell that float() accepts (no message can name it)

    def add(self, line: int, fields: list[str]) -> None:
        if len(fields) != len(self.columns) + 1:
            self.flush()
            raise SubmissionError(
                f"{self.label}: line {line} has {len(fields)} fields, the header has {len(self.columns) + 1} "
                f"(wrong number of columns)"
            )
        self.pending.append((line, fields))
        if len(self.pending) == CHUNK_ROWS:
            self.flush()

    def flush(self) -> None:
        """Check the pending lines' ids (raising the first fault) and store their scores."""
        pending, self.pending = self.pending, []
        if not pending:
            return
        ids = [fields[0].strip() for _, fields in pending]
        places = np.fromiter((line for line, _ in pending), dtype=np.int64, count=len(pending))
        rows, fault = self.table.claim(encode_ids(ids), places)
        if fault is not None:
            raise SubmissionError(self.table.id_fault(ids[fault], int(rows[fault]), int(places[fault])))
        scores = self._scores(pending)
        if scores is not None:
            self.table.put(rows, scores)

    def _scores(self, pending: list[tuple[int, list[str]]]) -> FloatMatrix | None:
        cells = [fields[1:] for _, fields in pending]
        try:
            # float() per cell, vectorised; the slow search below only runs on a fault, to name it.
            scores = np.array(cells, dtype=np.float64).reshape(len(pending), len(self.columns))
            if np.isfinite(scores).all():
                return scores
        except ValueError:
            pass
        if not self.score_fault:
            self.score_fault = self._name_fault(pending)
            self.unexplained = self.unexplained or not self.score_fault
        return None

    def _name_fault(self, pending: list[tuple[int, list[str]]]) -> str:
        for line, fields in pending:
            for column, text in zip(self.columns, fields[1:], strict=True):
                problem = _bad_cell(text)
                if problem:
                    return f"{self.label}: line {line}, column {show(column)}: {show(text)} {problem}"
        return ""

    def finish(self) -> None:
        """Raise the first score fault, or name the ids without a row; return when the file is valid."""
        self.flush()
        if self.score_fault:
            raise SubmissionError(self.score_fault)
        if self.unexplained:
            raise SubmissionError(f"{self.label}: a score is not a finite number")
        self.table.check_complete()


def _read_csv(task: SliceTask, path: Path, label: str, *, keep_scores: bool) -> tuple[tuple[str, ...], ScoreTable]:
    with open_text_file(path, max_bytes=MAX_SUBMISSION_BYTES, label=label) as handle:
        lines = csv_lines(handle, label)
        header = next(lines, None)
        if header is None:
            raise SubmissionError(f"{label}: the file is empty; a header line '{ID_COLUMN},<score>,...' is expected")
        columns = check_header(task, header[1], label)
        reader = _CsvScores(task, columns, label, keep_scores=keep_scores)
        try:
            for line, fields in lines:
                reader.add(line, fields)
        except SubmissionError:
            reader.flush()  # a fault on an earlier line of the pending chunk comes first
            raise
        reader.finish()
        return columns, reader.table


def _read(task: SliceTask, path: Path, *, keep_scores: bool) -> tuple[str, tuple[str, ...], ScoreTable]:
    """(file format, score column names, the filled table) of a valid submission; `SubmissionError` otherwise."""
    label = path.name
    kind = _file_kind(path, label)
    if kind == "parquet":
        # Imported here, not at the top: validating a CSV submission must not pay for pyarrow's memory.
        from evaluators.slice_discovery.parquet_scores import read_parquet_scores

        columns, table = read_parquet_scores(task, path, label, keep_scores=keep_scores)
    else:
        columns, table = _read_csv(task, path, label, keep_scores=keep_scores)
    return kind, columns, table


def parse_scores(task: SliceTask, path: Path) -> SliceScores:
    """Read and check a submission (CSV or parquet); raise `SubmissionError` with the first broken rule.

    Reads only the submission and the task's public predictions (already loaded in `task`).
    """
    kind, columns, table = _read(task, path, keep_scores=True)
    return SliceScores(columns=columns, scores=table.kept_scores(), file_format=kind)


def check_scores(task: SliceTask, path: Path) -> None:
    """`parse_scores` without its result: the same checks, in the same order, with the same messages, and no
    score kept (memory: the task's id index, one integer per example, and one chunk of the file)."""
    _read(task, path, keep_scores=False)
