"""Synthetic selection-vision tasks and baseline selections, for tests, demos and offline trials.

A generated task has the original layout and schemas: `embeddings/train_emb_256_dataperf.parquet`
(`ImageID` 16-hex, `embedding` list<double>), `test_sets/alpha_test_set_<Concept>_256.parquet` (plus
`Confidence` as the strings "0"/"1") and `examples/alpha_example_set_<Concept>.csv` (20 positives of the
pool). Embeddings imitate unit-norm image embeddings: every image belongs to a background topic (scenes,
objects), a concept adds its own direction, and each concept is most frequent in one "home" topic, so the
hard negatives are the other images of that topic (food that is not sushi). Concepts are rare in the pool
(a few per cent), so finding positives is the participant's problem, as in the original. Everything is
derived from `seed`: the same arguments write byte-identical files.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from evaluators.demo import DemoTask
from evaluators.selection_vision.data import (
    EMBEDDING_COLUMN,
    ID_COLUMN,
    LABEL_COLUMN,
    POOL_FILE,
    example_set_path,
    held_out_path,
    read_embeddings,
    read_example_ids,
    read_pool_ids,
)
from evaluators.taskdir import TASK_FILE, load_task_dir

DEFAULT_CONCEPTS = ("Cupcake", "Hawk", "Sushi")
N_EXAMPLES = 20
_LATENT_DIM = 48


@dataclass(frozen=True)
class VisionShape:
    """Sizes and difficulty of a synthetic task."""

    pool_size: int = 10_000
    test_size: int = 400
    dim: int = 256
    topics: int = 24
    prevalence_home: float = 0.35
    prevalence_elsewhere: float = 0.015
    concept_strength: float = 0.6
    pixel_noise: float = 0.45


SMALL_SHAPE = VisionShape(pool_size=1500, test_size=120)


@dataclass
class _World:
    rng: np.random.Generator
    shape: VisionShape
    basis: np.ndarray
    topic_centres: np.ndarray
    concept_dirs: np.ndarray
    home_topic: np.ndarray

    def membership(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        """(topic per image, 0/1 membership per image and concept) for `n` pool-like images."""
        topics = self.rng.integers(self.shape.topics, size=n)
        at_home = topics[:, None] == self.home_topic[None, :]
        chance = np.where(at_home, self.shape.prevalence_home, self.shape.prevalence_elsewhere)
        return topics, (self.rng.random(chance.shape) < chance).astype(np.int64)

    def embed(self, topics: np.ndarray, members: np.ndarray) -> np.ndarray:
        latent = self.topic_centres[topics] + self.rng.standard_normal((len(topics), _LATENT_DIM)) * 0.8
        latent += members @ self.concept_dirs
        vectors = latent @ self.basis + self.rng.standard_normal((len(topics), self.shape.dim)) * self.shape.pixel_noise
        normed: np.ndarray = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
        return normed


def _world(n_concepts: int, seed: int, shape: VisionShape) -> _World:
    rng = np.random.default_rng(seed)
    return _World(
        rng=rng,
        shape=shape,
        basis=rng.standard_normal((_LATENT_DIM, shape.dim)) / np.sqrt(_LATENT_DIM),
        topic_centres=rng.standard_normal((shape.topics, _LATENT_DIM)),
        concept_dirs=rng.standard_normal((n_concepts, _LATENT_DIM)) * shape.concept_strength,
        home_topic=rng.choice(shape.topics, size=n_concepts, replace=False),
    )


def _image_ids(rng: np.random.Generator, count: int, taken: set[str]) -> list[str]:
    ids: list[str] = []
    while len(ids) < count:
        candidate = rng.bytes(8).hex()
        if candidate not in taken:
            taken.add(candidate)
            ids.append(candidate)
    return ids


def _embedding_column(vectors: np.ndarray) -> pa.ListArray:
    n_rows, dim = vectors.shape
    offsets = pa.array(np.arange(0, (n_rows + 1) * dim, dim, dtype=np.int32))
    return pa.ListArray.from_arrays(offsets, pa.array(vectors.reshape(-1), type=pa.float64()))


def _write_parquet(path: Path, columns: dict[str, pa.Array]) -> None:
    """Write without timestamps or pandas metadata, so equal inputs give equal bytes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table(columns), path, compression="snappy")


def _test_members(world: _World, concept: int, size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A balanced test set of one concept: half positives (mostly from its home topic), half negatives."""
    topics, members = world.membership(size)
    labels = np.zeros(size, dtype=np.int64)
    labels[: size // 2] = 1
    world.rng.shuffle(labels)
    # Most positives and many negatives come from the concept's home topic: the negatives are the hard ones.
    home = world.rng.random(size) < np.where(labels == 1, 0.7, 0.4)
    topics = np.where(home, world.home_topic[concept], topics)
    members[:, concept] = labels
    return topics, members, labels


def _write_examples(path: Path, concept: str, ids: Sequence[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["LabelName", ID_COLUMN, LABEL_COLUMN, "OriginalURL", "DisplayName"])
        for image_id in ids:
            writer.writerow(["/m/synthetic", image_id, 1, f"https://images.example.org/{image_id}.jpg", concept])


def generate_vision_task(
    out_dir: Path,
    *,
    concepts: Sequence[str] = DEFAULT_CONCEPTS,
    max_per_concept: int = 1000,
    seed: int = 0,
    shape: VisionShape | None = None,
) -> None:
    """Write a complete selection-vision task directory into `out_dir` (created if needed).

    Deterministic: the same arguments write byte-identical files. Raises `ValueError` on impossible sizes.
    """
    shape = shape or VisionShape()
    if not concepts or shape.pool_size < 100 or shape.test_size < 4 or shape.topics < len(concepts):
        raise ValueError("need at least one concept, 100 pool images, 4 test images and a topic per concept")
    world = _world(len(concepts), seed, shape)
    taken: set[str] = set()
    topics, members = world.membership(shape.pool_size)
    pool_ids = _image_ids(world.rng, shape.pool_size, taken)
    pool_vectors = world.embed(topics, members)
    _write_parquet(
        out_dir / POOL_FILE,
        {ID_COLUMN: pa.array(pool_ids, pa.string()), EMBEDDING_COLUMN: _embedding_column(pool_vectors)},
    )
    for index, concept in enumerate(concepts):
        test_topics, test_members, labels = _test_members(world, index, shape.test_size)
        test_ids = _image_ids(world.rng, shape.test_size, taken)
        columns = {
            ID_COLUMN: pa.array(test_ids, pa.string()),
            EMBEDDING_COLUMN: _embedding_column(world.embed(test_topics, test_members)),
            LABEL_COLUMN: pa.array([str(label) for label in labels], pa.string()),
        }
        _write_parquet(held_out_path(out_dir, concept), columns)
        positives = np.flatnonzero(members[:, index])
        chosen = world.rng.choice(positives, size=min(N_EXAMPLES, len(positives)), replace=False)
        _write_examples(example_set_path(out_dir, concept), concept, [pool_ids[row] for row in sorted(chosen)])
    task = {"benchmark": "selection-vision", "config": {"concepts": list(concepts), "max_per_concept": max_per_concept}}
    (out_dir / TASK_FILE).write_text(yaml.safe_dump(task, sort_keys=False), encoding="utf-8")


# --- Baselines: only public files (the pool and the example positives) are used --------------------------------


def _similarity_ranking(vectors: np.ndarray, example_rows: list[int]) -> np.ndarray:
    """Pool rows by decreasing cosine similarity to the mean example embedding (ties: lower row first)."""
    centre = vectors[example_rows].mean(axis=0)
    scores = vectors @ (centre / np.linalg.norm(centre))
    ranking: np.ndarray = np.lexsort((np.arange(len(scores)), -scores))
    return ranking


def baseline_submissions(task_dir: Path, *, seed: int = 0) -> dict[str, dict[str, list[tuple[str, int]]]]:
    """Named valid selections: method -> concept -> [(ImageID, label), ...] in file order.

    `examples-random-negatives`: the 20 example positives and as many random pool images labelled 0.
    `nearest-to-examples`: the images most similar to the examples labelled 1, random images from the less
    similar half labelled 0, up to max_per_concept rows.
    """
    config = load_task_dir(task_dir).config
    pool_path = task_dir / POOL_FILE
    index = read_pool_ids(pool_path)
    vectors = read_embeddings(pool_path)
    ids_by_row = [""] * len(index)
    keys = [f"{int(key):016x}" for key in index.keys] if index.hex_keys else [str(key) for key in index.keys]
    for key, row in zip(keys, index.rows.tolist(), strict=True):
        ids_by_row[row] = key
    rng = np.random.default_rng(seed)
    limit = int(config.get("max_per_concept", 1000))
    result: dict[str, dict[str, list[tuple[str, int]]]] = {"examples-random-negatives": {}, "nearest-to-examples": {}}
    for concept in config["concepts"]:
        examples = read_example_ids(example_set_path(task_dir, concept))
        example_rows = [row for row in (index.row_of(image_id) for image_id in examples) if row is not None]
        others = np.setdiff1d(np.arange(len(ids_by_row)), example_rows)
        negatives = rng.choice(others, size=len(example_rows), replace=False).tolist()
        result["examples-random-negatives"][concept] = [(ids_by_row[r], 1) for r in example_rows] + [
            (ids_by_row[r], 0) for r in negatives
        ]
        ranking = _similarity_ranking(vectors, example_rows)
        n_positive = min(limit // 5, len(ranking) // 10)
        far_half = ranking[len(ranking) // 2 :]
        far = rng.choice(far_half, size=min(limit - n_positive, len(far_half)), replace=False).tolist()
        result["nearest-to-examples"][concept] = [(ids_by_row[r], 1) for r in ranking[:n_positive].tolist()] + [
            (ids_by_row[r], 0) for r in far
        ]
    return result


def _write_csv(path: Path, rows: list[tuple[str, int]]) -> None:
    lines = [f"{ID_COLUMN},{LABEL_COLUMN}"] + [f"{image_id},{label}" for image_id, label in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


# --- The demo protocol of `evaluators.demo` -----------------------------------------------------------------

DEMO_TASKS = [
    DemoTask(
        slug="vision-selection-3-concepts",
        title="Vision selection: Cupcake, Hawk, Sushi",
        ml_task="image-classification",
        config={"concepts": list(DEFAULT_CONCEPTS), "max_per_concept": 1000},
        description=(
            "Label at most **1000** images of the unlabelled candidate pool (`embeddings/"
            "train_emb_256_dataperf.parquet`, 256-d image embeddings) for each concept: Cupcake, Hawk and "
            "Sushi. `examples/` holds 20 known positives per concept to start from. Submit a zip with "
            "`<Concept>.csv` (`ImageID,Confidence`, labels 0/1) or `<Concept>.json` per concept. A fixed "
            "logistic regression is trained on your labelled images; the score is its F1 on a hidden test "
            "set, averaged over the concepts."
        ),
    )
]


def generate_task(out_dir: Path, *, config: Mapping[str, Any], seed: int = 0, small: bool = False) -> None:
    """A complete task directory for `config` (`concepts`, `max_per_concept`); `small` shrinks the pool."""
    generate_vision_task(
        out_dir,
        concepts=tuple(config.get("concepts", DEFAULT_CONCEPTS)),
        max_per_concept=int(config.get("max_per_concept", 1000)),
        seed=seed,
        shape=SMALL_SHAPE if small else None,
    )


def write_baselines(task_dir: Path, out_dir: Path, *, seed: int = 0) -> dict[str, Path]:
    """The baselines of `baseline_submissions`, one directory each: CSV files, or JSON for the similarity one."""
    written = {}
    for name, selection in baseline_submissions(task_dir, seed=seed).items():
        directory = out_dir / name
        directory.mkdir(parents=True, exist_ok=True)
        for concept, rows in selection.items():
            if name == "nearest-to-examples":
                (directory / f"{concept}.json").write_text(json.dumps(dict(rows)), encoding="utf-8")
            else:
                _write_csv(directory / f"{concept}.csv", rows)
        written[name] = directory
    return written
