"""The `item,label` CSV file of both creation benchmarks (training-set-creation's `labels.csv`, test-set-creation's
submission), and the collection of a validation stage's problems into one participant-facing error.

Format: UTF-8 (a byte-order mark is allowed), RFC 4180 quoting, first line the header `item,label`, then one
`item,label` row per line; fields are stripped of surrounding spaces; an empty line is an error.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from evaluators.base import SubmissionError
from evaluators.inputs import show

MAX_REPORTED = 20
HEADER = ["item", "label"]


class Problems:
    """Collects messages; `raise_if_any` turns them into one `SubmissionError` (the first `MAX_REPORTED`,
    then a count), so a participant sees every fault of a stage in one round instead of one per upload."""

    def __init__(self) -> None:
        self.messages: list[str] = []
        self.count = 0

    def add(self, message: str) -> None:
        """Record one problem (a full sentence naming the file, the line, the value and the rule)."""
        self.count += 1
        if len(self.messages) < MAX_REPORTED:
            self.messages.append(message)

    def raise_if_any(self) -> None:
        """Raise the recorded problems as one `SubmissionError`; do nothing when there is none."""
        if self.count == 1:
            raise SubmissionError(self.messages[0])
        if self.count:
            more = f"\n... and {self.count - MAX_REPORTED} more" if self.count > MAX_REPORTED else ""
            raise SubmissionError(f"{self.count} problems:\n" + "\n".join(self.messages) + more)


@dataclass(frozen=True)
class Row:
    """One row of `labels.csv`: its physical line number, the item and the label as written."""

    line: int
    item: str
    label: str


def _records(text: str, name: str) -> list[tuple[int, list[str]]]:
    reader = csv.reader(io.StringIO(text, newline=""), skipinitialspace=True)
    records: list[tuple[int, list[str]]] = []
    try:
        for record in reader:
            records.append((reader.line_num, record))
    except csv.Error as exc:
        raise SubmissionError(f"{name} line {reader.line_num + 1}: not valid CSV ({exc})") from exc
    return records


def parse_labels_csv(text: str, name: str) -> list[Row]:
    """The rows of a labels file (header `item,label`); raise `SubmissionError` on a malformed row."""
    records = _records(text, name)
    if not records:
        raise SubmissionError(f"{name}: the file is empty; the first line must be the header item,label")
    line, header = records[0]
    if [field.strip() for field in header] != HEADER:
        raise SubmissionError(f"{name} line {line}: the header must be item,label, got {show(','.join(header))}")
    rows: list[Row] = []
    problems = Problems()
    for line, record in records[1:]:
        if not record:
            problems.add(f"{name} line {line}: empty line; every line after the header is item,label")
        elif len(record) != len(HEADER):
            problems.add(f"{name} line {line}: {len(record)} field(s), expected 2 (item,label)")
        else:
            rows.append(Row(line, record[0].strip(), record[1].strip()))
    problems.raise_if_any()
    if not rows:
        raise SubmissionError(f"{name}: no item is listed after the header")
    return rows
