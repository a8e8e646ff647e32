"""The synthetic slice-discovery generator and its baselines."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq
import pytest
import yaml

from evaluators import Evaluator
from evaluators.slice_discovery.synthetic import SliceShape, generate_slice_task, write_baselines

SHAPE = SliceShape(n_examples=200, dim=8)


def _files(directory: Path) -> dict[str, bytes]:
    return {str(path.relative_to(directory)): path.read_bytes() for path in directory.rglob("*") if path.is_file()}


def test_the_same_seed_writes_identical_bytes_and_another_seed_other_data(tmp_path: Path) -> None:
    generate_slice_task(tmp_path / "a", seed=2, shape=SHAPE)
    generate_slice_task(tmp_path / "b", seed=2, shape=SHAPE)
    generate_slice_task(tmp_path / "c", seed=3, shape=SHAPE)
    assert _files(tmp_path / "a") == _files(tmp_path / "b")
    assert _files(tmp_path / "a")["test_slices.csv"] != _files(tmp_path / "c")["test_slices.csv"]


def test_a_generated_task_has_the_dcbench_layout(tmp_path: Path) -> None:
    generate_slice_task(tmp_path, n_pred_slices=4, slices=("dark", "water"), seed=0, shape=SHAPE)
    assert yaml.safe_load((tmp_path / "task.yaml").read_text()) == {
        "benchmark": "slice-discovery",
        "config": {"n_pred_slices": 4, "slices": ["dark", "water"]},
    }
    predictions = (tmp_path / "test_predictions.csv").read_text().splitlines()
    assert predictions[0] == "id,target,probs"
    assert len(predictions) == 201
    slices = (tmp_path / "test_slices.csv").read_text().splitlines()
    assert slices[0] == "id,dark,water"
    assert sorted(line.split(",")[0] for line in slices[1:]) == [line.split(",")[0] for line in predictions[1:]]
    assert slices[1:] != sorted(slices[1:])  # another row order than the predictions
    table = pq.read_table(tmp_path / "test_embeddings.parquet")
    assert table.column_names == ["id", "embedding"]
    vectors = np.stack(table.column("embedding").to_numpy(zero_copy_only=False))
    assert vectors.shape == (200, 8)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_the_model_fails_on_the_hidden_slices(slice_evaluator: Evaluator[Any, Any], small_task_dir: Path) -> None:
    task = slice_evaluator.load_task(
        small_task_dir,
        slice_evaluator.validate_config(
            {"n_pred_slices": 5, "slices": ["low_light", "water_background", "small_object"]}
        ),
    )
    aligned = task.ground_truth()
    correct = (task.predictions.probs > 0.5) == task.predictions.targets
    inside = np.zeros(task.n_examples, dtype=bool)
    inside[aligned.prediction_rows[aligned.truth.members.any(axis=1)]] = True
    assert 0.05 < inside.mean() < 0.4
    assert correct[inside].mean() < 0.5 < correct[~inside].mean()


def test_the_error_clusters_beat_the_random_baseline(
    slice_evaluator: Evaluator[Any, Any], small_task_dir: Path, tmp_path: Path
) -> None:
    baselines = write_baselines(small_task_dir, tmp_path, seed=0)
    assert sorted(baselines) == ["kmeans-embeddings", "kmeans-errors", "random"]
    config = slice_evaluator.validate_config(yaml.safe_load((small_task_dir / "task.yaml").read_text())["config"])
    task = slice_evaluator.load_task(small_task_dir, config)
    scores = {
        name: slice_evaluator.evaluate(task, slice_evaluator.validate(task, path)).primary
        for name, path in baselines.items()
    }
    assert scores["kmeans-errors"] > scores["random"]
    assert scores["kmeans-embeddings"] > scores["random"]


def test_impossible_slice_counts_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="between 1 and 3 slices"):
        generate_slice_task(tmp_path, slices=("a", "b", "c", "d"), shape=SHAPE)
