"""Example algorithm for selection-vision: label the images nearest to the example positives.

For every concept of the task's config: the centre of the (unit-normalised) embeddings of the concept's
example positives (`examples/alpha_example_set_<Concept>.csv`; a random pool image when the task has no
example set); the pool images ranked by cosine similarity to it; the top fifth of the budget (at most a
tenth of the pool, examples first) labelled 1, and images drawn at random (numpy, seeded by DATAPERF_SEED)
from the less similar half labelled 0, up to `max_per_concept` rows. Writes the directory DATAPERF_OUTPUT
with one `<Concept>.csv` (`ImageID,Confidence`) per concept.

Only public files are read (the pool, the example sets, `task.yaml`). Offline, from this folder, with a
directory holding the task's public files and its task.yaml:

    DATAPERF_INPUT_DIR=path/to/task DATAPERF_OUTPUT_DIR=out DATAPERF_OUTPUT=out/selection \\
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

POOL_FILE = "embeddings/train_emb_256_dataperf.parquet"
EXAMPLES = "examples/alpha_example_set_{concept}.csv"


def read_pool(path: Path) -> tuple[list[str], np.ndarray]:
    """The pool's ImageIDs and unit-normalised embeddings (one row per image)."""
    table = pq.read_table(path, columns=["ImageID", "embedding"])
    ids = [str(image_id) for image_id in table.column("ImageID").to_pylist()]
    embeddings = table.column("embedding").combine_chunks()
    vectors = embeddings.flatten().to_numpy(zero_copy_only=False).astype(np.float64).reshape(len(ids), -1)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return ids, vectors / np.where(norms > 0, norms, 1.0)


def example_rows(path: Path, row_of: dict[str, int]) -> list[int]:
    """The pool rows of a concept's example positives (none when the task has no example set)."""
    if not path.is_file():
        return []
    with path.open(encoding="utf-8", newline="") as handle:
        listed = [row.get("ImageID", "") for row in csv.DictReader(handle)]
    return list(dict.fromkeys(row_of[image_id] for image_id in listed if image_id in row_of))


def label_concept(
    vectors: np.ndarray, examples: list[int], limit: int, rng: np.random.Generator
) -> list[tuple[int, int]]:
    """(pool row, label) pairs: the nearest images to the examples' centre as 1, far random images as 0."""
    if not examples:
        examples = [int(rng.integers(len(vectors)))]
    centre = vectors[examples].mean(axis=0)
    similarity = vectors @ centre
    ranking = np.lexsort((np.arange(len(similarity)), -similarity)).tolist()
    n_positive = max(1, min(limit // 5, len(ranking) // 10))
    positives = list(dict.fromkeys(examples + ranking))[:n_positive]
    taken = set(positives)
    far_half = [row for row in ranking[len(ranking) // 2 :] if row not in taken]
    n_negative = min(limit - len(positives), len(far_half))
    negatives = sorted(rng.choice(len(far_half), size=n_negative, replace=False).tolist())
    return [(row, 1) for row in positives] + [(far_half[index], 0) for index in negatives]


def main() -> None:
    """Read the inputs named by the DATAPERF_* variables and write one CSV file per concept."""
    input_dir = Path(os.environ["DATAPERF_INPUT_DIR"])
    output = Path(os.environ["DATAPERF_OUTPUT"])
    rng = np.random.default_rng(int(os.environ.get("DATAPERF_SEED", "0")))
    config: dict[str, Any] = yaml.safe_load((input_dir / "task.yaml").read_text(encoding="utf-8"))["config"]
    limit = int(config.get("max_per_concept", 1000))
    ids, vectors = read_pool(input_dir / POOL_FILE)
    row_of = {image_id: row for row, image_id in enumerate(ids)}
    output.mkdir(parents=True, exist_ok=True)
    for concept in config["concepts"]:
        examples = example_rows(input_dir / EXAMPLES.format(concept=concept), row_of)
        labelled = label_concept(vectors, examples, limit, rng)
        with (output / f"{concept}.csv").open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(["ImageID", "Confidence"])
            writer.writerows((ids[row], label) for row, label in labelled)


if __name__ == "__main__":
    main()
