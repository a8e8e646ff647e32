"""Example algorithm for debugging-vision: inspect first the rows that sit nearer another class's centre.

For every dataset of the task's config: the centre of each class in the clean validation set
(`embeddings/<id>_val_<val_size>.parquet`; the noisy training set's own centres for a class the validation
set lacks); every training row scored by how much nearer it lies to the nearest other class's centre than to
the centre of its given label; the rows ranked by that score, most suspicious first (ties in an order drawn
with DATAPERF_SEED). Writes the directory DATAPERF_OUTPUT with one `<id>_centroid.txt` per dataset: every
training row's 0-based index, one per line.

Only public files are read (the training and validation parquets, `task.yaml`). Offline, from this folder,
with a directory holding the task's public files and its task.yaml:

    DATAPERF_INPUT_DIR=path/to/task DATAPERF_OUTPUT_DIR=out DATAPERF_OUTPUT=out/rankings \\
        DATAPERF_SEED=0 python -m algorithm
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq
import yaml

DEFAULTS: dict[str, Any] = {"noise_level": 0.3, "train_size": 300, "val_size": 100}


def read_set(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """(encodings, labels) of an embeddings parquet, one row per image in file order."""
    table = pq.read_table(path, columns=["encoding", "label"])
    labels = np.asarray(table.column("label").to_pylist(), dtype=np.int64)
    encodings = table.column("encoding").combine_chunks()
    values = encodings.flatten().to_numpy(zero_copy_only=False).astype(np.float64)
    return values.reshape(len(labels), -1), labels


def centres(features: np.ndarray, labels: np.ndarray, fallback: dict[int, np.ndarray]) -> dict[int, np.ndarray]:
    """The mean row of every label present, and the fallback's centre for the labels that are not."""
    found = {int(label): features[labels == label].mean(axis=0) for label in np.unique(labels)}
    return {**fallback, **found}


def rank_rows(train: np.ndarray, labels: np.ndarray, centre_of: dict[int, np.ndarray], seed: int) -> list[int]:
    """Training rows, most suspicious first: distance to the own label's centre minus the nearest other's."""
    names = sorted(centre_of)
    distances = np.stack([np.linalg.norm(train - centre_of[name], axis=1) for name in names], axis=1)
    own_cell = (np.arange(len(labels)), np.asarray([names.index(int(label)) for label in labels]))
    own = distances[own_cell]
    masked = distances.copy()
    masked[own_cell] = np.inf
    nearest_other = masked.min(axis=1) if len(names) > 1 else own
    tie_break = np.random.default_rng(seed).permutation(len(labels))
    ranking: list[int] = np.lexsort((tie_break, nearest_other - own)).tolist()
    return ranking


def rank_dataset(embeddings: Path, data_id: str, config: dict[str, Any], seed: int) -> list[int]:
    """The ranking of one dataset's training rows."""
    noise, train_size, val_size = (config.get(key, default) for key, default in DEFAULTS.items())
    train, noisy = read_set(embeddings / f"{data_id}_train_{noise}_{train_size}.parquet")
    fallback = centres(train, noisy, {})
    val_path = embeddings / f"{data_id}_val_{val_size}.parquet"
    centre_of = centres(*read_set(val_path), fallback) if val_path.is_file() else fallback
    return rank_rows(train, noisy, centre_of, seed)


def main() -> None:
    """Read the inputs named by the DATAPERF_* variables and write one ranking file per dataset."""
    input_dir = Path(os.environ["DATAPERF_INPUT_DIR"])
    output = Path(os.environ["DATAPERF_OUTPUT"])
    seed = int(os.environ.get("DATAPERF_SEED", "0"))
    config: dict[str, Any] = yaml.safe_load((input_dir / "task.yaml").read_text(encoding="utf-8"))["config"]
    output.mkdir(parents=True, exist_ok=True)
    for data_id in config["datasets"]:
        ranking = rank_dataset(input_dir / "embeddings", str(data_id), config, seed)
        (output / f"{data_id}_centroid.txt").write_text("".join(f"{row}\n" for row in ranking), encoding="utf-8")


if __name__ == "__main__":
    main()
