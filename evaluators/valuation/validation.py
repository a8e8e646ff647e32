"""Parsing and checking a valuation submission: a CSV `pair,predicted_accuracy`, one row per pair.

Every pair of the task appears exactly once (any row order); a prediction is a plain decimal number from
0 to 1 (an accuracy as a fraction, not a percentage). Blank lines are ignored; spaces around a field are
tolerated. Nothing else is accepted: unknown or repeated pairs, NaN, infinities, `1_000`-style digits.
"""

from __future__ import annotations

import csv
import io
import math
import re
from dataclasses import dataclass
from pathlib import Path

from evaluators.base import SubmissionError
from evaluators.inputs import read_text_file, show
from evaluators.valuation.task import ValuationTask

MAX_SUBMISSION_BYTES = 1_000_000
HEADER = ("pair", "predicted_accuracy")
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]{1,3})?")


@dataclass(frozen=True)
class Predictions:
    """A valid submission: pair -> predicted accuracy, for every pair of the task."""

    values: dict[str, float]


def _value(text: str, where: str) -> float:
    value = text.strip()
    if not _DECIMAL.fullmatch(value):
        raise SubmissionError(f"{where}: {show(value)} is not a decimal number (e.g. 0.85)")
    number = float(value)
    if not math.isfinite(number) or not 0.0 <= number <= 1.0:
        raise SubmissionError(
            f"{where}: {show(value)} is outside [0, 1]; predict the accuracy as a fraction (0.85, not 85)"
        )
    return number


def _rows(text: str, name: str) -> list[tuple[int, list[str]]]:
    """(line number, fields) of every non-blank line, header included."""
    reader = csv.reader(io.StringIO(text, newline=""))
    rows: list[tuple[int, list[str]]] = []
    try:
        for fields in reader:
            if fields and any(field.strip() for field in fields):
                rows.append((reader.line_num, fields))
    except csv.Error as exc:
        raise SubmissionError(f"{name}: line {reader.line_num}: not valid CSV: {exc}") from exc
    return rows


def parse_predictions(task: ValuationTask, path: Path) -> Predictions:
    """Read and check a submission file; raise `SubmissionError` with the first broken rule."""
    name = path.name
    rows = _rows(read_text_file(path, max_bytes=MAX_SUBMISSION_BYTES, label=name), name)
    if not rows:
        raise SubmissionError(f"{name}: the file is empty; expected the header {','.join(HEADER)} and one row per pair")
    line, header = rows[0]
    if tuple(field.strip() for field in header) != HEADER:
        raise SubmissionError(
            f"{name}: line {line}: the header must be {','.join(HEADER)}, got {show(','.join(header))}"
        )
    values: dict[str, float] = {}
    for line, fields in rows[1:]:
        where = f"{name}: line {line}"
        if len(fields) != len(HEADER):
            raise SubmissionError(f"{where}: {len(fields)} fields; expected 2 (pair, predicted_accuracy)")
        pair = fields[0].strip()
        if pair not in task.pairs:
            raise SubmissionError(f"{where}: {show(pair)} is not a pair of this task ({', '.join(task.config.pairs)})")
        if pair in values:
            raise SubmissionError(f"{where}: pair {show(pair)} appears a second time; give one prediction per pair")
        values[pair] = _value(fields[1], where)
    missing = [pair for pair in task.config.pairs if pair not in values]
    if missing:
        raise SubmissionError(f"{name}: no prediction for pair {show(missing[0])}; every pair needs one row")
    return Predictions(values={pair: values[pair] for pair in task.config.pairs})
