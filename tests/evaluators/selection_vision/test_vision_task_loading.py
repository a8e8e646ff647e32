"""selection-vision task loading: config rules, the pool index, the optional cache, lazy hidden data, checks."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from evaluators import Evaluator, TaskConfigError
from evaluators.selection_vision.cache import CACHE_DIR_VARIABLE, CachedPool, cache_file
from evaluators.selection_vision.data import POOL_FILE, build_index, held_out_path, read_embeddings
from evaluators.selection_vision.task import VisionTask
from evaluators.selection_vision.validation import parse_selection
from tests.evaluators.selection_vision.helpers import CONFIG, WriteDir


@pytest.fixture
def task_copy(small_vision_dir: Path, tmp_path: Path) -> Path:
    """A private copy of the small synthetic task, free to break."""
    copy = tmp_path / "task"
    shutil.copytree(small_vision_dir, copy)
    return copy


def _load(evaluator: Evaluator[Any, Any], directory: Path) -> VisionTask:
    task: VisionTask = evaluator.load_task(directory, CONFIG)
    return task


def _write_pool(path: Path, ids: list[str], vectors: list[list[float]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    table = pa.table({"ImageID": pa.array(ids, pa.string()), "embedding": pa.array(vectors, pa.list_(pa.float64()))})
    pq.write_table(table, path)


@pytest.mark.parametrize(
    ("config", "fragment"),
    [
        ({}, "config.concepts must be a list of 1 to 100 concept names"),
        ({"concepts": []}, "config.concepts must be a list"),
        ({"concepts": ["Hawk", "hawk"]}, "'hawk' is listed twice"),
        ({"concepts": ["../x"]}, "'../x' is not a usable concept name"),
        ({"concepts": [1]}, "1 is not a usable concept name"),
        ({"concepts": ["Hawk"], "max_per_concept": 1}, "config.max_per_concept must be an integer from 2"),
        ({"concepts": ["Hawk"], "max_per_concept": True}, "got True"),
        ({"concepts": ["Hawk"], "max_per_concept": "1000"}, "got '1000'"),
        ({"concepts": ["Hawk"], "budget": 5}, "unexpected config key(s) budget"),
    ],
)
def test_it_rejects_a_bad_config(vision_evaluator: Evaluator[Any, Any], config: dict[str, Any], fragment: str) -> None:
    with pytest.raises(TaskConfigError) as raised:
        vision_evaluator.validate_config(config)
    assert fragment in str(raised.value)


def test_the_limit_defaults_to_1000(vision_evaluator: Evaluator[Any, Any]) -> None:
    assert vision_evaluator.validate_config({"concepts": ["Hawk"]}) == {"concepts": ["Hawk"], "max_per_concept": 1000}


def test_the_f1_of_each_concept_is_a_leaderboard_column(vision_evaluator: Evaluator[Any, Any]) -> None:
    columns = [spec.name for spec in vision_evaluator.metric_specs(CONFIG) if spec.leaderboard_column]
    assert columns == ["f1.Cupcake", "f1.Hawk", "f1.Sushi"]


def test_hex_ids_are_indexed_as_64_bit_keys(vision_task: VisionTask) -> None:
    assert vision_task.index.hex_keys
    assert vision_task.index.keys.dtype == np.uint64
    assert len(vision_task.index) == 4000 == len(vision_task.pool)


def test_other_ids_fall_back_to_a_string_index(tmp_path: Path) -> None:
    index = build_index(pa.array(["b", "a", "img-3"]), tmp_path / "pool.parquet")
    assert not index.hex_keys
    assert [index.row_of(name) for name in ("a", "b", "img-3", "c")] == [1, 0, 2, None]


def test_it_rejects_a_repeated_pool_id(tmp_path: Path) -> None:
    with pytest.raises(TaskConfigError) as raised:
        build_index(pa.array(["00000000000000aa", "00000000000000bb", "00000000000000aa"]), tmp_path / "p")
    assert "ImageID '00000000000000aa' appears more than once" in str(raised.value)


def test_it_rejects_a_missing_pool(vision_evaluator: Evaluator[Any, Any], task_copy: Path) -> None:
    (task_copy / POOL_FILE).unlink()
    with pytest.raises(TaskConfigError) as raised:
        _load(vision_evaluator, task_copy)
    assert "missing task file" in str(raised.value)


def test_it_rejects_embeddings_of_different_lengths(vision_evaluator: Evaluator[Any, Any], task_copy: Path) -> None:
    _write_pool(task_copy / POOL_FILE, ["00000000000000aa", "00000000000000bb"], [[0.0, 1.0], [1.0]])
    with pytest.raises(TaskConfigError) as raised:
        _load(vision_evaluator, task_copy)
    assert "non-empty vector of one length" in str(raised.value)


def test_it_rejects_a_nan_embedding(vision_evaluator: Evaluator[Any, Any], task_copy: Path) -> None:
    _write_pool(task_copy / POOL_FILE, ["00000000000000aa", "00000000000000bb"], [[0.0, 1.0], [float("nan"), 1.0]])
    with pytest.raises(TaskConfigError) as raised:
        _load(vision_evaluator, task_copy)
    assert "NaN or infinity" in str(raised.value)


def test_validation_works_with_only_the_public_files(
    vision_evaluator: Evaluator[Any, Any], small_vision_dir: Path, tmp_path: Path, write_dir: WriteDir
) -> None:
    public = tmp_path / "public"
    shutil.copytree(small_vision_dir, public, ignore=shutil.ignore_patterns("test_sets"))
    task = _load(vision_evaluator, public)
    rows = [["", "1"], ["", "0"]]
    rows[0][0], rows[1][0] = (f"{int(task.index.keys[i]):016x}" for i in (0, 1))
    parsed = parse_selection(task, write_dir({f"{c}.csv": rows for c in CONFIG["concepts"]}))
    with pytest.raises(TaskConfigError):
        vision_evaluator.evaluate(task, parsed)


def test_check_task_reports_a_missing_test_set(vision_evaluator: Evaluator[Any, Any], task_copy: Path) -> None:
    held_out_path(task_copy, "Hawk").unlink()
    problems = vision_evaluator.check_task(_load(vision_evaluator, task_copy))
    assert len(problems) == 1
    assert "alpha_test_set_Hawk_256.parquet: missing task file" in problems[0]


def test_check_task_reports_a_test_set_with_one_label(vision_evaluator: Evaluator[Any, Any], task_copy: Path) -> None:
    path = held_out_path(task_copy, "Sushi")
    table = pq.read_table(path)
    pq.write_table(table.set_column(2, "Confidence", pa.array(["1"] * table.num_rows)), path)
    problems = vision_evaluator.check_task(_load(vision_evaluator, task_copy))
    assert problems == [f"{path}: every test row has label 1; F1 needs positives and negatives"]


def test_check_task_reports_a_test_label_other_than_0_or_1(
    vision_evaluator: Evaluator[Any, Any], task_copy: Path
) -> None:
    path = held_out_path(task_copy, "Sushi")
    table = pq.read_table(path)
    pq.write_table(table.set_column(2, "Confidence", pa.array(["2"] * table.num_rows)), path)
    assert "Confidence is '2'" in vision_evaluator.check_task(_load(vision_evaluator, task_copy))[0]


def test_integer_test_labels_are_accepted(vision_evaluator: Evaluator[Any, Any], task_copy: Path) -> None:
    path = held_out_path(task_copy, "Sushi")
    table = pq.read_table(path)
    labels = [int(value) for value in table.column("Confidence").to_pylist()]
    pq.write_table(table.set_column(2, "Confidence", pa.array(labels, pa.int64())), path)
    task = _load(vision_evaluator, task_copy)
    assert vision_evaluator.check_task(task) == []
    assert task.test_set("Sushi").labels.tolist() == labels


def test_check_task_reports_a_test_set_of_another_dimension(
    vision_evaluator: Evaluator[Any, Any], task_copy: Path
) -> None:
    path = held_out_path(task_copy, "Hawk")
    _write_pool(path, ["00000000000000aa"], [[0.5, 0.5]])
    table = pq.read_table(path)
    pq.write_table(table.append_column("Confidence", pa.array(["1"])), path)
    assert (
        "embeddings have 2 values, the pool's have 256"
        in vision_evaluator.check_task(_load(vision_evaluator, task_copy))[0]
    )


def test_the_cache_maps_the_pool_from_a_file_it_writes_once(
    vision_evaluator: Evaluator[Any, Any], task_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache_dir = tmp_path / "cache"
    monkeypatch.setenv(CACHE_DIR_VARIABLE, str(cache_dir))
    before = sorted(p.name for p in task_copy.rglob("*"))
    first = _load(vision_evaluator, task_copy)
    written = cache_file(task_copy / POOL_FILE, cache_dir)
    assert isinstance(first.pool, CachedPool)
    assert [p.name for p in cache_dir.iterdir()] == [written.name]
    stamp = written.stat().st_mtime_ns
    second = _load(vision_evaluator, task_copy)
    assert written.stat().st_mtime_ns == stamp
    assert np.array_equal(second.pool, first.pool)
    assert np.array_equal(second.pool, read_embeddings(task_copy / POOL_FILE))
    assert sorted(p.name for p in task_copy.rglob("*")) == before  # the task directory is never written


def test_the_cache_follows_a_changed_pool(
    vision_evaluator: Evaluator[Any, Any], task_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(CACHE_DIR_VARIABLE, str(tmp_path / "cache"))
    _load(vision_evaluator, task_copy)
    pool = task_copy / POOL_FILE
    _write_pool(pool, ["00000000000000aa", "00000000000000bb"], [[0.0, 1.0], [1.0, 0.0]])
    os.utime(pool, ns=(1, 1))
    assert np.asarray(_load(vision_evaluator, task_copy).pool).tolist() == [[0.0, 1.0], [1.0, 0.0]]


def test_an_unwritable_cache_falls_back_to_memory(
    vision_evaluator: Evaluator[Any, Any], task_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory", encoding="utf-8")
    monkeypatch.setenv(CACHE_DIR_VARIABLE, str(blocker / "cache"))
    task = _load(vision_evaluator, task_copy)
    assert isinstance(task.pool, np.ndarray)
    assert task.pool.shape == (1500, 256)
