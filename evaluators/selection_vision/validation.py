"""Parsing and checking a selection-vision submission: a directory with one file per concept.

Per concept either `<Concept>.csv` (header naming `ImageID` and `Confidence`, one labelled image per line;
a repeated line is a repeated training row) or `<Concept>.json` (one JSON object `{"<ImageID>": 0 or 1}`;
`json.loads` semantics: a repeated key is one entry, at its first position, with its last value). Rules of
the original (a label other than 0/1, more than `max_per_concept` rows or keys, a concept with no file or
two) plus platform rules: an ImageID outside the pool (the originals drop it silently), a concept without
both labels (the model cannot be trained), unexpected files (a misnamed concept file would otherwise be
silently ignored).

A CSV file is read as a stream, a line at a time, and its ImageIDs are looked up a chunk at a time: memory
follows the result (a byte per label, 8 bytes per pool row), not the file, and `check_selection` (the
evaluator's `check`) runs the same reading code keeping no pool row at all. A JSON file is parsed whole
(`json.loads` semantics are the rule).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from evaluators.base import SubmissionError
from evaluators.inputs import JSONObject, json_type_name, open_text_file, parse_json, read_text_file
from evaluators.selection_vision.artifact import reject_unexpected, safe_show, submission_files
from evaluators.selection_vision.data import ID_COLUMN, LABEL_COLUMN, IntArray
from evaluators.selection_vision.task import VisionTask

if TYPE_CHECKING:
    from _csv import Reader as CsvReader  # the reader's type exists for type checkers only on Python 3.11

FORMATS = ("csv", "json")
_BASE_FILE_BYTES = 1_000_000
_BYTES_PER_ROW = 256
_LOOKUP_CHUNK = 4096


@dataclass(frozen=True)
class ConceptSelection:
    """One concept's training rows in the reference order: pool rows and their 0/1 labels."""

    concept: str
    file_name: str
    rows: IntArray
    labels: IntArray

    @property
    def n_positive(self) -> int:
        """Training rows labelled 1."""
        return int(self.labels.sum())


@dataclass(frozen=True)
class VisionSelection:
    """A valid submission: one `ConceptSelection` per concept, in the config's order."""

    concepts: tuple[ConceptSelection, ...]


def max_file_bytes(task: VisionTask) -> int:
    """The size limit of one concept file: generous for `max_per_concept` rows, checked before reading."""
    return _BASE_FILE_BYTES + _BYTES_PER_ROW * task.config.max_per_concept


class _PoolRows:
    """The pool rows of a file's ImageIDs, in file order, looked up a chunk at a time with one vectorised search
    (`ImageIndex.rows_of`): a per-id search costs more than the rest of the validation, and chunks keep the
    memory bounded on a file of a million rows. An unknown id raises `SubmissionError` naming its place.
    With `keep=False` every id is still looked up, and no row is kept (`rows` gives an empty array).
    """

    def __init__(self, task: VisionTask, name: str, *, keep: bool) -> None:
        self.task, self.name, self.keep = task, name, keep
        self.done: list[IntArray] = []
        self.ids: list[str] = []
        self.lines: list[int | None] = []

    def add(self, image_id: str, line: int | None) -> None:
        """Queue an id (`line` None: the message names the file only)."""
        self.ids.append(image_id)
        self.lines.append(line)
        if len(self.ids) == _LOOKUP_CHUNK:
            self.resolve()

    def resolve(self) -> None:
        """Look the queued ids up; raise for the first unknown one."""
        found = self.task.index.rows_of(self.ids)
        missing = np.flatnonzero(found < 0)
        if len(missing):
            first = int(missing[0])
            line = self.lines[first]
            where = self.name if line is None else f"{self.name}: line {line}"
            raise SubmissionError(f"{where}: ImageID {safe_show(self.ids[first])} is not in the candidate pool")
        if self.keep:
            self.done.append(found)
        self.ids.clear()
        self.lines.clear()

    @contextmanager
    def in_file_order(self) -> Iterator[None]:
        """Let an unknown id queued before a broken rule found later be the error raised: the first wins."""
        try:
            yield
        except (SubmissionError, csv.Error):
            self.resolve()
            raise

    def rows(self) -> IntArray:
        """Every row, in file order (after resolving what is queued); empty when not kept."""
        self.resolve()
        return np.concatenate(self.done) if self.done else np.empty(0, dtype=np.int64)


_LABELS = {"0": 0, "1": 1}


def _label_error(name: str, line: int, value: str) -> str:
    return f"{name}: line {line}: {LABEL_COLUMN} {safe_show(value)} is not a label; only 0 and 1 are allowed"


def _csv_row_error(name: str, line: int, n_fields: int, width: int, limit: int) -> str:
    """The message for a line with the wrong number of fields or beyond `max_per_concept` (checked in this
    order)."""
    if n_fields != width:
        return f"{name}: line {line}: {n_fields} fields, the header has {width}"
    return f"{name}: line {line}: more than max_per_concept = {limit} rows (every row counts, repeated rows too)"


def _csv_header(reader: CsvReader, name: str) -> tuple[int, int, int]:
    """(ImageID column, Confidence column, number of columns) from the first non-blank line."""
    for header in reader:
        if not header:
            continue
        for column in (ID_COLUMN, LABEL_COLUMN):
            if header.count(column) != 1:
                raise SubmissionError(
                    f"{name}: line {reader.line_num}: the header must name the columns {ID_COLUMN} and "
                    f"{LABEL_COLUMN} once each (e.g. {ID_COLUMN},{LABEL_COLUMN}); got {safe_show(','.join(header))}"
                )
        return header.index(ID_COLUMN), header.index(LABEL_COLUMN), len(header)
    raise SubmissionError(f"{name}: the file is empty; expected the header {ID_COLUMN},{LABEL_COLUMN} and rows")


def _parse_csv(task: VisionTask, name: str, lines: Iterable[str], *, keep_rows: bool) -> tuple[IntArray, bytearray]:
    """(pool rows, labels: one byte each) of a CSV file's lines (a text stream opened with `newline=""`)."""
    reader = csv.reader(lines)
    rows = _PoolRows(task, name, keep=keep_rows)
    labels = bytearray()
    limit = task.config.max_per_concept
    try:
        with rows.in_file_order():
            id_column, label_column, width = _csv_header(reader, name)
            for fields in reader:
                if not fields:
                    continue  # a blank line (Spark's CSV reader skips them too)
                if len(fields) != width or len(labels) == limit:
                    raise SubmissionError(_csv_row_error(name, reader.line_num, len(fields), width, limit))
                # The id first: on one line an unknown id is reported before a bad label.
                rows.add(fields[id_column], reader.line_num)
                label = _LABELS.get(fields[label_column])
                if label is None:
                    raise SubmissionError(_label_error(name, reader.line_num, fields[label_column]))
                labels.append(label)
    except csv.Error as exc:
        raise SubmissionError(f"{name}: line {reader.line_num}: not valid CSV: {exc}") from exc
    return rows.rows(), labels


def _parse_json(task: VisionTask, name: str, text: str, *, keep_rows: bool) -> tuple[IntArray, bytearray]:
    document = parse_json(text, label=name)
    if not isinstance(document, JSONObject):
        raise SubmissionError(
            f'{name}: must hold one JSON object {{"<ImageID>": 0 or 1, ...}}, got {json_type_name(document)}'
        )
    limit = task.config.max_per_concept
    if len(document) > limit:
        raise SubmissionError(
            f"{name}: {len(document)} ImageIDs, more than max_per_concept = {limit} (a repeated key counts once)"
        )
    rows = _PoolRows(task, name, keep=keep_rows)
    labels = bytearray()
    with rows.in_file_order():
        # json.loads semantics: a repeated key keeps its first position and takes its last value.
        for image_id, value in document.items():
            if isinstance(value, bool) or not isinstance(value, int) or value not in (0, 1):
                raise SubmissionError(
                    f"{name}: key {safe_show(image_id)}: the label must be the number 0 or 1, got "
                    f"{json_type_name(value)} {safe_show(value)}"
                )
            rows.add(image_id, None)
            labels.append(int(value))
    return rows.rows(), labels


def _read_concept(task: VisionTask, path: Path, *, keep_rows: bool) -> tuple[IntArray, bytearray]:
    """(pool rows in file order, empty unless `keep_rows`; labels, one byte each) of a concept file (CSV or
    JSON, by its extension); raise `SubmissionError` for the first broken rule."""
    name = path.name
    if name.endswith(".json"):
        text = read_text_file(path, max_bytes=max_file_bytes(task), label=name)
        rows, labels = _parse_json(task, name, text, keep_rows=keep_rows)
    else:
        # Streamed: the whole text of a million-row file, in the reader's 4-byte characters, is 76 MB.
        with open_text_file(path, max_bytes=max_file_bytes(task), label=name) as handle:
            rows, labels = _parse_csv(task, name, handle, keep_rows=keep_rows)
    positives = labels.count(1)
    if positives in (0, len(labels)):
        missing = "1 (positive)" if positives == 0 else "0 (negative)"
        raise SubmissionError(
            f"{name}: no row labelled {missing}; the fixed model needs both labels to be trained "
            f"({len(labels)} rows in the file)"
        )
    return rows, labels


def parse_concept_file(task: VisionTask, concept: str, path: Path) -> ConceptSelection:
    """Read and check one concept file (CSV or JSON, by its extension); raise `SubmissionError`."""
    rows, labels = _read_concept(task, path, keep_rows=True)
    return ConceptSelection(
        concept=concept,
        file_name=path.name,
        rows=rows,
        labels=np.frombuffer(labels, dtype=np.uint8).astype(np.int64),
    )


def _concept_file(task: VisionTask, files: dict[str, Path], concept: str) -> Path:
    found = [files[f"{concept}.{ext}"] for ext in FORMATS if f"{concept}.{ext}" in files]
    if len(found) > 1:
        raise SubmissionError(
            f"concept {concept}: both {concept}.csv and {concept}.json are present; keep exactly one of them"
        )
    if not found:
        raise SubmissionError(
            f"concept {concept}: no file; add {concept}.csv (ImageID,Confidence) or {concept}.json "
            f"(one file per concept: {', '.join(task.config.concepts)})"
        )
    return found[0]


def _chosen_files(task: VisionTask, path: Path) -> list[tuple[str, Path]]:
    """(concept, its file) in the config's order, after the directory-level rules."""
    files = submission_files(path, label=path.name or "submission")
    concepts = task.config.concepts
    expected = [f"{concept}.{ext}" for concept in concepts for ext in FORMATS]
    reject_unexpected(files, expected, f"one <Concept>.csv or <Concept>.json per concept ({', '.join(concepts)})")
    return [(concept, _concept_file(task, files, concept)) for concept in concepts]


def parse_selection(task: VisionTask, path: Path) -> VisionSelection:
    """Read and check a submission directory; raise `SubmissionError` with the first broken rule.

    Reads only the submission and the task's public data (the pool, already loaded in `task`).
    """
    chosen = _chosen_files(task, path)
    return VisionSelection(concepts=tuple(parse_concept_file(task, concept, file) for concept, file in chosen))


def check_selection(task: VisionTask, path: Path) -> None:
    """`parse_selection` without its result: the same rules, in the same order, with the same messages, through
    the same readers; no pool row is kept (memory: a byte per label of one file, and one chunk of it)."""
    for _, file in _chosen_files(task, path):
        _read_concept(task, file, keep_rows=False)
