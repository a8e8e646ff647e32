"""Example algorithm for training-set-creation: drop suspected mislabels, then a class-balanced subset.

Reads the pool (`pool/items.csv`). In feature tasks, a pool item whose label differs from the majority label
of its 5 nearest other pool items (Euclidean distance on the features) is dropped as a suspected mislabel;
image tasks keep every item (decoding PNG files would need a library the sandbox lacks). Then `max_items`
items are dealt out over the labels in turn (config order), each label's items in an order drawn with
DATAPERF_SEED, skipping a label whose items run out. Pool items only, with their given labels. Writes the
directory DATAPERF_OUTPUT holding `labels.csv` (`item,label`).

Only public files are read (`pool/items.csv`, `task.yaml`). Offline, from this folder, with a directory
holding the task's public files and its task.yaml:

    DATAPERF_INPUT_DIR=path/to/task DATAPERF_OUTPUT_DIR=out DATAPERF_OUTPUT=out/training_set \\
        DATAPERF_SEED=0 python -m algorithm
"""

from __future__ import annotations

import csv
import os
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import yaml

NEIGHBOURS = 5
BLOCK_ROWS = 1000


def read_pool(path: Path) -> tuple[list[str], list[str], np.ndarray | None]:
    """The pool's ids, labels and (feature tasks) features, in file order."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = [[cell.strip() for cell in row] for row in csv.reader(handle) if row]
    body = rows[1:]
    features = None
    if len(rows[0]) > 2:
        features = np.asarray([[float(cell) for cell in row[2:]] for row in body], dtype=np.float64)
    return [row[0] for row in body], [row[1] for row in body], features


def neighbour_agrees(features: np.ndarray, labels: list[str]) -> list[bool]:
    """For every item: whether its label is a majority label (ties included) of its nearest other items."""
    k = min(NEIGHBOURS, len(labels) - 1)
    squared = (features**2).sum(axis=1)
    agrees: list[bool] = []
    for start in range(0, len(labels), BLOCK_ROWS):
        block = features[start : start + BLOCK_ROWS]
        distances = squared[start : start + BLOCK_ROWS, None] - 2 * block @ features.T + squared[None, :]
        distances[np.arange(len(block)), np.arange(start, start + len(block))] = np.inf  # not its own neighbour
        nearest = np.argsort(distances, axis=1, kind="stable")[:, :k]
        for offset, neighbours in enumerate(nearest.tolist()):
            votes = Counter(labels[row] for row in neighbours)
            agrees.append(k == 0 or votes[labels[start + offset]] == max(votes.values()))
    return agrees


def balanced(by_label: dict[str, list[int]], budget: int, rng: np.random.Generator) -> list[int]:
    """Up to `budget` items dealt out over the labels in turn, each label's items in a random order."""
    queues = {label: [rows[index] for index in rng.permutation(len(rows))] for label, rows in by_label.items()}
    chosen: list[int] = []
    while len(chosen) < budget and any(queues.values()):
        for queue in queues.values():
            if queue and len(chosen) < budget:
                chosen.append(queue.pop(0))
    return chosen


def main() -> None:
    """Read the inputs named by the DATAPERF_* variables and write the training set."""
    input_dir = Path(os.environ["DATAPERF_INPUT_DIR"])
    output = Path(os.environ["DATAPERF_OUTPUT"])
    rng = np.random.default_rng(int(os.environ.get("DATAPERF_SEED", "0")))
    config: dict[str, Any] = yaml.safe_load((input_dir / "task.yaml").read_text(encoding="utf-8"))["config"]
    ids, labels, features = read_pool(input_dir / "pool" / "items.csv")
    keep = neighbour_agrees(features, labels) if features is not None and len(ids) > 1 else [True] * len(ids)
    by_label: dict[str, list[int]] = {str(label): [] for label in config["labels"]}
    for row, label in enumerate(labels):
        if keep[row] and label in by_label:
            by_label[label].append(row)
    chosen = balanced(by_label, int(config["max_items"]), rng)
    output.mkdir(parents=True, exist_ok=True)
    with (output / "labels.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["item", "label"])
        writer.writerows([ids[row], labels[row]] for row in chosen)


if __name__ == "__main__":
    main()
