"""Example algorithm for selection-speech: a class-balanced random selection within the budget.

The budget (`train_size` of the task's config) is dealt out one clip at a time over the classes in turn (the
nontargets first, then the target words in name order), skipping a class whose allowed clips run out, so
every class gets about the same number of clips and a budget of 2 still holds one target and one nontarget.
Each class's clips are a random draw (numpy, seeded by DATAPERF_SEED) from `allowed_training_set.yaml`.
Writes `{"targets": {word: [clip_id, ...]}, "nontargets": [...]}` to DATAPERF_OUTPUT.

Only the public `allowed_training_set.yaml` and `task.yaml` are read. Offline, from this folder, with a
directory holding the task's public files and its task.yaml:

    DATAPERF_INPUT_DIR=path/to/task DATAPERF_OUTPUT_DIR=out DATAPERF_OUTPUT=out/selection.json \\
        DATAPERF_SEED=0 python -m algorithm
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import yaml

ALLOWED_FILE = "allowed_training_set.yaml"


def read_yaml(path: Path) -> Any:
    """The parsed content of a YAML file."""
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def round_robin(capacities: list[int], budget: int) -> list[int]:
    """How many items each class gets when the budget is dealt out one at a time over the classes in turn."""
    counts = [0] * len(capacities)
    while budget > 0 and any(count < capacity for count, capacity in zip(counts, capacities, strict=True)):
        for index, capacity in enumerate(capacities):
            if budget > 0 and counts[index] < capacity:
                counts[index] += 1
                budget -= 1
    return counts


def draw(rng: np.random.Generator, ids: list[str], count: int) -> list[str]:
    """`count` distinct ids drawn at random, in their list order."""
    chosen = sorted(rng.choice(len(ids), size=count, replace=False).tolist()) if count else []
    return [ids[index] for index in chosen]


def select(allowed: dict[str, Any], budget: int, rng: np.random.Generator) -> dict[str, Any]:
    """The selection: a balanced random draw from the allowed clips of every class."""
    words = sorted(allowed["targets"])
    pools = [list(allowed.get("nontargets") or [])] + [list(allowed["targets"][word] or []) for word in words]
    counts = round_robin([len(pool) for pool in pools], budget)
    picked = [draw(rng, pool, count) for pool, count in zip(pools, counts, strict=True)]
    return {"targets": dict(zip(words, picked[1:], strict=True)), "nontargets": picked[0]}


def main() -> None:
    """Read the inputs named by the DATAPERF_* variables and write the selection."""
    input_dir = Path(os.environ["DATAPERF_INPUT_DIR"])
    output = Path(os.environ["DATAPERF_OUTPUT"])
    rng = np.random.default_rng(int(os.environ.get("DATAPERF_SEED", "0")))
    config = read_yaml(input_dir / "task.yaml")["config"]
    selection = select(read_yaml(input_dir / ALLOWED_FILE), int(config["train_size"]), rng)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(selection, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
