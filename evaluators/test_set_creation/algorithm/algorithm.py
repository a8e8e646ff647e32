"""Example algorithm for test-set-creation: the pool items whose neighbourhood is most divided.

Every pool item (`pool.parquet`) gets the labels of its 5 nearest training items (`train.parquet`,
Euclidean distance on the embeddings). The `n_items` items whose majority label has the smallest share of
those votes (ties in an order drawn with DATAPERF_SEED) are the likeliest places for the fixed models to
err; each is claimed with its majority label (ties: the label first in the config). Writes the CSV
`item,label` to DATAPERF_OUTPUT.

Only public files are read (`pool.parquet`, `train.parquet`, `task.yaml`). Offline, from this folder, with
a directory holding the task's public files and its task.yaml:

    DATAPERF_INPUT_DIR=path/to/task DATAPERF_OUTPUT_DIR=out DATAPERF_OUTPUT=out/items.csv \\
        DATAPERF_SEED=0 python -m algorithm
"""

from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq
import yaml

NEIGHBOURS = 5
BLOCK_ROWS = 1000


def read_items(path: Path, columns: list[str]) -> tuple[dict[str, list[Any]], np.ndarray]:
    """The named columns (as lists) and the embeddings (float64 rows) of a parquet file."""
    table = pq.read_table(path, columns=[*columns, "embedding"])
    embedding = table.column("embedding").combine_chunks()
    vectors = embedding.flatten().to_numpy(zero_copy_only=False).astype(np.float64).reshape(table.num_rows, -1)
    return {name: table.column(name).to_pylist() for name in columns}, vectors


def neighbour_votes(pool: np.ndarray, train: np.ndarray, train_labels: np.ndarray, n_labels: int) -> np.ndarray:
    """(pool items x labels) counts of each label among every pool item's nearest training items."""
    k = min(NEIGHBOURS, len(train))
    squared = (train**2).sum(axis=1)
    votes = np.zeros((len(pool), n_labels), dtype=np.int64)
    for start in range(0, len(pool), BLOCK_ROWS):
        block = pool[start : start + BLOCK_ROWS]
        distances = (block**2).sum(axis=1)[:, None] - 2 * block @ train.T + squared[None, :]
        nearest = np.argsort(distances, axis=1, kind="stable")[:, :k]
        for offset, neighbours in enumerate(train_labels[nearest]):
            votes[start + offset] = np.bincount(neighbours, minlength=n_labels)
    return votes


def choose(votes: np.ndarray, n_items: int, rng: np.random.Generator) -> tuple[list[int], list[int]]:
    """The `n_items` pool rows whose majority label has the smallest vote share, and that label for each."""
    share = votes.max(axis=1) / np.maximum(votes.sum(axis=1), 1)
    order = np.lexsort((rng.permutation(len(votes)), share))[:n_items].tolist()
    return order, votes[order].argmax(axis=1).tolist()


def main() -> None:
    """Read the inputs named by the DATAPERF_* variables and write the claimed items."""
    input_dir = Path(os.environ["DATAPERF_INPUT_DIR"])
    output = Path(os.environ["DATAPERF_OUTPUT"])
    rng = np.random.default_rng(int(os.environ.get("DATAPERF_SEED", "0")))
    config: dict[str, Any] = yaml.safe_load((input_dir / "task.yaml").read_text(encoding="utf-8"))["config"]
    labels = [str(label) for label in config["labels"]]
    pool_columns, pool = read_items(input_dir / "pool.parquet", ["id"])
    train_columns, train = read_items(input_dir / "train.parquet", ["label"])
    train_labels = np.asarray([labels.index(str(label)) for label in train_columns["label"]], dtype=np.int64)
    rows, claimed = choose(neighbour_votes(pool, train, train_labels, len(labels)), int(config["n_items"]), rng)
    output.parent.mkdir(parents=True, exist_ok=True)
    with output.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["item", "label"])
        writer.writerows([pool_columns["id"][row], labels[label]] for row, label in zip(rows, claimed, strict=True))


if __name__ == "__main__":
    main()
