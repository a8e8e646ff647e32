"""selection-vision pool: held at the file's precision (float32 stays float32, in memory and in the cache), the
scores equal to those of a float64 pool, the vectorised ImageID look-up equal to the one-by-one look-up, and an
earlier unknown id still reported before a later broken rule."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from evaluators import Evaluator, SubmissionError
from evaluators.selection_vision.cache import CACHE_DIR_VARIABLE, CachedPool, cache_file
from evaluators.selection_vision.data import POOL_FILE, ImageIndex, build_index
from evaluators.selection_vision.task import VisionTask
from evaluators.selection_vision.validation import parse_selection
from tests.evaluators.selection_vision.helpers import CONFIG, VISION_CASE, WriteDir, to_csv


def _as_float32_pool(task_dir: Path) -> np.ndarray[Any, Any]:
    """Rewrite the pool of `task_dir` with float32 values (in small row groups); return them."""
    path = task_dir / POOL_FILE
    table = pq.read_table(path)
    vectors = np.stack(table.column("embedding").to_numpy(zero_copy_only=False)).astype(np.float32)
    flat = pa.array(vectors.reshape(-1), type=pa.float32())
    offsets = pa.array(np.arange(0, vectors.size + 1, vectors.shape[1], dtype=np.int32))
    embedding = pa.ListArray.from_arrays(offsets, flat)
    pq.write_table(pa.table({"ImageID": table.column("ImageID"), "embedding": embedding}), path, row_group_size=700)
    return vectors


@pytest.fixture
def float32_case(tmp_path: Path) -> tuple[Path, np.ndarray[Any, Any]]:
    """A copy of the reference task whose pool holds float32 values, and those values."""
    task_dir = tmp_path / "task"
    shutil.copytree(VISION_CASE / "task", task_dir)
    return task_dir, _as_float32_pool(task_dir)


def _load(evaluator: Evaluator[Any, Any], task_dir: Path) -> VisionTask:
    task: VisionTask = evaluator.load_task(task_dir, CONFIG)
    return task


def test_a_float64_pool_is_held_as_float64(vision_task: VisionTask) -> None:
    assert vision_task.pool.dtype == np.float64


@pytest.mark.parametrize("cached", [False, True])
def test_a_float32_pool_is_held_as_float32_row_for_row(
    vision_evaluator: Evaluator[Any, Any],
    float32_case: tuple[Path, np.ndarray[Any, Any]],
    cached: bool,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    task_dir, vectors = float32_case
    if cached:
        monkeypatch.setenv(CACHE_DIR_VARIABLE, str(tmp_path / "cache"))
        _load(vision_evaluator, task_dir)  # writes the cache; the second load maps it
    task = _load(vision_evaluator, task_dir)
    assert isinstance(task.pool, CachedPool) == cached
    assert task.pool.dtype == np.float32
    assert np.asarray(task.pool).tobytes() == vectors.tobytes()


def test_the_cached_pool_gathers_rows_as_an_array_does(
    vision_evaluator: Evaluator[Any, Any],
    float32_case: tuple[Path, np.ndarray[Any, Any]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    task_dir, vectors = float32_case
    monkeypatch.setenv(CACHE_DIR_VARIABLE, str(tmp_path / "cache"))
    pool = _load(vision_evaluator, task_dir).pool
    assert isinstance(pool, CachedPool)
    rng = np.random.default_rng(0)
    last = len(vectors) - 1
    for rows in ([0], [last], [5, 4, 5, 6, 7, 0], rng.integers(0, len(vectors), 500), [], list(range(10, 40))):
        wanted = np.asarray(rows, dtype=np.int64)
        assert pool[wanted].tobytes() == vectors[wanted].tobytes()
        assert pool[wanted].shape == (len(wanted), vectors.shape[1])
    for bad in ([-1], [len(vectors)], [[0, 1]]):
        with pytest.raises(IndexError):
            pool[np.asarray(bad)]


def test_a_truncated_cache_file_is_not_used(
    vision_evaluator: Evaluator[Any, Any],
    float32_case: tuple[Path, np.ndarray[Any, Any]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    task_dir, vectors = float32_case
    monkeypatch.setenv(CACHE_DIR_VARIABLE, str(tmp_path / "cache"))
    _load(vision_evaluator, task_dir)
    written = cache_file(task_dir / POOL_FILE, tmp_path / "cache")
    with written.open("r+b") as handle:
        handle.truncate(written.stat().st_size - 4)
    task = _load(vision_evaluator, task_dir)  # rewritten whole
    assert written.stat().st_size == 128 + vectors.nbytes
    assert np.asarray(task.pool).tobytes() == vectors.tobytes()


def test_a_float32_pool_scores_as_the_same_values_in_float64(
    vision_evaluator: Evaluator[Any, Any], float32_case: tuple[Path, np.ndarray[Any, Any]], tmp_path: Path
) -> None:
    """The fit widens the gathered rows to float64, which is exact: the same scores as a pool held in float64."""
    task_dir, vectors = float32_case
    task = _load(vision_evaluator, task_dir)
    widened = VisionTask(task_dir=task_dir, config=task.config, pool=vectors.astype(np.float64), index=task.index)
    submission = VISION_CASE / "submissions" / "balanced200"
    ours = vision_evaluator.evaluate(task, vision_evaluator.validate(task, submission))
    theirs = vision_evaluator.evaluate(widened, vision_evaluator.validate(widened, submission))
    assert ours.metrics == theirs.metrics
    assert ours.primary == theirs.primary


def _queries(index: ImageIndex) -> list[str]:
    known = [f"{int(key):016x}" for key in index.keys[:50]] if index.hex_keys else [str(k) for k in index.keys]
    odd = ["", "x", "0" * 15, "0" * 17, known[0].upper(), known[0] + "\0", "\u0130" + known[0][1:], "\ud800" * 16]
    return [*known, *odd, "ffffffffffffffff", "0000000000000000", known[-1]]


@pytest.mark.parametrize("hex_ids", [True, False])
def test_the_vectorised_look_up_equals_the_one_by_one_look_up(vision_task: VisionTask, hex_ids: bool) -> None:
    index = vision_task.index if hex_ids else build_index(pa.array(["b", "a", "img-3", "c\0"]), Path("pool"))
    queries = [*_queries(index), "a", "a\0", "img-3", "zzz"]
    expected = [-1 if (row := index.row_of(query)) is None else row for query in queries]
    assert index.rows_of(queries).tolist() == expected
    assert index.rows_of([]).tolist() == []


def test_an_unknown_id_before_a_bad_label_is_the_error_reported(
    vision_task: VisionTask, write_dir: WriteDir, valid_files: dict[str, Any]
) -> None:
    rows = valid_files["Hawk.csv"]
    valid_files["Hawk.csv"] = [rows[0], ["00000000000000aa", "1"], [rows[1][0], "2"], *rows[2:]]
    with pytest.raises(SubmissionError, match=r'Hawk\.csv: line 3: ImageID "00000000000000aa" is not in the'):
        parse_selection(vision_task, write_dir(valid_files))


def test_a_bad_label_before_an_unknown_id_is_the_error_reported(
    vision_task: VisionTask, write_dir: WriteDir, valid_files: dict[str, Any]
) -> None:
    rows = valid_files["Hawk.csv"]
    valid_files["Hawk.csv"] = [rows[0], [rows[1][0], "2"], ["00000000000000aa", "1"], *rows[2:]]
    with pytest.raises(SubmissionError, match=r'Hawk\.csv: line 3: Confidence "2" is not a label'):
        parse_selection(vision_task, write_dir(valid_files))


def test_an_unknown_id_is_found_beyond_the_first_look_up_chunk(
    vision_task: VisionTask, write_dir: WriteDir, valid_files: dict[str, Any]
) -> None:
    rows = valid_files["Hawk.csv"] * 30  # 6,000 rows: more than one chunk of ids looked up at once
    rows[5000] = ["00000000000000aa", "1"]
    files = {**valid_files, "Hawk.csv": to_csv(rows)}
    task = VisionTask(
        task_dir=vision_task.task_dir,
        config=type(vision_task.config)(concepts=vision_task.config.concepts, max_per_concept=10_000),
        pool=vision_task.pool,
        index=vision_task.index,
    )
    with pytest.raises(SubmissionError, match=r'Hawk\.csv: line 5002: ImageID "00000000000000aa"'):
        parse_selection(task, write_dir(files))
