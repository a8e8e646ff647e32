"""An optional memory-mapped cache of the pool's embeddings, shared by every worker process on a host.

The real pool is millions of 256-d float64 vectors (gigabytes). Decoding the parquet list column takes
time and, without a cache, each worker process holds its own copy. When the environment variable
`DATAPERF_EVALUATOR_CACHE_DIR` names a writable directory, the vectors are written once to an `.npy` file
there and every process maps it read-only (the operating system shares the pages). The file name is
derived from the parquet's absolute path, size and modification time, so new task data never meets a stale
cache; old files are left for the host to prune. The task directory itself is never written (it may be
read-only). Without the variable, or if the cache cannot be written, the vectors are read into memory.
"""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path

import numpy as np

from evaluators.selection_vision.data import FloatMatrix, read_embeddings

CACHE_DIR_VARIABLE = "DATAPERF_EVALUATOR_CACHE_DIR"
_FORMAT_VERSION = "1"


def cache_file(parquet: Path, cache_dir: Path) -> Path:
    """Where the vectors of `parquet` (as it is now: path, size, modification time) are cached."""
    stat = parquet.stat()
    identity = f"{parquet.resolve()}\0{stat.st_size}\0{stat.st_mtime_ns}\0{_FORMAT_VERSION}"
    digest = hashlib.sha256(identity.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    return cache_dir / f"selection-vision-pool-{digest}.npy"


def _open_cached(target: Path, n_rows: int | None) -> FloatMatrix | None:
    """The cached array, or None when the file is absent or not what this module writes."""
    if not target.is_file():
        return None
    try:
        vectors: FloatMatrix = np.load(target, mmap_mode="r", allow_pickle=False)
    except (OSError, ValueError):
        return None
    if vectors.dtype != np.float64 or vectors.ndim != 2 or (n_rows is not None and len(vectors) != n_rows):
        return None
    return vectors


def _write_cache(parquet: Path, target: Path) -> None:
    """Write the cache file atomically: concurrent writers each write a private file, the last rename wins."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f"{target.name}.{os.getpid()}.{threading.get_ident()}.partial")
    try:

        def allocate(n_rows: int, dim: int) -> FloatMatrix:
            mapped: FloatMatrix = np.lib.format.open_memmap(partial, mode="w+", dtype=np.float64, shape=(n_rows, dim))
            return mapped

        vectors = read_embeddings(parquet, allocate)
        if isinstance(vectors, np.memmap):
            vectors.flush()
        del vectors
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)


def load_pool_vectors(parquet: Path, n_rows: int) -> FloatMatrix:
    """The pool's vectors, (n_rows, dim) float64: memory-mapped from the cache when one is configured."""
    configured = os.environ.get(CACHE_DIR_VARIABLE, "").strip()
    if not configured:
        return read_embeddings(parquet)
    try:
        target = cache_file(parquet, Path(configured))
        found = _open_cached(target, n_rows)
        if found is None:
            _write_cache(parquet, target)
            found = _open_cached(target, n_rows)
    except OSError:
        found = None  # an unwritable cache is a performance problem, not a scoring one
    return found if found is not None else read_embeddings(parquet)
