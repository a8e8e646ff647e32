"""Synthetic test-set-creation tasks and baseline test sets, for tests, demos and offline trials.

A generated task stands in for image embeddings: 32-dimensional vectors of 6 classes, each class a mixture
of a common, a less common and a rare mode, the rare mode lying towards another class. The public training
set of the model suite almost never shows the rare modes; the supplemental pool shows them often, and
also holds ambiguous blends of two classes (the human label is the dominant class). So the suite errs on a
realistic share of the pool, its three models disagree on part of it, and a participant who labels well
finds items that fool it. Everything is derived from `seed`: the same arguments write byte-identical files.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from evaluators.demo import DemoTask
from evaluators.taskdir import TASK_FILE, load_task_dir
from evaluators.test_set_creation.baselines import write_baseline_files
from evaluators.test_set_creation.data import (
    EMBEDDING_COLUMN,
    HUMAN_LABELS_FILE,
    ID_COLUMN,
    LABEL_COLUMN,
    POOL_FILE,
    TRAIN_FILE,
)
from evaluators.test_set_creation.task import TestSetConfig

SLUG = "test-set-creation"
DEMO_LABELS = ("airplane", "bird", "car", "cat", "dog", "ship")


@dataclass(frozen=True)
class TestSetShape:
    """Sizes and difficulty of a synthetic task."""

    __test__ = False  # a name starting with "Test" is not a pytest test class
    dim: int = 32
    train_per_label: int = 100
    pool: int = 3000
    train_modes: tuple[float, float, float] = (0.66, 0.32, 0.02)
    pool_modes: tuple[float, float, float] = (0.55, 0.30, 0.15)
    blended: float = 0.06
    spread: float = 2.2
    noise: float = 1.0


SMALL_SHAPE = TestSetShape(train_per_label=40, pool=400)


def _mode_centres(rng: np.random.Generator, shape: TestSetShape, n_labels: int) -> np.ndarray:
    """(label, mode, dim) centres; mode 2 of a label lies 60 % of the way towards another label's centre."""
    centres = rng.normal(0.0, shape.spread, size=(n_labels, shape.dim))
    modes = centres[:, np.newaxis, :] + rng.normal(0.0, shape.spread * 0.45, size=(n_labels, 3, shape.dim))
    for label in range(n_labels):
        other = (label + 1 + int(rng.integers(n_labels - 1))) % n_labels
        modes[label, 2] = 0.4 * centres[label] + 0.6 * centres[other] + rng.normal(0.0, 0.3, size=shape.dim)
    return modes


def _draw(
    rng: np.random.Generator, modes: np.ndarray, labels: np.ndarray, weights: tuple[float, ...], noise: float
) -> np.ndarray:
    picked = rng.choice(3, size=len(labels), p=np.asarray(weights) / sum(weights))
    vectors: np.ndarray = modes[labels, picked] + rng.normal(0.0, noise, size=(len(labels), modes.shape[2]))
    return vectors


def _blends(rng: np.random.Generator, modes: np.ndarray, count: int, noise: float) -> tuple[np.ndarray, np.ndarray]:
    """Ambiguous items: a blend of two labels' common modes; the human label is the one with more weight."""
    n_labels = modes.shape[0]
    first = rng.integers(n_labels, size=count)
    second = (first + 1 + rng.integers(n_labels - 1, size=count)) % n_labels
    weight = rng.uniform(0.3, 0.7, size=count)
    vectors = weight[:, None] * modes[first, 0] + (1 - weight[:, None]) * modes[second, 0]
    vectors += rng.normal(0.0, noise, size=vectors.shape)
    return vectors, np.where(weight >= 0.5, first, second)


def _write_parquet(path: Path, columns: dict[str, Any], vectors: np.ndarray) -> None:
    n_rows, dim = vectors.shape
    offsets = pa.array(np.arange(0, (n_rows + 1) * dim, dim, dtype=np.int32))
    embedding = pa.ListArray.from_arrays(offsets, pa.array(vectors.astype(np.float32).reshape(-1), type=pa.float32()))
    table = pa.table(
        {**{name: pa.array(values, type=pa.string()) for name, values in columns.items()}, EMBEDDING_COLUMN: embedding}
    )
    pq.write_table(table, path, compression="snappy")


def generate_test_set_task(
    out_dir: Path, config: TestSetConfig, *, seed: int = 0, shape: TestSetShape | None = None
) -> None:
    """Write a complete task directory (task.yaml, pool.parquet, train.parquet, hidden human_labels.csv)."""
    shape = shape or TestSetShape()
    n_labels = len(config.labels)
    rng = np.random.default_rng(seed)
    modes = _mode_centres(rng, shape, n_labels)
    train_labels = np.repeat(np.arange(n_labels), shape.train_per_label)
    train = _draw(rng, modes, train_labels, shape.train_modes, shape.noise)
    n_blended = round(shape.pool * shape.blended)
    pool_labels = rng.integers(n_labels, size=shape.pool - n_blended)
    pool = _draw(rng, modes, pool_labels, shape.pool_modes, shape.noise)
    blended, blended_labels = _blends(rng, modes, n_blended, shape.noise)
    order = rng.permutation(shape.pool)
    pool = np.concatenate([pool, blended])[order]
    human = np.concatenate([pool_labels, blended_labels])[order]
    out_dir.mkdir(parents=True, exist_ok=True)
    train_ids = [f"train_{index:05d}" for index in range(len(train_labels))]
    _write_parquet(
        out_dir / TRAIN_FILE,
        {ID_COLUMN: train_ids, LABEL_COLUMN: [config.labels[label] for label in train_labels]},
        train,
    )
    pool_ids = [f"pool_{index:05d}" for index in range(shape.pool)]
    _write_parquet(out_dir / POOL_FILE, {ID_COLUMN: pool_ids}, pool)
    with (out_dir / HUMAN_LABELS_FILE).open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow([ID_COLUMN, LABEL_COLUMN])
        writer.writerows([item, config.labels[label]] for item, label in zip(pool_ids, human, strict=True))
    document = {"benchmark": SLUG, "config": config.as_dict()}
    (out_dir / TASK_FILE).write_text(yaml.safe_dump(document, sort_keys=False, width=120), encoding="utf-8")


# --- The demo protocol of `evaluators.demo` -----------------------------------------------------------------

DEMO_TASKS = [
    DemoTask(
        slug="embeddings-test-set",
        title="Find the items the models get wrong",
        ml_task="image-classification",
        config={"labels": list(DEMO_LABELS), "n_items": 50, "models": ["logreg", "svc", "mlp"]},
        description=(
            "Pick exactly **50** items of the supplemental pool (`pool.parquet`, 32-dimensional embeddings of "
            "six classes) and claim a label for each. An item earns credit when its hidden human label is the "
            "one you claim and the fixed model suite (a logistic regression, an RBF SVM and a small MLP, trained "
            "on the public `train.parquet`) gets it wrong: one point when every model is wrong, a third per "
            "wrong model otherwise. An item found by several teams with the same label is shared between them."
        ),
    )
]


def generate_task(out_dir: Path, *, config: Mapping[str, Any], seed: int = 0, small: bool = False) -> None:
    """A complete task directory for `config`; `small` shrinks the pool and the training set."""
    generate_test_set_task(out_dir, TestSetConfig.from_mapping(config), seed=seed, shape=SMALL_SHAPE if small else None)


def write_baselines(task_dir: Path, out_dir: Path, *, seed: int = 0) -> dict[str, Path]:
    """Baseline submissions (CSV files) named by method; see `baselines.py`."""
    config = TestSetConfig.from_mapping(load_task_dir(task_dir).config)
    return write_baseline_files(task_dir, config, out_dir, seed=seed)
