"""Reading a parquet slice-discovery submission in bounded batches, one column at a time.

The file is read without memory-mapping it (mapped pages would count against the process) and without
pre-buffering whole column chunks; values are taken from the Arrow buffers directly (`to_numpy` would load
pandas, about 50 MB). The whole file is read before a value fault is raised, so that the faults come in the
order of a whole-table reader: a file that cannot be read, a null id, the first faulty score column (a null
before a non-finite value), an unknown or repeated id, the ids without a row.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.parquet as pq

from evaluators.base import SubmissionError
from evaluators.inputs import show
from evaluators.slice_discovery.data import ID_COLUMN, PREDICTIONS_FILE
from evaluators.slice_discovery.ids import encode_ids, keys_from_binary
from evaluators.slice_discovery.score_table import ScoreTable, check_header
from evaluators.slice_discovery.task import SliceTask

BATCH_ROWS = 16_384
_READ_BUFFER_BYTES = 1 << 20


def _schema(task: SliceTask, parquet: pq.ParquetFile, label: str) -> tuple[str, ...]:
    schema = parquet.schema_arrow
    columns = check_header(task, schema.names, label)
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


def _first_null(column: pa.Array) -> int | None:
    """The index of the column's first null (from its validity bitmap), or None."""
    if not column.null_count:
        return None
    bits = np.unpackbits(np.frombuffer(column.buffers()[0], dtype=np.uint8), bitorder="little")
    return int(np.flatnonzero(bits[column.offset : column.offset + len(column)] == 0)[0])


def _values(column: pa.Array) -> npt.NDArray[Any]:
    """A numeric column's values in their own type, read from its buffer in place (nulls are undefined)."""
    kind = "f" if pa.types.is_floating(column.type) else "i" if pa.types.is_signed_integer(column.type) else "u"
    dtype = np.dtype(f"{kind}{column.type.bit_width // 8}")
    return np.frombuffer(column.buffers()[1], dtype=dtype)[column.offset : column.offset + len(column)]


class _ParquetScores:
    """The state of one read: the table, every file row's example row, and the first fault of each kind."""

    def __init__(self, parquet: pq.ParquetFile, columns: tuple[str, ...], table: ScoreTable) -> None:
        self.parquet = parquet
        self.columns = columns
        self.label = table.label
        self.table = table
        # Each file row's example row (32 bits: the file has no more rows than the task has examples).
        self.rows = np.zeros(parquet.metadata.num_rows, dtype=np.int32)
        self.id_null = self.column_fault = self.id_fault = ""

    def _column(self, index: int) -> Iterator[tuple[int, pa.Array]]:
        """(first file row, column array) of every batch of one column, read lazily."""
        groups = list(range(self.parquet.metadata.num_row_groups))
        start = 0
        for batch in self.parquet.reader.iter_batches(BATCH_ROWS, groups, column_indices=[index], use_threads=False):
            yield start, batch.column(0)
            start += batch.num_rows

    def read_ids(self) -> None:
        width = self.table.task.predictions.ids.keys.dtype.itemsize
        for start, column in self._column(0):
            null = _first_null(column)
            if null is not None:
                self.id_null = self.id_null or f"{self.label}: row {start + null + 1}: the id is null"
            if self.id_null or self.id_fault:
                continue  # read on: a file that cannot be read is reported before any value fault
            keys = self._keys(column, width)
            places = np.arange(start + 1, start + len(column) + 1, dtype=np.int64)
            rows, fault = self.table.claim(keys, places)
            self.rows[start : start + len(column)] = rows
            if fault is not None:
                self.id_fault = self.table.id_fault(self._id_text(column, fault), int(rows[fault]), start + fault + 1)

    @staticmethod
    def _keys(column: pa.Array, width: int) -> npt.NDArray[np.bytes_]:
        if pa.types.is_integer(column.type):
            # An integer id is its decimal text (one batch of Python ints at a time).
            return encode_ids([str(value) for value in _values(column).tolist()])
        offsets_type = np.int64 if pa.types.is_large_string(column.type) else np.int32
        offsets = np.frombuffer(column.buffers()[1], dtype=offsets_type)[
            column.offset : column.offset + len(column) + 1
        ]
        data = np.frombuffer(column.buffers()[2] or b"", dtype=np.uint8)
        return keys_from_binary(offsets.astype(np.int64), data, width)

    @staticmethod
    def _id_text(column: pa.Array, index: int) -> str:
        return str(column[index].as_py())

    def read_scores(self) -> None:
        for index, name in enumerate(self.columns, start=1):
            null_fault = number_fault = ""
            for start, column in self._column(index):
                if self.column_fault:
                    continue  # an earlier column's fault comes first; read on for read errors
                null = _first_null(column)
                if null is not None:
                    null_fault = (
                        null_fault or f"{self.label}: row {start + null + 1}, column {show(name)}: the score is null"
                    )
                    continue
                values = _values(column).astype(np.float64)
                bad = np.flatnonzero(~np.isfinite(values))
                if bad.size and not number_fault:
                    number_fault = (
                        f"{self.label}: row {start + bad[0] + 1}, column {show(name)}: {values[bad[0]]} is not finite "
                        "(NaN and infinity are not scores)"
                    )
                if not (null_fault or number_fault or self.id_null or self.id_fault):
                    self.table.put_column(self.rows[start : start + len(column)], index - 1, values)
            # A whole-column reader checked a column's nulls before its values.
            self.column_fault = self.column_fault or null_fault or number_fault

    def finish(self) -> None:
        for fault in (self.id_null, self.column_fault, self.id_fault):
            if fault:
                raise SubmissionError(fault)
        self.table.check_complete()


def read_parquet_scores(
    task: SliceTask, path: Path, label: str, *, keep_scores: bool = True
) -> tuple[tuple[str, ...], ScoreTable]:
    """(score column names, the filled table: `ScoreTable.kept_scores` in the predictions' order) of a parquet
    submission; `SubmissionError` with the first broken rule, or when the file starts like parquet but cannot
    be read as parquet. With `keep_scores=False` every check runs and no score is stored."""
    try:
        parquet = pq.ParquetFile(path, memory_map=False, pre_buffer=False, buffer_size=_READ_BUFFER_BYTES)
        columns = _schema(task, parquet, label)
        reader = _ParquetScores(parquet, columns, ScoreTable(task, len(columns), label, "row", keep_scores=keep_scores))
        reader.read_ids()
        reader.read_scores()
    except (OSError, ValueError, TypeError, pa.ArrowException) as exc:
        raise SubmissionError(f"{label}: starts like a parquet file but cannot be read as one ({exc})") from exc
    reader.finish()
    return columns, reader.table
