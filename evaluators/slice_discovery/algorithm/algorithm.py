"""Example algorithm for slice-discovery: soft k-means of the embeddings and the model's errors.

Every example is described by its unit-normalised embedding (`test_embeddings.parquet`; the model's
probability alone when the task has none) joined with the model's error |target - probs| (from
`test_predictions.csv`) times 2, the largest distance between unit vectors. k-means (k =
n_pred_slices, k-means++ starts and Lloyd steps, numpy, seeded by DATAPERF_SEED) clusters them; clusters are
ordered by their mean error, highest first, and the score of an example for a predicted slice is its soft
membership of that cluster (a softmax of minus its squared distances, scaled by their mean). Writes the CSV
`id,slice_1,...` (one row per example) to DATAPERF_OUTPUT.

Only public files are read (`test_predictions.csv`, `test_embeddings.parquet`, `task.yaml`). Offline, from
this folder, with a directory holding the task's public files and its task.yaml:

    DATAPERF_INPUT_DIR=path/to/task DATAPERF_OUTPUT_DIR=out DATAPERF_OUTPUT=out/scores.csv \\
        DATAPERF_SEED=0 python -m algorithm
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import yaml

STEPS = 50
ERROR_WEIGHT = 2.0


def read_predictions(path: Path) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Example ids, the model's probabilities and its errors |target - probs|, in file order."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    probs = np.asarray([float(row["probs"]) for row in rows], dtype=np.float64)
    targets = np.asarray([float(row["target"]) for row in rows], dtype=np.float64)
    return [row["id"] for row in rows], probs, np.abs(targets - probs)


def read_embeddings(path: Path, ids: list[str]) -> np.ndarray | None:
    """Unit-normalised embeddings in the order of `ids`, or None when the task has no usable embeddings file."""
    if not path.is_file():
        return None
    table = pq.read_table(path, columns=["id", "embedding"])
    row_of = {str(example_id): row for row, example_id in enumerate(table.column("id").to_pylist())}
    if any(example_id not in row_of for example_id in ids):
        return None
    column = table.column("embedding").combine_chunks()
    values: np.ndarray = column.flatten().to_numpy(zero_copy_only=False)
    vectors = values.astype(np.float64).reshape(len(row_of), -1)[[row_of[example_id] for example_id in ids]]
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.where(norms > 0, norms, 1.0)


def squared_distances(points: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """(points x centres) squared Euclidean distances."""
    distances: np.ndarray = ((points[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2)
    return distances


def kmeans(points: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """k cluster centres: k-means++ starts, then Lloyd steps."""
    centres = points[[int(rng.integers(len(points)))]]
    while len(centres) < k:
        nearest = squared_distances(points, centres).min(axis=1)
        weights = nearest / nearest.sum() if nearest.sum() > 0 else None
        centres = np.vstack([centres, points[rng.choice(len(points), p=weights)]])
    for _ in range(STEPS):
        assigned = squared_distances(points, centres).argmin(axis=1)
        for cluster in range(k):
            if (assigned == cluster).any():
                centres[cluster] = points[assigned == cluster].mean(axis=0)
    return centres


def slice_scores(points: np.ndarray, errors: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """(examples x k) soft memberships of the k clusters, clusters in decreasing order of mean error."""
    clusters = min(k, len(points))
    distances = squared_distances(points, kmeans(points, clusters, rng))
    logits = -distances / max(float(distances.mean()), 1e-12)
    memberships = np.exp(logits - logits.max(axis=1, keepdims=True))
    memberships /= memberships.sum(axis=1, keepdims=True)
    mean_error = (memberships * errors[:, None]).sum(axis=0) / memberships.sum(axis=0)
    ordered = memberships[:, np.argsort(-mean_error, kind="stable")]
    # More predicted slices than examples: the remaining columns score the error itself.
    extra = np.repeat(errors[:, None], k - clusters, axis=1)
    return np.hstack([ordered, extra])


def main() -> None:
    """Read the inputs named by the DATAPERF_* variables and write the scores."""
    input_dir = Path(os.environ["DATAPERF_INPUT_DIR"])
    output = Path(os.environ["DATAPERF_OUTPUT"])
    rng = np.random.default_rng(int(os.environ.get("DATAPERF_SEED", "0")))
    config = yaml.safe_load((input_dir / "task.yaml").read_text(encoding="utf-8"))["config"]
    k = int(config["n_pred_slices"])
    ids, probs, errors = read_predictions(input_dir / "test_predictions.csv")
    embeddings = read_embeddings(input_dir / "test_embeddings.parquet", ids)
    described = probs[:, None] if embeddings is None else embeddings
    points = np.hstack([described, ERROR_WEIGHT * errors[:, None]])
    scores = slice_scores(points, errors, k, rng)
    output.parent.mkdir(parents=True, exist_ok=True)
    with output.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["id", *(f"slice_{column + 1}" for column in range(k))])
        writer.writerows(
            [example_id, *(f"{value:.8f}" for value in row)] for example_id, row in zip(ids, scores, strict=True)
        )


if __name__ == "__main__":
    main()
