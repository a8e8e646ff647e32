"""Synthetic debugging-vision tasks and baseline rankings, for tests, demos and offline trials.

A generated task has the original layout and schemas (`embeddings/<id>_train_<noise>_<n>.parquet`,
`<id>_val_<n>.parquet`, `<id>_test_<n>.parquet` with `filename` (16-hex ImageID), `encoding` (list of 2048
float32) and `label` (int64); `data/dataset_<id>_train.csv` with `ImageID,hv_label`; `task.yaml`).
Encodings look like pooled CNN features (non-negative, mean about 0.2): two classes whose means differ along
one random direction, plus per-feature noise. `noise_level` of the training rows get a wrong label, positives
first (one-sided noise, as in the public reference case); validation and test sets are clean. Everything is
derived from `seed`: the same arguments write byte-identical files.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from evaluators.debugging_vision.data import (
    ENCODING_COLUMN,
    FEATURE_DIM,
    FILENAME_COLUMN,
    GT_ID_COLUMN,
    GT_LABEL_COLUMN,
    LABEL_COLUMN,
    FloatArray,
    ground_truth_file,
    read_embedding_table,
)
from evaluators.debugging_vision.task import DebuggingConfig
from evaluators.demo import DemoTask
from evaluators.taskdir import TASK_FILE, load_task_dir

DEMO_DATASETS = ("01g317", "09j2d")
SMALL_SIZES = {"train_size": 40, "test_size": 60, "val_size": 20}
SMALL_SHAPE_SEPARATION = 4.0
"""40 rows are too few to learn the default separation from: small tasks separate the classes more."""


@dataclass(frozen=True)
class SyntheticShape:
    """Class separation (distance between the class means) and per-feature noise, in embedding units; the
    defaults, like the public reference case, give test accuracies near 0.9 with clean labels and near 0.5
    with the noisy ones."""

    separation: float = 0.6
    feature_noise: float = 0.096
    offset: float = 0.2


@dataclass
class _Generator:
    """Draws ids, labels and vectors of one dataset in a fixed order, so that a seed fixes every byte."""

    rng: np.random.Generator
    shape: SyntheticShape
    direction: npt.NDArray[np.float64]

    @classmethod
    def new(cls, seed: int, index: int, shape: SyntheticShape) -> _Generator:
        rng = np.random.default_rng([seed, index])
        direction = rng.standard_normal(FEATURE_DIM)
        return cls(rng=rng, shape=shape, direction=direction / np.linalg.norm(direction))

    def image_ids(self, count: int) -> list[str]:
        return [self.rng.bytes(8).hex() for _ in range(count)]

    def labelled_vectors(self, count: int) -> tuple[FloatArray, npt.NDArray[np.int64]]:
        labels = self.rng.integers(0, 2, size=count)
        shift = np.where(labels == 1, 0.5, -0.5)[:, None] * self.shape.separation * self.direction
        noise = self.rng.standard_normal((count, FEATURE_DIM)) * self.shape.feature_noise
        # Pooled CNN features are non-negative.
        return np.abs(self.shape.offset + shift + noise).astype(np.float32), labels.astype(np.int64)

    def flipped_rows(self, truth: npt.NDArray[np.int64], count: int) -> npt.NDArray[np.int64]:
        """Rows whose label is flipped: positives first (one-sided noise, as in the original tasks, is what
        makes the noisy model poor), then negatives if there are too few positives."""
        positives, negatives = np.flatnonzero(truth == 1), np.flatnonzero(truth == 0)
        chosen = self.rng.choice(positives, size=min(count, len(positives)), replace=False)
        rest = self.rng.choice(negatives, size=count - len(chosen), replace=False)
        return np.sort(np.concatenate([chosen, rest]))


def _write_parquet(path: Path, ids: list[str], vectors: FloatArray, labels: npt.NDArray[np.int64]) -> None:
    """Write the original schema; no timestamps are stored, so equal inputs give equal bytes."""
    n_rows = len(ids)
    offsets = pa.array(np.arange(0, (n_rows + 1) * FEATURE_DIM, FEATURE_DIM, dtype=np.int32))
    encodings = pa.ListArray.from_arrays(offsets, pa.array(vectors.reshape(-1), type=pa.float32()))
    table = pa.table(
        {
            FILENAME_COLUMN: pa.array(ids, type=pa.string()),
            ENCODING_COLUMN: encodings,
            LABEL_COLUMN: pa.array(labels, type=pa.int64()),
        }
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path, compression="snappy")


def _write_dataset(out_dir: Path, config: DebuggingConfig, data_id: str, gen: _Generator, noise: float) -> None:
    n_train = config.train_size
    ids = gen.image_ids(n_train + config.val_size + config.test_size)
    vectors, truth = gen.labelled_vectors(len(ids))
    train, val = slice(0, n_train), slice(n_train, n_train + config.val_size)
    test = slice(n_train + config.val_size, len(ids))
    noisy = truth[train].copy()
    flipped = gen.flipped_rows(noisy, round(noise * n_train))
    noisy[flipped] = 1 - noisy[flipped]
    _write_parquet(out_dir / config.train_file(data_id), ids[train], vectors[train], noisy)
    _write_parquet(out_dir / config.val_file(data_id), ids[val], vectors[val], truth[val])
    _write_parquet(out_dir / config.test_file(data_id), ids[test], vectors[test], truth[test])
    # The ground truth is looked up by ImageID, so its rows need not follow the parquet's order.
    order = gen.rng.permutation(n_train)
    rows = [f"{ids[train][row]},{int(truth[train][row])}" for row in order]
    gt_path = out_dir / ground_truth_file(data_id)
    gt_path.parent.mkdir(parents=True, exist_ok=True)
    gt_path.write_text("\n".join([f"{GT_ID_COLUMN},{GT_LABEL_COLUMN}", *rows]) + "\n", encoding="utf-8")


def generate_debugging_task(
    out_dir: Path, *, config: Mapping[str, Any], seed: int = 0, shape: SyntheticShape | None = None
) -> None:
    """Write a complete debugging-vision task directory for `config` into `out_dir` (created if needed).

    Deterministic: the same arguments write byte-identical files. A numeric `noise_level` is the fraction of
    flipped training labels (0.3 for text values). Raises `TaskConfigError` on an invalid config.
    """
    parsed = DebuggingConfig.from_mapping(config)
    noise = float(parsed.noise_level) if isinstance(parsed.noise_level, int | float) else 0.3
    out_dir.mkdir(parents=True, exist_ok=True)
    for index, data_id in enumerate(parsed.datasets):
        _write_dataset(out_dir, parsed, data_id, _Generator.new(seed, index, shape or SyntheticShape()), noise)
    task = {"benchmark": "debugging-vision", "config": parsed.as_dict()}
    (out_dir / TASK_FILE).write_text(yaml.safe_dump(task, sort_keys=False), encoding="utf-8")


def _centroid_disagreement(task_dir: Path, config: DebuggingConfig, data_id: str) -> list[int]:
    """Rows ranked by how strongly a nearest-centroid classifier fitted on the clean validation set
    disagrees with their given label (public data only): likely label errors first."""
    train = read_embedding_table(task_dir / config.train_file(data_id))
    val = read_embedding_table(task_dir / config.val_file(data_id))
    centroids = np.stack([val.features[val.labels == label].mean(axis=0) for label in (0, 1)])
    distances = np.linalg.norm(train.features[:, None, :] - centroids[None, :, :], axis=2)
    own = distances[np.arange(len(train)), train.labels]
    other = distances[np.arange(len(train)), 1 - train.labels]
    # Stable sort: equal margins keep row order, so the ranking is deterministic.
    return [int(row) for row in np.argsort(other - own, kind="stable")]


def baseline_rankings(task_dir: Path, *, seed: int = 0) -> dict[str, dict[str, list[int]]]:
    """Named baseline rankings (method -> data id -> row order), deterministic for a seed.

    `identity`: rows in file order; `random`: a random permutation; `centroid`: likely label errors first,
    from a nearest-centroid classifier on the clean validation set (needs both classes in it).
    """
    config = DebuggingConfig.from_mapping(load_task_dir(task_dir).config)
    rng = np.random.default_rng(seed)
    rankings: dict[str, dict[str, list[int]]] = {"identity": {}, "random": {}, "centroid": {}}
    for data_id in config.datasets:
        rankings["identity"][data_id] = list(range(config.train_size))
        rankings["random"][data_id] = [int(row) for row in rng.permutation(config.train_size)]
        rankings["centroid"][data_id] = _centroid_disagreement(task_dir, config, data_id)
    return rankings


# --- The demo protocol of `evaluators.demo` -----------------------------------------------------------------

DEMO_TASKS = [
    DemoTask(
        slug="vision-debugging-2-datasets",
        title="Vision debugging, 2 datasets, 30% label noise",
        ml_task="image-classification",
        config={
            "datasets": list(DEMO_DATASETS),
            "noise_level": 0.3,
            "train_size": 300,
            "test_size": 500,
            "val_size": 100,
        },
        description=(
            "Each dataset is a binary image-classification task given as 2048-dimensional image embeddings: "
            "`embeddings/<id>_train_0.3_300.parquet` has 300 training images whose `label` is wrong for 30% "
            "of them, `embeddings/<id>_val_100.parquet` is a clean validation set. Submit one file "
            "`<id>_<method>.txt` per dataset listing the training rows (0-based indexes, one per line) in "
            "the order you would inspect and relabel them. The fixed model (a two-layer linear network) is "
            "retrained after each fix; the score is the **fraction of the rows you must fix before the test "
            "accuracy reaches 95% of its accuracy with all your fixes**, averaged over the datasets: "
            "**lower is better**."
        ),
        slow_to_score=True,
    )
]


def generate_task(out_dir: Path, *, config: Mapping[str, Any], seed: int = 0, small: bool = False) -> None:
    """A complete task directory for `config`; `small` shrinks the sets (40 training rows) for unit tests."""
    if small:
        shape = SyntheticShape(separation=SMALL_SHAPE_SEPARATION)
        generate_debugging_task(out_dir, config={**config, **SMALL_SIZES}, seed=seed, shape=shape)
    else:
        generate_debugging_task(out_dir, config=config, seed=seed)


def write_baselines(task_dir: Path, out_dir: Path, *, seed: int = 0) -> dict[str, Path]:
    """The baseline rankings of `baseline_rankings`, one submission directory per method in `out_dir`."""
    written = {}
    for method, per_dataset in baseline_rankings(task_dir, seed=seed).items():
        directory = out_dir / method
        directory.mkdir(parents=True, exist_ok=True)
        for data_id, ranking in per_dataset.items():
            text = "".join(f"{row}\n" for row in ranking)
            (directory / f"{data_id}_{method}.txt").write_text(text, encoding="utf-8")
        written[method] = directory
    return written
