"""Task files of slice-discovery (the DCBench artifacts, as CSV and parquet).

* `test_predictions.csv` (public): `id,target,probs`, the fixed model's label and predicted probability per
  example. Its ids are the examples a submission must score.
* `test_slices.csv` (hidden): `id` then one 0/1 column per ground-truth slice; the header names the slices
  and the row order is the order the scores are aligned to (ties of precision@k are broken by it).
* `test_embeddings.parquet` (public, optional): `id` and `embedding` (a list of floats) per example, for
  participants' methods; scoring never reads it.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from evaluators.base import TaskConfigError
from evaluators.slice_discovery.ids import MARKER, ExampleIds, Keys, encode_ids

PREDICTIONS_FILE = "test_predictions.csv"
SLICES_FILE = "test_slices.csv"
EMBEDDINGS_FILE = "test_embeddings.parquet"
ID_COLUMN = "id"
PREDICTION_COLUMNS = ("id", "target", "probs")
EMBEDDING_COLUMN = "embedding"
MAX_SLICE_NAME_CHARS = 100
MAX_TASK_FILE_BYTES = 2 * 1024**3
_TRUE_TEXT = frozenset({"1", "1.0", "true", "True", "TRUE"})
_FALSE_TEXT = frozenset({"0", "0.0", "false", "False", "FALSE"})

_CHUNK_ROWS = 65_536

BoolMatrix = npt.NDArray[np.bool_]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Predictions:
    """The public predictions: example ids in file order (with their lookup), labels and probabilities."""

    ids: ExampleIds
    targets: FloatArray
    probs: FloatArray


@dataclass(frozen=True)
class GroundTruth:
    """The hidden slices: names (header order), ids in file order, membership (rows x slices)."""

    names: tuple[str, ...]
    ids: tuple[str, ...]
    members: BoolMatrix


def slice_name_problem(name: object) -> str | None:
    """Why `name` cannot name a ground-truth slice (None when it can).

    Names become metric keys (`average_precision.<name>`) and CSV header fields, so they must be non-empty
    text without surrounding blanks or control characters, and never `id`.
    """
    if not isinstance(name, str):
        return f"a slice name must be text, got {type(name).__name__}"
    if not name or name != name.strip():
        return f"the slice name {name!r} is empty or has leading or trailing blanks"
    if len(name) > MAX_SLICE_NAME_CHARS:
        return f"the slice name {name[:20]!r}... is longer than {MAX_SLICE_NAME_CHARS} characters"
    if not name.isprintable():
        return f"the slice name {name!r} holds control characters"
    if name == ID_COLUMN:
        return f"a slice may not be called {ID_COLUMN!r} (it is the id column)"
    return None


def _read_rows(path: Path) -> list[list[str]]:
    """All rows of an organizer's CSV file as text fields (blank lines dropped); `TaskConfigError` on faults."""
    try:
        if path.stat().st_size > MAX_TASK_FILE_BYTES:
            raise TaskConfigError(f"{path}: larger than {MAX_TASK_FILE_BYTES} bytes")
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError as exc:
        raise TaskConfigError(f"{path}: missing task file") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise TaskConfigError(f"{path}: cannot be read as UTF-8 text: {exc}") from exc
    try:
        rows = [row for row in csv.reader(io.StringIO(text, newline="")) if row]
    except csv.Error as exc:
        raise TaskConfigError(f"{path}: not a readable CSV file: {exc}") from exc
    if not rows:
        raise TaskConfigError(f"{path}: the file is empty")
    width = len(rows[0])
    for number, row in enumerate(rows[1:], start=2):
        if len(row) != width:
            raise TaskConfigError(f"{path}: row {number} has {len(row)} fields, the header has {width}")
    return rows


def _ids(path: Path, rows: list[list[str]], column: int) -> tuple[tuple[str, ...], dict[str, int]]:
    ids = tuple(row[column] for row in rows[1:])
    row_of = {example_id: row for row, example_id in enumerate(ids)}
    if len(row_of) != len(ids):
        raise TaskConfigError(f"{path}: an id appears more than once")
    if "" in row_of:
        raise TaskConfigError(f"{path}: an id is empty")
    if not ids:
        raise TaskConfigError(f"{path}: lists no example")
    return ids, row_of


def _stream_rows(path: Path) -> Iterator[list[str]]:
    """The non-blank rows of an organizer's CSV file, read lazily (`_read_rows` without holding the file)."""
    try:
        if path.stat().st_size > MAX_TASK_FILE_BYTES:
            raise TaskConfigError(f"{path}: larger than {MAX_TASK_FILE_BYTES} bytes")
        with path.open(encoding="utf-8-sig", newline="") as handle:
            yield from (row for row in csv.reader(handle) if row)
    except FileNotFoundError as exc:
        raise TaskConfigError(f"{path}: missing task file") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise TaskConfigError(f"{path}: cannot be read as UTF-8 text: {exc}") from exc
    except csv.Error as exc:
        raise TaskConfigError(f"{path}: not a readable CSV file: {exc}") from exc


class _PredictionColumns:
    """Collects ids, targets and probabilities chunk by chunk into compact arrays (never a Python object per
    row of the whole file). A number fault is kept (the first of each column) and raised after the id rules,
    in the order in which the whole-file reader checked them."""

    def __init__(self, header: list[str]) -> None:
        self.columns = (header.index(ID_COLUMN), header.index("target"), header.index("probs"))
        self.pending: list[list[str]] = []
        self.keys: list[Keys] = []
        self.values: tuple[list[FloatArray], list[FloatArray]] = ([], [])
        self.faults: list[str] = ["", ""]

    def add(self, row: list[str]) -> None:
        self.pending.append(row)
        if len(self.pending) == _CHUNK_ROWS:
            self._flush()

    def _flush(self) -> None:
        self.keys.append(encode_ids([row[self.columns[0]] for row in self.pending]))
        for index, (name, column) in enumerate(zip(("target", "probs"), self.columns[1:], strict=True)):
            try:
                values = np.array([row[column] for row in self.pending], dtype=np.float64)
            except ValueError as exc:
                self.faults[index] = self.faults[index] or f"column {name!r} must hold numbers: {exc}"
                values = np.zeros(len(self.pending), dtype=np.float64)
            self.values[index].append(values)
        self.pending = []

    def finish(self, path: Path) -> Predictions:
        """The predictions, or `TaskConfigError` for a repeated or empty id, no example, or a number fault."""
        self._flush()
        ids = ExampleIds(np.concatenate(self.keys))
        ordered = ids.sorted_keys()
        if bool(np.any(ordered[1:] == ordered[:-1])):
            raise TaskConfigError(f"{path}: an id appears more than once")
        if len(ordered) and ordered[0] == MARKER:  # an empty id's key is the marker alone, which sorts first
            raise TaskConfigError(f"{path}: an id is empty")
        if not len(ids):
            raise TaskConfigError(f"{path}: lists no example")
        fault = next((fault for fault in self.faults if fault), None)
        if fault:
            raise TaskConfigError(f"{path}: {fault}")
        targets, probs = (np.concatenate(chunks) for chunks in self.values)
        return Predictions(ids=ids, targets=targets, probs=probs)


def load_predictions(path: Path) -> Predictions:
    """Read `test_predictions.csv`; raise `TaskConfigError` unless it has `id,target,probs` and unique ids.

    The file is streamed: memory follows the compact result (about 30 bytes per example), not the text.
    """
    rows = _stream_rows(path)
    header = next(rows, None)
    if header is None:
        raise TaskConfigError(f"{path}: the file is empty")
    missing = [name for name in PREDICTION_COLUMNS if name not in header]
    # Row widths are checked before the header's columns are reported, as when the file was read whole.
    collector = None if missing else _PredictionColumns(header)
    for number, row in enumerate(rows, start=2):
        if len(row) != len(header):
            raise TaskConfigError(f"{path}: row {number} has {len(row)} fields, the header has {len(header)}")
        if collector is not None:
            collector.add(row)
    if collector is None:
        raise TaskConfigError(f"{path}: the header must have the columns id, target, probs; missing {missing}")
    return collector.finish(path)


def _membership(path: Path, rows: list[list[str]], names: tuple[str, ...]) -> BoolMatrix:
    members = np.zeros((len(rows) - 1, len(names)), dtype=np.bool_)
    for number, row in enumerate(rows[1:], start=2):
        for column, text in enumerate(row[1:]):
            value = text.strip()
            if value in _TRUE_TEXT:
                members[number - 2, column] = True
            elif value not in _FALSE_TEXT:
                raise TaskConfigError(f"{path}: row {number}, slice {names[column]!r}: {text!r} is not 0 or 1")
    return members


def load_ground_truth(path: Path) -> GroundTruth:
    """Read `test_slices.csv`: header `id,<slice>,...`, 0/1 cells; raise `TaskConfigError` on any fault."""
    rows = _read_rows(path)
    header = rows[0]
    if header[0] != ID_COLUMN or len(header) < 2:
        raise TaskConfigError(f"{path}: the header must be 'id' followed by one column per ground-truth slice")
    names = tuple(header[1:])
    for name in names:
        problem = slice_name_problem(name)
        if problem:
            raise TaskConfigError(f"{path}: {problem}")
    if len(set(names)) != len(names):
        raise TaskConfigError(f"{path}: a slice name appears more than once in the header")
    ids, _ = _ids(path, rows, 0)
    return GroundTruth(names=names, ids=ids, members=_membership(path, rows, names))


def embedding_ids(path: Path) -> list[str]:
    """The `id` column of the optional embeddings file; `TaskConfigError` if it is unreadable."""
    # Imported here, not at the top: only an organizer's check_task reads this file; validation never pays for pyarrow.
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path, columns=[ID_COLUMN], memory_map=True)
        schema = pq.read_schema(path)
    except (OSError, ValueError, pa.ArrowException) as exc:
        raise TaskConfigError(f"{path}: cannot be read as parquet with an {ID_COLUMN!r} column: {exc}") from exc
    if EMBEDDING_COLUMN not in schema.names:
        raise TaskConfigError(f"{path}: has no {EMBEDDING_COLUMN!r} column")
    values: list[Any] = table.column(ID_COLUMN).to_pylist()
    return [str(value) for value in values]
