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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.parquet as pq

from evaluators.base import TaskConfigError

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

BoolMatrix = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class Predictions:
    """The public predictions: example ids in file order and each id's row."""

    ids: tuple[str, ...]
    row_of: dict[str, int]
    targets: npt.NDArray[np.float64]
    probs: npt.NDArray[np.float64]


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


def _float_column(path: Path, rows: list[list[str]], column: int) -> npt.NDArray[np.float64]:
    try:
        values = np.array([row[column] for row in rows[1:]], dtype=np.float64)
    except ValueError as exc:
        raise TaskConfigError(f"{path}: column {rows[0][column]!r} must hold numbers: {exc}") from exc
    return values


def load_predictions(path: Path) -> Predictions:
    """Read `test_predictions.csv`; raise `TaskConfigError` unless it has `id,target,probs` and unique ids."""
    rows = _read_rows(path)
    header = rows[0]
    missing = [name for name in PREDICTION_COLUMNS if name not in header]
    if missing:
        raise TaskConfigError(f"{path}: the header must have the columns id, target, probs; missing {missing}")
    ids, row_of = _ids(path, rows, header.index(ID_COLUMN))
    targets = _float_column(path, rows, header.index("target"))
    probs = _float_column(path, rows, header.index("probs"))
    return Predictions(ids=ids, row_of=row_of, targets=targets, probs=probs)


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
    try:
        table = pq.read_table(path, columns=[ID_COLUMN], memory_map=True)
        schema = pq.read_schema(path)
    except (OSError, ValueError, pa.ArrowException) as exc:
        raise TaskConfigError(f"{path}: cannot be read as parquet with an {ID_COLUMN!r} column: {exc}") from exc
    if EMBEDDING_COLUMN not in schema.names:
        raise TaskConfigError(f"{path}: has no {EMBEDDING_COLUMN!r} column")
    values: list[Any] = table.column(ID_COLUMN).to_pylist()
    return [str(value) for value in values]
