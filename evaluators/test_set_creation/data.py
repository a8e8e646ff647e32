"""Task files of test-set-creation.

* `pool.parquet` (public): the supplemental pool the participants pick from; columns `id` (string, unique)
  and `embedding` (list of floats, one length for every row).
* `train.parquet` (public): the fixed training set of the model suite; columns `id`, `label` (a label of the
  config) and `embedding` (same length as the pool's).
* `human_labels.csv` (hidden): `id,label`, the human (ground-truth) label of every pool item.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from evaluators.base import TaskConfigError

POOL_FILE = "pool.parquet"
TRAIN_FILE = "train.parquet"
HUMAN_LABELS_FILE = "human_labels.csv"
ID_COLUMN = "id"
LABEL_COLUMN = "label"
EMBEDDING_COLUMN = "embedding"
MAX_HUMAN_LABELS_BYTES = 1024**3

FloatArray = npt.NDArray[np.float64]
IndexArray = npt.NDArray[np.int64]


@dataclass(frozen=True, eq=False)
class Embeddings:
    """Rows of a parquet file: ids in file order, their embeddings, and labels (train set only)."""

    ids: tuple[str, ...]
    vectors: FloatArray
    labels: tuple[str, ...] | None = None


def _read_table(path: Path, columns: list[str]) -> pa.Table:
    if not path.is_file():
        raise TaskConfigError(f"{path}: missing task file")
    try:
        return pq.read_table(path, columns=columns, memory_map=True)
    except (OSError, ValueError, KeyError, pa.ArrowException) as exc:
        raise TaskConfigError(
            f"{path}: cannot be read as parquet with the columns {', '.join(columns)}: {exc}"
        ) from exc


def _strings(table: pa.Table, column: str, path: Path) -> tuple[str, ...]:
    values = table.column(column)
    if not (pa.types.is_string(values.type) or pa.types.is_large_string(values.type)) or values.null_count:
        raise TaskConfigError(f"{path}: column {column!r} must hold strings without nulls")
    return tuple(values.to_pylist())


def _vectors(table: pa.Table, path: Path) -> FloatArray:
    """The list column as an (n, d) float64 array, without a Python loop over rows."""
    column = table.column(EMBEDDING_COLUMN).combine_chunks()
    kind = column.type
    is_list = pa.types.is_list(kind) or pa.types.is_large_list(kind) or pa.types.is_fixed_size_list(kind)
    if not is_list or not pa.types.is_floating(kind.value_type):
        raise TaskConfigError(f"{path}: column {EMBEDDING_COLUMN!r} must be a list of floats, not {kind}")
    if len(column) == 0:
        return np.empty((0, 0), dtype=np.float64)
    lengths = pc.min_max(pc.list_value_length(column)).as_py()
    values = pc.list_flatten(column)
    if column.null_count or values.null_count or lengths["min"] != lengths["max"] or not lengths["min"]:
        raise TaskConfigError(f"{path}: every {EMBEDDING_COLUMN!r} must be a non-empty vector of one length")
    flat = np.asarray(values.to_numpy(zero_copy_only=False), dtype=np.float64)
    if not np.isfinite(flat).all():
        raise TaskConfigError(f"{path}: column {EMBEDDING_COLUMN!r} holds a NaN or infinite value")
    return flat.reshape(len(column), int(lengths["max"]))


def _unique(ids: tuple[str, ...], path: Path) -> None:
    if len(set(ids)) != len(ids):
        raise TaskConfigError(f"{path}: an id appears more than once")
    if any(not item or item != item.strip() or not item.isprintable() or "," in item for item in ids):
        raise TaskConfigError(f"{path}: ids must be non-empty printable strings without commas or outer spaces")


def read_pool_ids(path: Path) -> tuple[str, ...]:
    """The ids of `pool.parquet`, in file order (only the id column is read)."""
    ids = _strings(_read_table(path, [ID_COLUMN]), ID_COLUMN, path)
    _unique(ids, path)
    return ids


def read_pool(path: Path) -> Embeddings:
    """Ids and embeddings of `pool.parquet`."""
    table = _read_table(path, [ID_COLUMN, EMBEDDING_COLUMN])
    ids = _strings(table, ID_COLUMN, path)
    _unique(ids, path)
    return Embeddings(ids=ids, vectors=_vectors(table, path))


def read_train(path: Path) -> Embeddings:
    """Ids, labels and embeddings of `train.parquet`."""
    table = _read_table(path, [ID_COLUMN, LABEL_COLUMN, EMBEDDING_COLUMN])
    ids = _strings(table, ID_COLUMN, path)
    _unique(ids, path)
    return Embeddings(ids=ids, vectors=_vectors(table, path), labels=_strings(table, LABEL_COLUMN, path))


def read_human_labels(path: Path, row_of: dict[str, int], label_index: dict[str, int]) -> IndexArray:
    """The human label index of every pool row (row i = pool row i); raise `TaskConfigError` unless the file
    gives exactly one known label to every pool id and nothing else."""
    try:
        if path.stat().st_size > MAX_HUMAN_LABELS_BYTES:
            raise TaskConfigError(f"{path}: larger than {MAX_HUMAN_LABELS_BYTES} bytes")
        rows = list(csv.reader(path.read_text(encoding="utf-8-sig").splitlines()))
    except FileNotFoundError as exc:
        raise TaskConfigError(f"{path}: missing task file") from exc
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise TaskConfigError(f"{path}: cannot be read as a UTF-8 CSV file: {exc}") from exc
    if not rows or rows[0] != [ID_COLUMN, LABEL_COLUMN]:
        raise TaskConfigError(f"{path}: the header must be {ID_COLUMN},{LABEL_COLUMN}")
    human = np.full(len(row_of), -1, dtype=np.int64)
    for line, row in enumerate(rows[1:], start=2):
        _human_row(path, line, row, row_of, label_index, human)
    missing = int((human < 0).sum())
    if missing:
        raise TaskConfigError(f"{path}: {missing} pool item(s) have no human label")
    return human


def _human_row(
    path: Path, line: int, row: list[str], row_of: dict[str, int], label_index: dict[str, int], human: Any
) -> None:
    if len(row) != 2:
        raise TaskConfigError(f"{path} line {line}: expected id,label")
    item, label = row
    if item not in row_of:
        raise TaskConfigError(f"{path} line {line}: {item!r} is not an id of {POOL_FILE}")
    if label not in label_index:
        raise TaskConfigError(f"{path} line {line}: label {label!r} is not one of the task's labels")
    if human[row_of[item]] >= 0:
        raise TaskConfigError(f"{path} line {line}: {item!r} has a second human label")
    human[row_of[item]] = label_index[label]
