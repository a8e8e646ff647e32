"""Example algorithm for valuation: cross-validate a nearest-centroid model on A plus pseudo-labelled B.

For every pair of the task's config: A's rows are split into 5 folds (a permutation drawn with
DATAPERF_SEED); for each fold a nearest-centroid classifier on standardised features (scaled by the
training folds) is fitted on the other folds, labels B's rows, is refitted on those folds plus the
pseudo-labelled B, and is scored on the held-out fold. The predicted accuracy is the share of A's rows
predicted right over the folds: an estimate of what training on A + B achieves, blind to B's real labels.
Writes the CSV `pair,predicted_accuracy` to DATAPERF_OUTPUT.

Only public files are read (`pairs/<k>/A.csv`, `pairs/<k>/B.csv`, `task.yaml`). Offline, from this folder,
with a directory holding the task's public files and its task.yaml:

    DATAPERF_INPUT_DIR=path/to/task DATAPERF_OUTPUT_DIR=out DATAPERF_OUTPUT=out/predictions.csv \\
        DATAPERF_SEED=0 python -m algorithm
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

import numpy as np
import yaml

FOLDS = 5


def read_table(path: Path) -> tuple[list[str], np.ndarray]:
    """The header and the rows of a numeric CSV file (as floats)."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = [row for row in csv.reader(handle) if row]
    header = [name.strip() for name in rows[0]]
    values = np.asarray([[float(cell) for cell in row] for row in rows[1:]], dtype=np.float64)
    return header, values.reshape(len(rows) - 1, len(header))


def fit(features: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A nearest-centroid model: the classes present and their centres."""
    classes = np.unique(labels)
    return classes, np.stack([features[labels == label].mean(axis=0) for label in classes])


def predict(model: tuple[np.ndarray, np.ndarray], features: np.ndarray) -> np.ndarray:
    """The class of the nearest centre for every row."""
    classes, centres = model
    distances = ((features[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2)
    predicted: np.ndarray = classes[distances.argmin(axis=1)]
    return predicted


def fold_accuracy(a: np.ndarray, labels: np.ndarray, b: np.ndarray, test: np.ndarray) -> float:
    """Accuracy on A's rows `test` of the model fitted on the other rows of A plus pseudo-labelled B."""
    train = np.setdiff1d(np.arange(len(a)), test)
    mean, scale = a[train].mean(axis=0), a[train].std(axis=0)
    scale = np.where(scale > 0, scale, 1.0)
    a_std, b_std = (a - mean) / scale, (b - mean) / scale
    model = fit(a_std[train], labels[train])
    if len(b_std):
        model = fit(np.vstack([a_std[train], b_std]), np.concatenate([labels[train], predict(model, b_std)]))
    return float((predict(model, a_std[test]) == labels[test]).mean())


def predicted_accuracy(pair_dir: Path, rng: np.random.Generator) -> float:
    """The cross-validated accuracy of the nearest-centroid model on A plus pseudo-labelled B."""
    header, a_rows = read_table(pair_dir / "A.csv")
    label_column = header.index("label")
    labels = a_rows[:, label_column]
    a = np.delete(a_rows, label_column, axis=1)
    b_header, b = read_table(pair_dir / "B.csv")
    b = b[:, [b_header.index(name) for name in header if name != "label"]]
    if len(a) < 2:
        return 0.5
    folds = np.array_split(rng.permutation(len(a)), min(FOLDS, len(a)))
    hits = sum(fold_accuracy(a, labels, b, fold) * len(fold) for fold in folds)
    return float(min(1.0, max(0.0, hits / len(a))))


def main() -> None:
    """Read the inputs named by the DATAPERF_* variables and write the predictions."""
    input_dir = Path(os.environ["DATAPERF_INPUT_DIR"])
    output = Path(os.environ["DATAPERF_OUTPUT"])
    rng = np.random.default_rng(int(os.environ.get("DATAPERF_SEED", "0")))
    config = yaml.safe_load((input_dir / "task.yaml").read_text(encoding="utf-8"))["config"]
    lines = ["pair,predicted_accuracy"]
    for pair in (str(name) for name in config["pairs"]):
        lines.append(f"{pair},{predicted_accuracy(input_dir / 'pairs' / pair, rng):.6f}")
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
