"""Honest baseline training sets, built from the public pool only.

* `random`: a uniform random subset of the pool, as large as `max_items` allows, with the pool's labels;
* `class-balanced`: the same number of pool items per (given) label, drawn at random;
* `drop-suspected-mislabels`: a 5-fold cross-validated logistic regression on the pool; items whose given
  label it does not predict are dropped (suspected mislabels and off-topic items), then a class-balanced
  random subset of the rest;
* `cleaned-plus-augmented`: half the budget of the previous selection plus one shifted copy of each item,
  submitted as new items (PNG files, or rows of features.csv): the new-item path of the format.
"""

from __future__ import annotations

import csv
import math
import shutil
import warnings
from pathlib import Path

import numpy as np
from PIL import Image
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from threadpoolctl import threadpool_limits

from evaluators.training_set_creation.data import IMAGES_DIR, POOL_DIR, ItemTable, read_item_table
from evaluators.training_set_creation.render import shifted
from evaluators.training_set_creation.submission_files import FEATURES_FILE, LABELS_FILE
from evaluators.training_set_creation.task import TrainingConfig

Labelled = list[tuple[str, str]]


def _balanced(rows_by_label: list[list[int]], budget: int) -> list[int]:
    """Round-robin over labels, taking each label's rows in the given order, until the budget is spent."""
    chosen: list[int] = []
    depth = 0
    while len(chosen) < budget and any(depth < len(rows) for rows in rows_by_label):
        for rows in rows_by_label:
            if depth < len(rows) and len(chosen) < budget:
                chosen.append(rows[depth])
        depth += 1
    return sorted(chosen)


def _by_label(pool: ItemTable, rows: np.ndarray, n_labels: int) -> list[list[int]]:
    return [[int(row) for row in rows if pool.labels[row] == label] for label in range(n_labels)]


def _suspect_free(pool: ItemTable, n_labels: int, seed: int) -> list[list[int]]:
    """Per label, in random order, the pool rows whose given label a cross-validated model predicts."""
    counts = np.bincount(pool.labels, minlength=n_labels)
    folds = int(max(2, min(5, counts[counts > 0].min())))
    cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    with threadpool_limits(limits=1), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        predicted = cross_val_predict(LogisticRegression(C=0.1, max_iter=300), pool.features, pool.labels, cv=cv)
    order = np.random.default_rng(seed).permutation(len(pool.ids))
    return _by_label(pool, order[predicted[order] == pool.labels[order]], n_labels)


def _labelled(pool: ItemTable, config: TrainingConfig, rows: list[int]) -> Labelled:
    return [(pool.ids[row], config.labels[int(pool.labels[row])]) for row in rows]


def _fresh_dir(directory: Path) -> Path:
    """An empty `directory`: a baseline written earlier is replaced, or its stale images would be unlisted."""
    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    return directory


def _write_labels(directory: Path, rows: Labelled) -> None:
    with (directory / LABELS_FILE).open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["item", "label"])
        writer.writerows(rows)


def _augment_images(task_dir: Path, directory: Path, chosen: Labelled, rng: np.random.Generator) -> Labelled:
    new: Labelled = []
    for item, label in chosen:
        with Image.open(task_dir / POOL_DIR / IMAGES_DIR / f"{item}.png") as image:
            dx, dy, angle = int(rng.integers(-3, 4)), int(rng.integers(-3, 4)), float(rng.uniform(-8, 8))
            copy = shifted(image.convert("L"), dx, dy, angle)
        relative = f"{IMAGES_DIR}/aug_{item}.png"
        (directory / IMAGES_DIR).mkdir(parents=True, exist_ok=True)
        copy.save(directory / relative, format="PNG")
        new.append((relative, label))
    return new


def _shift_square(image: np.ndarray, step: int, axis: int) -> np.ndarray:
    """The square image moved one pixel along `axis`; the row or column that enters is blank (zeros)."""
    moved = np.roll(image, step, axis=axis)
    entering = 0 if step > 0 else -1
    if axis == 0:
        moved[entering, :] = 0.0
    else:
        moved[:, entering] = 0.0
    return moved.reshape(-1)


def _augment_features(pool: ItemTable, directory: Path, chosen: Labelled, rng: np.random.Generator) -> Labelled:
    side = math.isqrt(pool.dim)
    new: Labelled = []
    rows: list[list[str]] = []
    for item, label in chosen:
        vector = pool.features[pool.row_of[item]]
        if side * side == pool.dim:
            vector = _shift_square(vector.reshape(side, side), int(rng.choice([-1, 1])), int(rng.integers(2)))
        else:
            vector = vector + rng.normal(0.0, 0.02, size=vector.shape)
        rows.append([f"aug_{item}", *(repr(float(v)) for v in vector)])
        new.append((f"aug_{item}", label))
    with (directory / FEATURES_FILE).open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["item", *pool.feature_names])
        writer.writerows(rows)
    return new


def write_baseline_dirs(task_dir: Path, config: TrainingConfig, out_dir: Path, *, seed: int = 0) -> dict[str, Path]:
    """Write the baseline submission directories into `out_dir`; return name -> directory."""
    pool = read_item_table(task_dir / POOL_DIR, config.labels, image_size=config.image_size)
    n_labels = len(config.labels)
    budget = min(config.max_items, len(pool.ids))
    rng = np.random.default_rng(seed)
    random_rows = sorted(int(row) for row in rng.choice(len(pool.ids), size=budget, replace=False))
    shuffled = rng.permutation(len(pool.ids))
    cleaned = _suspect_free(pool, n_labels, seed)
    selections = {
        "random": _labelled(pool, config, random_rows),
        "class-balanced": _labelled(pool, config, _balanced(_by_label(pool, shuffled, n_labels), budget)),
        "drop-suspected-mislabels": _labelled(pool, config, _balanced(cleaned, budget)),
    }
    written: dict[str, Path] = {}
    for name, rows in selections.items():
        written[name] = _fresh_dir(out_dir / name)
        _write_labels(written[name], rows)
    if config.allow_new_items:
        directory = _fresh_dir(out_dir / "cleaned-plus-augmented")
        half = _labelled(pool, config, _balanced(cleaned, budget // 2))
        if config.input == "image":
            new = _augment_images(task_dir, directory, half, rng)
        else:
            new = _augment_features(pool, directory, half, rng)
        _write_labels(directory, half + new)
        written["cleaned-plus-augmented"] = directory
    return written
