"""debugging-vision: the synthetic tasks are deterministic and realistic, and the baselines are valid."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

from evaluators.debugging_vision.synthetic import DEMO_TASKS, baseline_rankings, generate_task, write_baselines
from evaluators.debugging_vision.task import DebuggingTask
from evaluators.debugging_vision.validation import parse_submission

LoadTask = Callable[[Path], DebuggingTask]


def _files(directory: Path) -> dict[str, bytes]:
    return {str(p.relative_to(directory)): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


def test_the_same_seed_writes_the_same_bytes(small_task_dir: Path, tmp_path: Path) -> None:
    generate_task(tmp_path / "again", config=DEMO_TASKS[0].config, seed=5, small=True)
    assert _files(tmp_path / "again") == _files(small_task_dir)
    generate_task(tmp_path / "other", config=DEMO_TASKS[0].config, seed=6, small=True)
    assert _files(tmp_path / "other") != _files(small_task_dir)


def test_the_task_has_the_original_layout_and_schema(small_task_dir: Path) -> None:
    names = set(_files(small_task_dir))
    for data_id in ("01g317", "09j2d"):
        assert {
            f"embeddings/{data_id}_train_0.3_40.parquet",
            f"embeddings/{data_id}_val_20.parquet",
            f"embeddings/{data_id}_test_60.parquet",
            f"data/dataset_{data_id}_train.csv",
        } <= names
    table = pq.read_table(small_task_dir / "embeddings/01g317_train_0.3_40.parquet")
    assert str(table.schema.field("encoding").type) == "list<element: float>"  # as in the public case
    assert str(table.schema.field("label").type) == "int64"
    assert all(re.fullmatch(r"[0-9a-f]{16}", name) for name in table.column("filename").to_pylist())
    header = (small_task_dir / "data/dataset_01g317_train.csv").read_text().splitlines()[0]
    assert header == "ImageID,hv_label"


def test_the_noise_level_of_the_training_labels_is_wrong(small_task: DebuggingTask) -> None:
    for data_id in small_task.config.datasets:
        wrong = small_task.train[data_id].labels != small_task.hidden(data_id).truth
        assert wrong.sum() == round(0.3 * 40)


def test_the_demo_task_is_the_benchmark_shape(tmp_path: Path, load_task: LoadTask) -> None:
    config = DEMO_TASKS[0].config
    assert config["train_size"] == 300
    assert 2 <= len(config["datasets"]) <= 4
    generate_task(tmp_path / "demo", config=config, seed=0)
    task = load_task(tmp_path / "demo")
    assert task.train["01g317"].features.shape == (300, 2048)
    assert len(task.hidden("09j2d").test) == 500


def test_every_baseline_is_a_valid_full_ranking(
    small_task: DebuggingTask, small_task_dir: Path, tmp_path: Path
) -> None:
    written = write_baselines(small_task_dir, tmp_path / "baselines", seed=1)
    assert set(written) == {"identity", "random", "centroid"}
    for directory in written.values():
        parsed = parse_submission(small_task, directory)
        assert all(sorted(f.ranking) == list(range(40)) for f in parsed.files)


def test_the_centroid_heuristic_lists_the_wrong_labels_earlier_than_random(
    small_task: DebuggingTask, small_task_dir: Path
) -> None:
    rankings = baseline_rankings(small_task_dir, seed=1)
    for data_id in small_task.config.datasets:
        wrong = set(np.flatnonzero(small_task.train[data_id].labels != small_task.hidden(data_id).truth).tolist())

        def mean_position(ranking: list[int], wrong: set[int] = wrong) -> float:
            return float(np.mean([position for position, row in enumerate(ranking) if row in wrong]))

        assert mean_position(rankings["centroid"][data_id]) < mean_position(rankings["random"][data_id])
