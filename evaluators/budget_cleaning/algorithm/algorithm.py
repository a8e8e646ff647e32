"""Example algorithm for budget-cleaning: clean the rows with the most dirty cells first.

A dirty cell of `X_train_dirty.csv` holds a JSON list of candidate repairs. Rows are ranked by their number
of dirty cells, most first (ties in an order drawn with DATAPERF_SEED); the first `int(budget x rows)` rows
that have any dirty cell are selected. Writes the CSV selection list (header `id`, one row id per line, as
written in the first column of `X_train_dirty.csv`) to DATAPERF_OUTPUT.

Only public files are read (`X_train_dirty.csv`, `task.yaml`). Offline, from this folder, with a directory
holding the task's public files and its task.yaml:

    DATAPERF_INPUT_DIR=path/to/task DATAPERF_OUTPUT_DIR=out DATAPERF_OUTPUT=out/selection.csv \\
        DATAPERF_SEED=0 python -m algorithm
"""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import numpy as np
import yaml


def is_dirty(cell: str) -> bool:
    """True for a cell holding a JSON list of candidate repairs."""
    text = cell.strip()
    if not text.startswith("["):
        return False
    try:
        return isinstance(json.loads(text), list)
    except ValueError:
        return False


def dirty_counts(path: Path) -> tuple[list[str], list[int]]:
    """The row ids (first column, as written) and the number of dirty cells of every row."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = [row for row in csv.reader(handle) if row][1:]
    return [row[0].strip() for row in rows], [sum(is_dirty(cell) for cell in row[1:]) for row in rows]


def select(ids: list[str], counts: list[int], budget: float, rng: np.random.Generator) -> list[str]:
    """The ids of at most int(budget x rows) dirty rows, the dirtiest first."""
    limit = int(budget * len(ids))
    tie_break = rng.permutation(len(ids))
    order = np.lexsort((tie_break, -np.asarray(counts, dtype=np.int64))).tolist()
    return [ids[row] for row in order if counts[row] > 0][:limit]


def main() -> None:
    """Read the inputs named by the DATAPERF_* variables and write the selection."""
    input_dir = Path(os.environ["DATAPERF_INPUT_DIR"])
    output = Path(os.environ["DATAPERF_OUTPUT"])
    rng = np.random.default_rng(int(os.environ.get("DATAPERF_SEED", "0")))
    config = yaml.safe_load((input_dir / "task.yaml").read_text(encoding="utf-8"))["config"]
    ids, counts = dirty_counts(input_dir / "X_train_dirty.csv")
    selected = select(ids, counts, float(config["budget"]), rng)
    output.parent.mkdir(parents=True, exist_ok=True)
    with output.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["id"])
        writer.writerows([row_id] for row_id in selected)


if __name__ == "__main__":
    main()
