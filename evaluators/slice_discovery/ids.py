"""Example ids held compactly: one fixed-width byte string per example, searched by binary search.

A task of a million examples held as a tuple of `str` and a `dict` of rows costs over 150 MB of Python
objects, more than the whole validation of a 100 MB upload may use. Here an id is its UTF-8 bytes followed
by one marker byte, in a numpy fixed-width bytes array in file order, with the sort permutation beside it:
about `max id length + 1 + 4` bytes per example. The marker keeps the mapping exact: numpy strips trailing
NUL bytes from fixed-width strings, so without it "a" and "a\\0" would compare equal.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

MARKER = b"\x01"
NOT_FOUND = -1

Keys = npt.NDArray[np.bytes_]
RowArray = npt.NDArray[np.int64]


def encode_ids(ids: Sequence[str]) -> Keys:
    """The lookup keys of `ids` (UTF-8 plus the marker byte), as a fixed-width bytes array."""
    # surrogatepass: an id of a parquet file or a file name may hold a lone surrogate; it must not crash here.
    return np.array([example_id.encode("utf-8", "surrogatepass") + MARKER for example_id in ids], dtype=np.bytes_)


def decode_key(key: bytes) -> str:
    """The id a key was made from (the inverse of `encode_ids`)."""
    return key[: -len(MARKER)].decode("utf-8", "surrogatepass")


class ExampleIds:
    """The ids of a task's examples in file order, with a lookup from id to row.

    Read-only after construction (shared by every submission of a task). `rows_of` is vectorised: a chunk of
    a submission is looked up with one binary search per id and no Python object per row.
    """

    def __init__(self, keys: Keys) -> None:
        """`keys` from `encode_ids`, in file order; the caller has checked that they are distinct."""
        self.keys = keys
        index_type = np.int32 if len(keys) < np.iinfo(np.int32).max else np.int64
        self._sorter: npt.NDArray[Any] = np.argsort(keys, kind="stable").astype(index_type)

    def __len__(self) -> int:
        return len(self.keys)

    def __getitem__(self, row: int) -> str:
        return decode_key(bytes(self.keys[row]))

    def __iter__(self) -> Iterator[str]:
        return (decode_key(bytes(key)) for key in self.keys)

    def __contains__(self, example_id: object) -> bool:
        return isinstance(example_id, str) and self.row_of(example_id) is not None

    def tolist(self) -> list[str]:
        """Every id, in file order (a Python object per example: for small tasks and the evaluation path)."""
        return list(self)

    def sorted_keys(self) -> Keys:
        """The keys in sorted order (a new array); equal keys are adjacent."""
        ordered: Keys = self.keys[self._sorter]
        return ordered

    def rows_of_keys(self, keys: Keys) -> RowArray:
        """The row of each key (from `encode_ids` or `keys_from_binary`), `NOT_FOUND` (-1) for unknown ids."""
        if len(self.keys) == 0 or len(keys) == 0:
            return np.full(len(keys), NOT_FOUND, dtype=np.int64)
        # Searching with keys of another width would convert the whole task array to that width on every call
        # (a transient copy per chunk); the chunk is brought to the task's width instead. A key longer than
        # that is no id of the task: it is cut for the search and refused afterwards.
        too_long = np.char.str_len(keys) > self.keys.itemsize if keys.itemsize > self.keys.itemsize else None
        keys = keys.astype(self.keys.dtype)
        position = np.searchsorted(self.keys, keys, sorter=self._sorter)
        candidate = self._sorter[np.minimum(position, len(self.keys) - 1)]
        found = self.keys[candidate] == keys
        if too_long is not None:
            found &= ~too_long
        return np.where(found, candidate, NOT_FOUND).astype(np.int64)

    def rows_of(self, ids: Sequence[str]) -> RowArray:
        """The row of each id, `NOT_FOUND` (-1) for an id that is not an example."""
        return self.rows_of_keys(encode_ids(ids))

    def row_of(self, example_id: str) -> int | None:
        """The row of one id, or None."""
        row = int(self.rows_of([example_id])[0])
        return None if row == NOT_FOUND else row


def keys_from_binary(offsets: npt.NDArray[np.int64], data: npt.NDArray[np.uint8], width: int) -> Keys:
    """Keys (as `encode_ids` makes them) of variable-length byte strings given as offsets into `data`, without
    a Python object per string; strings of `width` bytes or more come out cut to `width` bytes plus the marker.

    Callers pass `width` = the widest task key, so that a cut string (longer than any id) cannot match.
    """
    count = len(offsets) - 1
    lengths = np.minimum(np.diff(offsets), width)
    columns = np.arange(width + 1, dtype=np.int64)
    inside = columns[None, :] < lengths[:, None]
    source = np.minimum(offsets[:-1, None] + columns[None, :], max(len(data) - 1, 0))
    padded = np.zeros((count, width + 1), dtype=np.uint8)
    if len(data):
        padded[inside] = data[source[inside]]
    padded[np.arange(count), lengths] = MARKER[0]
    return padded.view(f"S{width + 1}").reshape(count)
