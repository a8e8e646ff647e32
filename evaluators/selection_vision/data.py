"""Task files of selection-vision: the candidate pool, the hidden test sets, the public example sets.

Formats (the original DataPerf ones): `embeddings/train_emb_256_dataperf.parquet` has `ImageID` (16-hex
string) and `embedding` (list of doubles); `test_sets/alpha_test_set_<Concept>_256.parquet` adds
`Confidence`, the strings "0"/"1"; `examples/alpha_example_set_<Concept>.csv` lists 20 positive ImageIDs
(header `LabelName,ImageID,Confidence,OriginalURL,DisplayName`).

The real pool holds millions of rows, so it is read in record batches into one contiguous float64 array
(optionally a memory-mapped cache file, see `cache.py`) and its ImageIDs become a sorted key array that is
searched with `searchsorted`: no dict of millions of strings, no scan per submission.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from evaluators.base import TaskConfigError

POOL_FILE = "embeddings/train_emb_256_dataperf.parquet"
TEST_DIR = "test_sets"
EXAMPLES_DIR = "examples"
ID_COLUMN = "ImageID"
EMBEDDING_COLUMN = "embedding"
LABEL_COLUMN = "Confidence"
HEX_ID_PATTERN = "^[0-9a-f]{16}$"
_BATCH_ROWS = 65_536

FloatMatrix = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def held_out_path(task_dir: Path, concept: str) -> Path:
    """The hidden test set of a concept (the original file name)."""
    return task_dir / TEST_DIR / f"alpha_test_set_{concept}_256.parquet"


def example_set_path(task_dir: Path, concept: str) -> Path:
    """The public example positives of a concept (the original file name)."""
    return task_dir / EXAMPLES_DIR / f"alpha_example_set_{concept}.csv"


@dataclass(frozen=True)
class ImageIndex:
    """ImageID -> pool row. `keys` is sorted; `rows[i]` is the pool row of `keys[i]`.

    When every pool id is 16 lower-case hex digits (the DataPerf ids) a key is the id's 64-bit value, 16
    bytes per image in all; otherwise keys are the id strings themselves. Either way a lookup is one
    binary search and matches the exact string only (an upper-case spelling is another, unknown id).
    """

    keys: npt.NDArray[Any]
    rows: IntArray
    hex_keys: bool

    def __len__(self) -> int:
        return len(self.rows)

    def row_of(self, image_id: str) -> int | None:
        """The pool row of `image_id`, or None when the pool has no such image."""
        key: Any
        if self.hex_keys:
            if len(image_id) != 16 or not _is_lower_hex(image_id):
                return None
            key = np.uint64(int(image_id, 16))
        else:
            key = image_id
        position = int(np.searchsorted(self.keys, key))
        if position < len(self.keys) and self.keys[position] == key:
            return int(self.rows[position])
        return None


def _is_lower_hex(text: str) -> bool:
    return all(char in "0123456789abcdef" for char in text)


def _string_bytes(column: pa.Array, width: int) -> npt.NDArray[np.uint8]:
    """The characters of a string column whose values all have `width` ASCII characters, as an (n, width) array."""
    binary = column.cast(pa.large_binary())
    offsets = np.frombuffer(binary.buffers()[1], dtype=np.int64)[binary.offset : binary.offset + len(binary) + 1]
    data = np.frombuffer(binary.buffers()[2], dtype=np.uint8)[offsets[0] : offsets[-1]]
    return data.reshape(len(binary), width)


def _hex_keys(column: pa.Array) -> npt.NDArray[np.uint64]:
    """The 64-bit values of 16-hex-digit ids, computed without a Python loop."""
    chars = _string_bytes(column, 16)
    table = np.zeros(256, dtype=np.uint64)
    table[np.frombuffer(b"0123456789", dtype=np.uint8)] = np.arange(10, dtype=np.uint64)
    table[np.frombuffer(b"abcdef", dtype=np.uint8)] = np.arange(10, 16, dtype=np.uint64)
    shifts = np.arange(60, -1, -4, dtype=np.uint64)
    keys: npt.NDArray[np.uint64] = np.bitwise_or.reduce(table[chars] << shifts, axis=1)
    return keys


def build_index(ids: pa.ChunkedArray | pa.Array, source: Path) -> ImageIndex:
    """Index a pool's ImageID column; raise `TaskConfigError` on nulls, non-strings or a repeated id."""
    column = ids.combine_chunks() if isinstance(ids, pa.ChunkedArray) else ids
    if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)) or column.null_count:
        raise TaskConfigError(f"{source}: column {ID_COLUMN!r} must hold strings without nulls")
    hex_keys = len(column) == 0 or bool(pc.all(pc.match_substring_regex(column, HEX_ID_PATTERN)).as_py())
    keys: npt.NDArray[Any] = _hex_keys(column) if hex_keys else np.asarray(column.to_pylist(), dtype=str)
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    if len(sorted_keys) > 1 and bool(np.any(sorted_keys[1:] == sorted_keys[:-1])):
        repeated = int(order[int(np.flatnonzero(sorted_keys[1:] == sorted_keys[:-1])[0])])
        raise TaskConfigError(f"{source}: ImageID {column[repeated].as_py()!r} appears more than once")
    return ImageIndex(keys=sorted_keys, rows=order.astype(np.int64), hex_keys=hex_keys)


def _open_parquet(path: Path, columns: Sequence[str]) -> pq.ParquetFile:
    if not path.is_file():
        raise TaskConfigError(f"{path}: missing task file")
    try:
        parquet = pq.ParquetFile(path, memory_map=True)
    except (OSError, ValueError, pa.ArrowException) as exc:
        raise TaskConfigError(f"{path}: cannot be read as parquet: {exc}") from exc
    missing = [name for name in columns if name not in parquet.schema_arrow.names]
    if missing:
        raise TaskConfigError(f"{path}: no column {missing[0]!r} (columns: {', '.join(parquet.schema_arrow.names)})")
    return parquet


def _batch_vectors(column: pa.Array, path: Path) -> FloatMatrix:
    """One batch of the embedding column as an (n, d) float64 array (the reference fits float64)."""
    column_type = column.type
    is_list = pa.types.is_list(column_type) or pa.types.is_large_list(column_type)
    if not (is_list or pa.types.is_fixed_size_list(column_type)) or not pa.types.is_floating(column_type.value_type):
        raise TaskConfigError(f"{path}: column {EMBEDDING_COLUMN!r} must be a list of floats, not {column_type}")
    if len(column) == 0:
        return np.empty((0, 0), dtype=np.float64)
    lengths = pc.min_max(pc.list_value_length(column)).as_py()
    values = pc.list_flatten(column)
    if column.null_count or values.null_count or lengths["min"] != lengths["max"] or not lengths["min"]:
        raise TaskConfigError(f"{path}: every {EMBEDDING_COLUMN!r} must be a non-empty vector of one length")
    flat: FloatMatrix = np.asarray(values.to_numpy(zero_copy_only=False), dtype=np.float64)
    if not np.isfinite(flat).all():
        raise TaskConfigError(f"{path}: an {EMBEDDING_COLUMN!r} holds NaN or infinity")
    return flat.reshape(len(column), int(lengths["max"]))


def embedding_batches(path: Path) -> tuple[int, Iterator[FloatMatrix]]:
    """(row count, the embedding column as float64 record batches in row order)."""
    parquet = _open_parquet(path, [ID_COLUMN, EMBEDDING_COLUMN])
    batches = parquet.iter_batches(batch_size=_BATCH_ROWS, columns=[EMBEDDING_COLUMN])
    return parquet.metadata.num_rows, (_batch_vectors(batch.column(0), path) for batch in batches)


Allocate = Callable[[int, int], FloatMatrix]
"""`allocate(rows, dim)`: the (rows, dim) float64 array to fill (in memory, or a memory-mapped file)."""


def _in_memory(n_rows: int, dim: int) -> FloatMatrix:
    return np.empty((n_rows, dim), dtype=np.float64)


def read_embeddings(path: Path, allocate: Allocate = _in_memory) -> FloatMatrix:
    """The pool's vectors as one (rows, dim) float64 array, filled batch by batch.

    Peak memory stays at the output plus one batch, which matters for a pool of millions of rows.
    """
    n_rows, batches = embedding_batches(path)
    out: FloatMatrix | None = None
    position = 0
    for vectors in batches:
        if out is None:
            out = allocate(n_rows, int(vectors.shape[1]))
        if vectors.shape[1] != out.shape[1]:
            raise TaskConfigError(f"{path}: embeddings of different lengths ({out.shape[1]} and {vectors.shape[1]})")
        out[position : position + len(vectors)] = vectors
        position += len(vectors)
    if out is None or position != n_rows:
        raise TaskConfigError(f"{path}: the pool holds no embedding")
    return out


def read_pool_ids(path: Path) -> ImageIndex:
    """The pool's ImageID index."""
    parquet = _open_parquet(path, [ID_COLUMN, EMBEDDING_COLUMN])
    try:
        ids = parquet.read(columns=[ID_COLUMN]).column(ID_COLUMN)
    except (OSError, ValueError, pa.ArrowException) as exc:
        raise TaskConfigError(f"{path}: cannot be read as parquet: {exc}") from exc
    return build_index(ids, path)


@dataclass(frozen=True)
class HeldOutSet:
    """A concept's hidden test set: float64 features and 0/1 labels (1 = `Confidence == "1"`)."""

    features: FloatMatrix
    labels: IntArray


def _labels(column: pa.ChunkedArray, path: Path) -> IntArray:
    values = column.to_pylist()
    labels = np.zeros(len(values), dtype=np.int64)
    for row, value in enumerate(values):
        # The original compares with the string "1"; integer 0/1 columns are accepted as the same labels.
        if value in ("1", 1) and not isinstance(value, bool):
            labels[row] = 1
        elif value not in ("0", 0) or isinstance(value, bool):
            raise TaskConfigError(f'{path}: row {row}: {LABEL_COLUMN} is {value!r}; only "0" and "1" are labels')
    return labels


def read_test_set(path: Path) -> HeldOutSet:
    """Read a hidden test set; raise `TaskConfigError` if it is missing or malformed."""
    parquet = _open_parquet(path, [ID_COLUMN, EMBEDDING_COLUMN, LABEL_COLUMN])
    try:
        table = parquet.read(columns=[EMBEDDING_COLUMN, LABEL_COLUMN])
    except (OSError, ValueError, pa.ArrowException) as exc:
        raise TaskConfigError(f"{path}: cannot be read as parquet: {exc}") from exc
    if table.num_rows == 0:
        raise TaskConfigError(f"{path}: the test set is empty")
    features = _batch_vectors(table.column(EMBEDDING_COLUMN).combine_chunks(), path)
    return HeldOutSet(features=features, labels=_labels(table.column(LABEL_COLUMN), path))


def read_example_ids(path: Path) -> list[str]:
    """The ImageIDs of a public example set (a CSV with an `ImageID` column); raise `TaskConfigError`."""
    try:
        text = path.read_text(encoding="utf-8-sig")
        rows = list(csv.DictReader(io.StringIO(text, newline="")))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise TaskConfigError(f"{path}: cannot be read as CSV: {exc}") from exc
    if not rows or ID_COLUMN not in rows[0]:
        raise TaskConfigError(f"{path}: needs a header with an {ID_COLUMN!r} column and at least one row")
    return [str(row[ID_COLUMN]) for row in rows]
