"""An optional cache file of the pool's embeddings, shared by every worker process on a host.

The real pool is millions of 256-d vectors (gigabytes). Decoding the parquet list column takes time and,
without a cache, each worker process holds its own copy. When the environment variable
`DATAPERF_EVALUATOR_CACHE_DIR` names a writable directory, the vectors are written once to an `.npy` file
there, in the precision `data.read_embeddings` holds them (float32 for a float32 parquet, else float64), and
every process reads the rows a submission selects from that file (`CachedPool`): the file's pages stay in the
operating system's page cache, shared by all, and a process holds only the rows it gathered. The file name is
derived from the parquet's absolute path, size and modification time, so new task data never meets a stale
cache; old files are left for the host to prune. The task directory itself is never written (it may be
read-only). Without the variable, or if the cache cannot be written, the vectors are read into memory.

Why not memory-map the file: the kernel maps whole page-cache folios around each scattered row gathered, so a
worker's resident memory can grow towards the file's size, even with MADV_RANDOM; positioned reads copy only
the rows asked for.
"""

from __future__ import annotations

import hashlib
import os
import threading
import weakref
from pathlib import Path
from typing import IO, Any

import numpy as np
import numpy.typing as npt

from evaluators.selection_vision.data import PoolMatrix, embedding_batches, read_embeddings

CACHE_DIR_VARIABLE = "DATAPERF_EVALUATOR_CACHE_DIR"
# "2": the file's own precision (float32 or float64); version 1 files were always float64.
_FORMAT_VERSION = "2"
_DTYPES = (np.dtype("<f4"), np.dtype("<f8"))


class CachedPool:
    """The pool's vectors in a cache file, read on demand: `pool[rows]` for a 1-d integer array of rows gives
    a new (len(rows), dim) array, rows in that order (repeats kept), like fancy indexing of an array.

    Also `shape`, `dtype`, `len()` and `numpy.asarray(pool)` (the whole pool: for tests and small pools).
    Reading is thread-safe (positioned reads share no file offset). `OSError` if the file ends early.
    """

    def __init__(self, path: Path, handle: IO[bytes], shape: tuple[int, int], dtype: np.dtype[Any]) -> None:
        self.path = path
        self.shape = shape
        self.dtype = dtype
        self.ndim = 2
        self._handle = handle  # opened read-only
        weakref.finalize(self, handle.close)  # closed with the pool, without a ResourceWarning
        self._offset = handle.tell()
        self._row_bytes = shape[1] * dtype.itemsize

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, rows: npt.ArrayLike) -> PoolMatrix:
        wanted = np.asarray(rows, dtype=np.int64)
        if wanted.ndim != 1 or (len(wanted) and (int(wanted.min()) < 0 or int(wanted.max()) >= self.shape[0])):
            raise IndexError(f"pool rows must be a 1-d array of rows 0..{self.shape[0] - 1}")
        # Each distinct row is read once, consecutive rows in one read, then put in the order asked for.
        distinct, order = np.unique(wanted, return_inverse=True)
        block = np.empty((len(distinct), self.shape[1]), dtype=self.dtype)
        if len(distinct):
            starts = np.flatnonzero(np.diff(distinct, prepend=-2) != 1).tolist()
            for start, end in zip(starts, [*starts[1:], len(distinct)], strict=True):
                self._read(block[start:end], int(distinct[start]))
        gathered: PoolMatrix = block[order]
        return gathered

    def _read(self, target: PoolMatrix, first_row: int) -> None:
        view = target.data.cast("B")
        position = self._offset + first_row * self._row_bytes
        done = 0
        while done < len(view):
            count = os.preadv(self._handle.fileno(), [view[done:]], position + done)
            if count == 0:
                raise OSError(f"{self.path}: the cache file ends before row {first_row + done // self._row_bytes}")
            done += count

    def __array__(self, dtype: npt.DTypeLike | None = None, copy: bool | None = None) -> PoolMatrix:
        everything = self[np.arange(self.shape[0])]
        return everything if dtype is None else everything.astype(dtype)


PoolVectors = PoolMatrix | CachedPool
"""The pool as a loaded task holds it: in memory, or read from the cache file."""


def cache_file(parquet: Path, cache_dir: Path) -> Path:
    """Where the vectors of `parquet` (as it is now: path, size, modification time) are cached."""
    stat = parquet.stat()
    identity = f"{parquet.resolve()}\0{stat.st_size}\0{stat.st_mtime_ns}\0{_FORMAT_VERSION}"
    digest = hashlib.sha256(identity.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    return cache_dir / f"selection-vision-pool-{digest}.npy"


def _open_cached(target: Path, n_rows: int) -> CachedPool | None:
    """The cached pool, or None when the file is absent or not what this module writes (whole, too)."""
    if not target.is_file():
        return None
    handle = target.open("rb", buffering=0)
    try:
        version = np.lib.format.read_magic(handle)
        read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        shape, fortran_order, dtype = read_header(handle)
    except ValueError:
        handle.close()
        return None
    expected_size = handle.tell() + int(np.prod(shape)) * dtype.itemsize
    if fortran_order or dtype not in _DTYPES or len(shape) != 2 or shape[0] != n_rows or shape[1] < 1:
        handle.close()
        return None
    if os.fstat(handle.fileno()).st_size != expected_size:
        handle.close()
        return None
    return CachedPool(target, handle, (int(shape[0]), int(shape[1])), dtype)


def _write_cache(parquet: Path, target: Path) -> None:
    """Write the cache file atomically: concurrent writers each write a private file, the last rename wins.

    Written batch by batch with plain writes (a mapped output would count as the writer's memory)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f"{target.name}.{os.getpid()}.{threading.get_ident()}.partial")
    try:
        n_rows, dtype, batches = embedding_batches(parquet)
        with partial.open("wb") as handle:
            for position, vectors in enumerate(batches):
                if position == 0:
                    header = {"descr": np.lib.format.dtype_to_descr(dtype), "fortran_order": False}
                    np.lib.format.write_array_header_1_0(handle, {**header, "shape": (n_rows, vectors.shape[1])})
                handle.write(np.ascontiguousarray(vectors).data)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)


def load_pool_vectors(parquet: Path, n_rows: int) -> PoolVectors:
    """The pool's vectors, (n_rows, dim) float32 or float64 (see `data.pool_dtype`): read from the cache file
    when one is configured (written first if missing), else into memory."""
    configured = os.environ.get(CACHE_DIR_VARIABLE, "").strip()
    if not configured:
        return read_embeddings(parquet)
    found: CachedPool | None
    try:
        target = cache_file(parquet, Path(configured))
        found = _open_cached(target, n_rows)
        if found is None:
            _write_cache(parquet, target)
            found = _open_cached(target, n_rows)
    except OSError:
        found = None  # an unwritable cache is a performance problem, not a scoring one
    return found if found is not None else read_embeddings(parquet)
