"""Task files of selection-vision: the candidate pool, the hidden test sets, the public example sets.

Formats (the original DataPerf ones): `embeddings/train_emb_256_dataperf.parquet` has `ImageID` (16-hex
string) and `embedding` (list of doubles); `test_sets/alpha_test_set_<Concept>_256.parquet` adds
`Confidence`, the strings "0"/"1"; `examples/alpha_example_set_<Concept>.csv` lists 20 positive ImageIDs
(header `LabelName,ImageID,Confidence,OriginalURL,DisplayName`).

The real pool holds millions of rows, so it is read in record batches into one contiguous array (optionally
a memory-mapped cache file, see `cache.py`) of the file's own precision (float32 stays float32: the rows a
fit needs are widened to float64 when gathered, which is exact) and its ImageIDs become a sorted key array
that is searched with `searchsorted`: no dict of millions of strings, no scan per submission.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
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
# Rows decoded at a time while reading the pool: 1 to 4 MB for 256 to 1024 values per row (larger batches
# only add to the peak: pyarrow keeps several alive).
_BATCH_ROWS = 1024
_KEY_CHUNK_ROWS = 65_536
# Column chunks are read in pieces of this size rather than whole (a row group may hold millions of rows).
_READ_BUFFER_BYTES = 4 * 1024 * 1024

FloatMatrix = npt.NDArray[np.float64]
PoolMatrix = npt.NDArray[np.floating[Any]]
"""The pool's vectors: float32 when the file holds float32 values, float64 otherwise (see `pool_dtype`)."""
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

    def rows_of(self, image_ids: Sequence[str]) -> IntArray:
        """The pool rows of many ids at once, -1 for an id the pool has not: `row_of` for each, vectorised.

        One binary search over the keys for all of them instead of numpy's per-call overhead for each: a
        submission names up to `max_per_concept` ids per concept.
        """
        if not self.hex_keys or not len(self.keys):
            found_rows = [self.row_of(image_id) for image_id in image_ids]
            return np.array([-1 if row is None else row for row in found_rows], dtype=np.int64)
        keys, valid = _hex_query_keys(image_ids)
        positions = np.minimum(np.searchsorted(self.keys, keys), len(self.keys) - 1)
        found = valid & (self.keys[positions] == keys)
        rows: IntArray = np.where(found, self.rows[positions], -1)
        return rows


def _is_lower_hex(text: str) -> bool:
    return all(char in "0123456789abcdef" for char in text)


_HEX_DIGIT = np.full(256, -1, dtype=np.int64)
_HEX_DIGIT[np.frombuffer(b"0123456789abcdef", dtype=np.uint8)] = np.arange(16)
_NIBBLE_SHIFTS = np.arange(60, -1, -4, dtype=np.uint64)


def _hex_query_keys(image_ids: Sequence[str]) -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.bool_]]:
    """(64-bit key, is 16 lower-case hex digits) of each id; the key of an invalid id is meaningless.

    Only ids of 16 characters enter the fixed-width array (a longer one would widen every row), and the
    length is checked on the Python strings: numpy drops trailing NUL characters, `"...\0"` must not match.
    """
    sized = [image_id if len(image_id) == 16 else "" for image_id in image_ids]
    codes = np.array(sized, dtype="<U16").view(np.uint32).reshape(len(sized), 16)
    # Clipped to 255 (not a digit), so that a code point above it, U+0130 say, cannot pass for one.
    digits = _HEX_DIGIT[np.minimum(codes, 255)]
    lengths = np.fromiter(map(len, image_ids), dtype=np.int64, count=len(sized))
    valid = (lengths == 16) & (digits >= 0).all(axis=1)
    keys: npt.NDArray[np.uint64] = np.bitwise_or.reduce(
        np.maximum(digits, 0).astype(np.uint64) << _NIBBLE_SHIFTS, axis=1
    )
    return keys, valid


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
    keys = np.empty(len(chars), dtype=np.uint64)
    # In chunks: the (rows, 16) uint64 intermediates would be 256 bytes per id, 1.3 GB for 5 million ids.
    for start in range(0, len(chars), _KEY_CHUNK_ROWS):
        block = chars[start : start + _KEY_CHUNK_ROWS]
        keys[start : start + len(block)] = np.bitwise_or.reduce(table[block] << _NIBBLE_SHIFTS, axis=1)
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


def _open_parquet(path: Path, columns: Sequence[str], *, memory_map: bool = True) -> pq.ParquetFile:
    if not path.is_file():
        raise TaskConfigError(f"{path}: missing task file")
    try:
        parquet = pq.ParquetFile(path, memory_map=memory_map, buffer_size=0 if memory_map else _READ_BUFFER_BYTES)
    except (OSError, ValueError, pa.ArrowException) as exc:
        raise TaskConfigError(f"{path}: cannot be read as parquet: {exc}") from exc
    missing = [name for name in columns if name not in parquet.schema_arrow.names]
    if missing:
        raise TaskConfigError(f"{path}: no column {missing[0]!r} (columns: {', '.join(parquet.schema_arrow.names)})")
    return parquet


def _check_embedding_type(column_type: pa.DataType, path: Path) -> None:
    is_list = pa.types.is_list(column_type) or pa.types.is_large_list(column_type)
    if not (is_list or pa.types.is_fixed_size_list(column_type)) or not pa.types.is_floating(column_type.value_type):
        raise TaskConfigError(f"{path}: column {EMBEDDING_COLUMN!r} must be a list of floats, not {column_type}")


def pool_dtype(column_type: pa.DataType) -> np.dtype[Any]:
    """How the pool holds an embedding column of this type: float32 values as float32 (half the memory of the
    float64 the reference fits, and widening them is exact), any other float type as float64."""
    return np.dtype(np.float32) if pa.types.is_float32(column_type.value_type) else np.dtype(np.float64)


def _float_values(values: pa.Array) -> PoolMatrix:
    """A float array's values (it has no null), read from its buffer in place, in their own type.

    Not `to_numpy`: it imports pandas (over 30 MB), which a process validating uploads would then carry for a
    task's pool it reads once.
    """
    dtype = np.dtype(f"f{values.type.bit_width // 8}")
    return np.frombuffer(values.buffers()[1], dtype=dtype)[values.offset : values.offset + len(values)]


def _batch_vectors(column: pa.Array, path: Path, dtype: npt.DTypeLike = np.float64) -> PoolMatrix:
    """One batch of the embedding column as an (n, d) array of `dtype` (float64 by default: the reference fits
    float64); a view of the batch's buffer when it already has that type, else a converted copy."""
    _check_embedding_type(column.type, path)
    if len(column) == 0:
        return np.empty((0, 0), dtype=dtype)
    lengths = pc.min_max(pc.list_value_length(column)).as_py()
    values = pc.list_flatten(column)
    if column.null_count or values.null_count or lengths["min"] != lengths["max"] or not lengths["min"]:
        raise TaskConfigError(f"{path}: every {EMBEDDING_COLUMN!r} must be a non-empty vector of one length")
    flat: PoolMatrix = np.asarray(_float_values(values), dtype=dtype)
    if not np.isfinite(flat).all():
        raise TaskConfigError(f"{path}: an {EMBEDDING_COLUMN!r} holds NaN or infinity")
    return flat.reshape(len(column), int(lengths["max"]))


def _embedding_batches(parquet: pq.ParquetFile) -> Iterator[pa.Array]:
    """The embedding column in batches of `_BATCH_ROWS` rows, one row group at a time: over the whole file
    pyarrow reads row groups ahead, within one it does not."""
    for group in range(parquet.num_row_groups):
        for batch in parquet.iter_batches(
            batch_size=_BATCH_ROWS, row_groups=[group], columns=[EMBEDDING_COLUMN], use_threads=False
        ):
            yield batch.column(0)


def embedding_batches(path: Path) -> tuple[int, np.dtype[Any], Iterator[PoolMatrix]]:
    """(row count, `pool_dtype`, the pool's vectors as (n, dim) arrays of that type, in row order).

    The batches are checked as they come (`TaskConfigError`: not a list of floats, NaN, vectors of different
    lengths, fewer vectors than rows). The file is read in buffered pieces, not memory-mapped: mapped pages
    would count as the reading process's memory until the end of the read.
    """
    parquet = _open_parquet(path, [ID_COLUMN, EMBEDDING_COLUMN], memory_map=False)
    column_type = parquet.schema_arrow.field(EMBEDDING_COLUMN).type
    _check_embedding_type(column_type, path)
    n_rows, dtype = parquet.metadata.num_rows, pool_dtype(column_type)

    def batches() -> Iterator[PoolMatrix]:
        dim, position = 0, 0
        for column in _embedding_batches(parquet):
            vectors = _batch_vectors(column, path, dtype)
            if dim and vectors.shape[1] != dim:
                raise TaskConfigError(f"{path}: embeddings of different lengths ({dim} and {vectors.shape[1]})")
            dim, position = int(vectors.shape[1]), position + len(vectors)
            yield vectors
        # pyarrow's allocator keeps freed batches for reuse; the pool is read once, so give them back.
        pa.default_memory_pool().release_unused()
        if position == 0 or position != n_rows:
            raise TaskConfigError(f"{path}: the pool holds no embedding")

    return n_rows, dtype, batches()


def read_embeddings(path: Path) -> PoolMatrix:
    """The pool's vectors as one (rows, dim) array of `pool_dtype` (float32 or float64), filled batch by batch.

    Peak memory stays at the output plus a few batches, which matters for a pool of millions of rows; float32
    values are neither widened nor copied on the way.
    """
    n_rows, dtype, batches = embedding_batches(path)
    out: PoolMatrix | None = None
    position = 0
    for vectors in batches:
        if out is None:
            out = np.empty((n_rows, vectors.shape[1]), dtype=dtype)
        out[position : position + len(vectors)] = vectors
        position += len(vectors)
    if out is None:  # unreachable: the batches raise for a pool without embeddings
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
    """Read a hidden test set; raise `TaskConfigError` if it is missing or malformed.

    The features are float64 (the model predicts in float64), converted batch by batch from a file that is
    read, not mapped, so that scoring beside a large pool adds little more than them.
    """
    parquet = _open_parquet(path, [ID_COLUMN, EMBEDDING_COLUMN, LABEL_COLUMN], memory_map=False)
    parts: list[FloatMatrix] = []
    labels: list[pa.Array] = []
    try:
        for batch in parquet.iter_batches(batch_size=_BATCH_ROWS, columns=[EMBEDDING_COLUMN, LABEL_COLUMN]):
            if not batch.num_rows:
                continue
            parts.append(np.asarray(_batch_vectors(batch.column(0), path, np.float64), dtype=np.float64))
            labels.append(batch.column(1))
    except (OSError, ValueError, pa.ArrowException) as exc:
        raise TaskConfigError(f"{path}: cannot be read as parquet: {exc}") from exc
    finally:
        pa.default_memory_pool().release_unused()
    if not parts:
        raise TaskConfigError(f"{path}: the test set is empty")
    if len({part.shape[1] for part in parts}) != 1:
        raise TaskConfigError(f"{path}: every {EMBEDDING_COLUMN!r} must be a non-empty vector of one length")
    features: FloatMatrix = parts[0] if len(parts) == 1 else np.concatenate(parts)
    return HeldOutSet(features=features, labels=_labels(pa.chunked_array(labels), path))


def read_test_ids(path: Path, n_rows: int) -> list[str]:
    """The ImageID of each row of a hidden test set (read only for a private split, whose units they name);
    raise `TaskConfigError` unless they are `n_rows` strings without nulls."""
    parquet = _open_parquet(path, [ID_COLUMN], memory_map=False)
    try:
        column = parquet.read(columns=[ID_COLUMN]).column(ID_COLUMN)
    except (OSError, ValueError, pa.ArrowException) as exc:
        raise TaskConfigError(f"{path}: cannot be read as parquet: {exc}") from exc
    if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)) or column.null_count:
        raise TaskConfigError(f"{path}: column {ID_COLUMN!r} must hold strings without nulls (they name the units)")
    ids: list[str] = column.to_pylist()
    if len(ids) != n_rows:
        raise TaskConfigError(f"{path}: {len(ids)} ImageIDs but {n_rows} rows")
    return ids


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
