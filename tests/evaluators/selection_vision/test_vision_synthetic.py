"""selection-vision synthetic data: deterministic, in the original schemas, with honest baselines."""

from __future__ import annotations

import filecmp
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from evaluators import Evaluator
from evaluators.selection_vision.data import read_example_ids
from evaluators.selection_vision.synthetic import SMALL_SHAPE, generate_vision_task, write_baselines
from evaluators.selection_vision.task import VisionTask
from tests.evaluators.selection_vision.helpers import CONFIG


def _same_tree(left: Path, right: Path) -> bool:
    files = sorted(p.relative_to(left) for p in left.rglob("*") if p.is_file())
    other = sorted(p.relative_to(right) for p in right.rglob("*") if p.is_file())
    return files == other and all(filecmp.cmp(left / f, right / f, shallow=False) for f in files)


def test_the_same_seed_writes_identical_bytes(small_vision_dir: Path, tmp_path: Path) -> None:
    generate_vision_task(tmp_path / "again", seed=5, shape=SMALL_SHAPE)
    assert _same_tree(small_vision_dir, tmp_path / "again")


def test_another_seed_writes_other_data(small_vision_dir: Path, tmp_path: Path) -> None:
    generate_vision_task(tmp_path / "other", seed=6, shape=SMALL_SHAPE)
    assert not _same_tree(small_vision_dir, tmp_path / "other")


def test_a_generated_task_has_the_original_layout_and_schema(small_vision_dir: Path) -> None:
    pool = pq.read_table(small_vision_dir / "embeddings" / "train_emb_256_dataperf.parquet")
    assert pool.schema.field("ImageID").type == pa.string()
    assert pool.schema.field("embedding").type == pa.list_(pa.float64())
    assert pool.num_rows == 1500
    test = pq.read_table(small_vision_dir / "test_sets" / "alpha_test_set_Hawk_256.parquet")
    assert set(test.column("Confidence").to_pylist()) == {"0", "1"}
    assert len(test.column("embedding")[0].as_py()) == 256
    header = (small_vision_dir / "examples" / "alpha_example_set_Hawk.csv").read_text().splitlines()[0]
    assert header == "LabelName,ImageID,Confidence,OriginalURL,DisplayName"


def test_the_examples_are_pool_images(vision_evaluator: Evaluator[Any, Any], small_vision_dir: Path) -> None:
    task: VisionTask = vision_evaluator.load_task(small_vision_dir, CONFIG)
    examples = read_example_ids(small_vision_dir / "examples" / "alpha_example_set_Sushi.csv")
    assert len(examples) == 20
    assert all(task.index.row_of(image_id) is not None for image_id in examples)


def test_it_refuses_impossible_sizes(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least one concept"):
        generate_vision_task(tmp_path, concepts=[], shape=SMALL_SHAPE)


def test_baselines_are_valid_deterministic_and_use_both_formats(
    vision_evaluator: Evaluator[Any, Any], small_vision_dir: Path, tmp_path: Path
) -> None:
    first = write_baselines(small_vision_dir, tmp_path / "a")
    second = write_baselines(small_vision_dir, tmp_path / "b")
    task: VisionTask = vision_evaluator.load_task(small_vision_dir, CONFIG)
    assert sorted(first) == ["examples-random-negatives", "nearest-to-examples"]
    for name, directory in first.items():
        assert _same_tree(directory, second[name])
        parsed = vision_evaluator.validate(task, directory)
        assert all(len(part.rows) <= 1000 for part in parsed.concepts)
    assert sorted(p.suffix for p in first["nearest-to-examples"].iterdir()) == [".json"] * 3


def test_the_baselines_score_well_but_leave_room_for_better_selections(
    vision_evaluator: Evaluator[Any, Any], small_vision_dir: Path, tmp_path: Path
) -> None:
    task: VisionTask = vision_evaluator.load_task(small_vision_dir, CONFIG)
    scores = {
        name: vision_evaluator.evaluate(task, vision_evaluator.validate(task, path)).primary
        for name, path in write_baselines(small_vision_dir, tmp_path).items()
    }
    assert all(0.5 < score < 0.95 for score in scores.values()), scores
