"""Synthetic slice-discovery tasks and baseline submissions, for tests, demos and offline trials.

A generated task imitates an image-classification audit: every example has a latent description (object,
light, background, size, ...), a CLIP-like unit-norm embedding that encodes it linearly plus noise, a binary
label, and the probability of a fixed classifier. The classifier is good overall but fails on a few hidden
slices (dark images, a spurious water background, small objects), each defined by a latent direction, so
the slices are findable from the embeddings and the errors but not trivially. Files: `task.yaml`,
`test_predictions.csv`, `test_embeddings.parquet` (public) and `test_slices.csv` (hidden, in another row
order than the predictions, as DCBench merges by id). Everything is derived from `seed`: the same arguments
write byte-identical files.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from evaluators.demo import DemoTask
from evaluators.slice_discovery.data import (
    EMBEDDING_COLUMN,
    EMBEDDINGS_FILE,
    ID_COLUMN,
    PREDICTIONS_FILE,
    SLICES_FILE,
    load_predictions,
)
from evaluators.taskdir import TASK_FILE, load_task_dir

DEFAULT_SLICES = ("low_light", "water_background", "small_object")
_LATENT_DIM = 8
# Latent coordinate and threshold of each slice (about 6-8 % of the examples each).
_SLICE_LATENTS = ((2, 1.45), (3, 1.4), (4, 1.5))

FloatMatrix = npt.NDArray[np.float64]


@dataclass(frozen=True)
class SliceShape:
    """Sizes of a synthetic task (the defaults, the demo's: 2800 examples, 128-d embeddings)."""

    # Not 2000: seed 0 then has a single example in all three slices, and the demo's private split, stratified
    # by combination of slices (`membership_strata`), needs two of each combination.
    n_examples: int = 2800
    dim: int = 128
    embedding_noise: float = 0.6


def _sigmoid(x: FloatMatrix) -> FloatMatrix:
    result: FloatMatrix = 1.0 / (1.0 + np.exp(-x))
    return result


def _draw(rng: np.random.Generator, shape: SliceShape, n_slices: int) -> dict[str, Any]:
    """Latents, labels, slice membership, model probabilities and embeddings, in one fixed draw order."""
    n = shape.n_examples
    latent = rng.standard_normal((n, _LATENT_DIM))
    signal = latent[:, 0] + 0.5 * latent[:, 1]
    target = (signal + 0.3 * rng.standard_normal(n) > 0).astype(np.int64)
    members = np.stack([latent[:, axis] > cut for axis, cut in _SLICE_LATENTS[:n_slices]], axis=1)
    logit = 2.5 * signal + 0.8 * rng.standard_normal(n)
    failure = members.any(axis=1)
    # In a slice the classifier loses the signal and leans on a spurious cue: mostly wrong, noisy.
    logit[failure] = -1.2 * (2 * target[failure] - 1) + 1.5 * rng.standard_normal(int(failure.sum()))
    probs = _sigmoid(logit)
    basis = rng.standard_normal((_LATENT_DIM, shape.dim)) / np.sqrt(_LATENT_DIM)
    raw = latent @ basis + shape.embedding_noise * rng.standard_normal((n, shape.dim)) / np.sqrt(shape.dim / 8)
    embeddings = raw / np.linalg.norm(raw, axis=1, keepdims=True)
    return {"target": target, "members": members, "probs": probs, "embeddings": embeddings.astype(np.float32)}


def _write_csv(path: Path, header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    path.write_text(out.getvalue(), encoding="utf-8")


def _write_embeddings(path: Path, ids: list[str], embeddings: npt.NDArray[np.float32]) -> None:
    n_rows, dim = embeddings.shape
    offsets = pa.array(np.arange(0, (n_rows + 1) * dim, dim, dtype=np.int32))
    column = pa.ListArray.from_arrays(offsets, pa.array(embeddings.reshape(-1), type=pa.float32()))
    pq.write_table(pa.table({ID_COLUMN: pa.array(ids, type=pa.string()), EMBEDDING_COLUMN: column}), path)


def generate_slice_task(
    out_dir: Path,
    *,
    n_pred_slices: int = 5,
    slices: Sequence[str] = DEFAULT_SLICES,
    seed: int = 0,
    shape: SliceShape | None = None,
) -> None:
    """Write a complete slice-discovery task directory into `out_dir` (created if needed).

    `slices` names the hidden slices (1 to 3 of them). Deterministic: the same arguments write
    byte-identical files. Raises `ValueError` on impossible sizes.
    """
    shape = shape or SliceShape()
    if not 0 < len(slices) <= len(_SLICE_LATENTS):
        raise ValueError(f"between 1 and {len(_SLICE_LATENTS)} slices can be generated, got {len(slices)}")
    rng = np.random.default_rng(seed)
    drawn = _draw(rng, shape, len(slices))
    ids = [f"img_{index:06d}" for index in range(shape.n_examples)]
    out_dir.mkdir(parents=True, exist_ok=True)
    _write_csv(
        out_dir / PREDICTIONS_FILE,
        ("id", "target", "probs"),
        [
            (example_id, str(t), f"{p:.6f}")
            for example_id, t, p in zip(ids, drawn["target"], drawn["probs"], strict=True)
        ],
    )
    order = rng.permutation(shape.n_examples)
    members = drawn["members"]
    _write_csv(
        out_dir / SLICES_FILE,
        (ID_COLUMN, *slices),
        [(ids[row], *(str(int(v)) for v in members[row])) for row in order],
    )
    _write_embeddings(out_dir / EMBEDDINGS_FILE, ids, drawn["embeddings"])
    config = {"n_pred_slices": n_pred_slices, "slices": list(slices)}
    text = yaml.safe_dump({"benchmark": "slice-discovery", "config": config}, sort_keys=False)
    (out_dir / TASK_FILE).write_text(text, encoding="utf-8")


# --- baselines ---------------------------------------------------------------------------------------------


def _squared_distances(features: FloatMatrix, centres: FloatMatrix) -> FloatMatrix:
    distances: FloatMatrix = ((features[:, None, :] - centres[None]) ** 2).sum(axis=2)
    return distances


def _kmeans_run(
    features: FloatMatrix, n_clusters: int, rng: np.random.Generator, steps: int
) -> tuple[float, FloatMatrix]:
    """One k-means++ start and Lloyd steps until the centres stop moving; (inertia, centres)."""
    centres = features[[int(rng.integers(len(features)))]]
    while len(centres) < n_clusters:
        nearest = _squared_distances(features, centres).min(axis=1)
        weights = nearest / nearest.sum() if nearest.sum() > 0 else None
        centres = np.vstack([centres, features[rng.choice(len(features), p=weights)]])
    for _ in range(steps):
        labels = _squared_distances(features, centres).argmin(axis=1)
        moved = np.array(
            [features[labels == k].mean(axis=0) if (labels == k).any() else centres[k] for k in range(n_clusters)]
        )
        if np.allclose(moved, centres):
            break
        centres = moved
    return float(_squared_distances(features, centres).min(axis=1).sum()), centres


def kmeans(features: FloatMatrix, n_clusters: int, seed: int, *, n_init: int = 5, steps: int = 100) -> FloatMatrix:
    """The centres found by Lloyd's k-means (k-means++ starts, the best of `n_init` by inertia).

    Plain numpy rather than scikit-learn's KMeans: its OpenMP threads crawl on a busy two-core machine, and
    a baseline needs no more than this.
    """
    rng = np.random.default_rng(seed)
    runs = [_kmeans_run(features, n_clusters, rng, steps) for _ in range(n_init)]
    return min(runs, key=lambda run: run[0])[1]


def _soft_membership(features: FloatMatrix, n_clusters: int, seed: int) -> tuple[FloatMatrix, npt.NDArray[Any]]:
    """k-means on `features`; score of cluster j = softmax over clusters of the negative squared distance,
    with the mean squared distance to the own centre as temperature. Also returns the hard labels."""
    centres = kmeans(features, n_clusters, seed)
    distances = _squared_distances(features, centres)
    temperature = max(float(distances.min(axis=1).mean()), 1e-12)
    logits = -(distances - distances.min(axis=1, keepdims=True)) / temperature
    weights = np.exp(logits)
    return weights / weights.sum(axis=1, keepdims=True), distances.argmin(axis=1)


def baseline_scores(task_dir: Path, *, seed: int = 0) -> dict[str, tuple[list[str], FloatMatrix]]:
    """Named baseline submissions: (ids, scores with n_pred_slices columns), deterministic for a seed.

    `kmeans-embeddings`: soft k-means clusters of the embeddings; `kmeans-errors`: k-means on the embeddings
    joined with the model's error |target - probs| (weighted as much as the whole embedding), clusters
    ordered by mean error; `random`: uniform scores (the floor).
    """
    m = int(load_task_dir(task_dir).config["n_pred_slices"])
    predictions = load_predictions(task_dir / PREDICTIONS_FILE)
    table = pq.read_table(task_dir / EMBEDDINGS_FILE)
    row_of = {str(example_id): row for row, example_id in enumerate(table.column(ID_COLUMN).to_pylist())}
    vectors = np.stack(table.column(EMBEDDING_COLUMN).to_numpy(zero_copy_only=False)).astype(np.float64)
    embeddings = vectors[[row_of[example_id] for example_id in predictions.ids]]
    error = np.abs(predictions.targets - predictions.probs)
    by_embedding, _ = _soft_membership(embeddings, m, seed)
    joined = np.hstack([embeddings, 2.0 * error[:, None]])
    by_error, labels = _soft_membership(joined, m, seed)
    mean_error = [float(error[labels == cluster].mean()) if (labels == cluster).any() else 0.0 for cluster in range(m)]
    by_error = by_error[:, np.argsort(mean_error)[::-1]]
    uniform = np.random.default_rng(seed).random((len(predictions.ids), m))
    ids = list(predictions.ids)
    return {"kmeans-embeddings": (ids, by_embedding), "kmeans-errors": (ids, by_error), "random": (ids, uniform)}


# --- The demo protocol of `evaluators.demo` -----------------------------------------------------------------

DEMO_TASKS = [
    DemoTask(
        slug="slice-discovery-images",
        title="Slice discovery: where does the image classifier fail?",
        ml_task="image-classification",
        config={"n_pred_slices": 5, "slices": list(DEFAULT_SLICES)},
        description=(
            "A fixed image classifier is right on most of 2,800 test images, but fails on a few hidden "
            "**slices** (coherent groups of images: a lighting condition, a background, an object size). "
            "`test_predictions.csv` has each image's label and the model's probability; "
            "`test_embeddings.parquet` has a 128-dimensional image embedding per image.\n\n"
            "Submit a CSV (or parquet) table with the column `id` and exactly **5** score columns, one row per "
            "image: column j scores how likely the image belongs to your predicted slice j. Each hidden slice "
            "is matched to the predicted slice, or its complement `1 - score`, with the highest average "
            "precision; the score is the mean of those average precisions."
        ),
    )
]


def generate_task(out_dir: Path, *, config: Mapping[str, Any], seed: int = 0, small: bool = False) -> None:
    """A complete task directory for `config` (`n_pred_slices`, optional `slices`); `small` = 300 examples."""
    shape = SliceShape(n_examples=300, dim=16) if small else None
    generate_slice_task(
        out_dir,
        n_pred_slices=int(config.get("n_pred_slices", 5)),
        slices=tuple(config.get("slices") or DEFAULT_SLICES),
        seed=seed,
        shape=shape,
    )


def write_baselines(task_dir: Path, out_dir: Path, *, seed: int = 0) -> dict[str, Path]:
    """The baseline submissions of `baseline_scores`, written as CSV files into `out_dir`."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = {}
    for name, (ids, scores) in baseline_scores(task_dir, seed=seed).items():
        path = out_dir / f"{name}.csv"
        header = [ID_COLUMN, *(f"slice_{index}" for index in range(scores.shape[1]))]
        _write_csv(
            path,
            header,
            [(example_id, *(f"{v:.6f}" for v in row)) for example_id, row in zip(ids, scores, strict=True)],
        )
        written[name] = path
    return written
