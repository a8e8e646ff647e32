"""Honest baseline test sets, built from the public files only (the pool, the reference training set, and the
reference models' predictions, which anyone can compute from them).

* `pool-disagreement`: the pool items the reference models disagree on most (fewest models agreeing first,
  then the least confident neighbour vote), each claiming the label of a 5-nearest-neighbour vote over the
  public training set; at most `max_items`.
* `drawn-numerals`: new PNG images the participant drew (given by the demo module), claimed with the label they
  were drawn as; they wait for human validation before they earn anything.
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import numpy as np
from sklearn.neighbors import KNeighborsClassifier
from threadpoolctl import threadpool_limits

from evaluators.adversarial_test_set.config import AdversarialConfig
from evaluators.adversarial_test_set.data import POOL_DIR, TRAIN_DIR, IndexArray, read_pool
from evaluators.adversarial_test_set.suite import fit_reference_models, fixed_recipe, read_training_table
from evaluators.training_set_creation.data import IMAGES_DIR
from evaluators.training_set_creation.submission_files import LABELS_FILE

NEIGHBOURS = 5
Drawn = list[tuple[bytes, str]]


def _fresh_dir(directory: Path) -> Path:
    """An empty `directory`: a baseline written earlier is replaced, or its stale images would be unlisted."""
    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    return directory


def _write_labels(directory: Path, rows: list[tuple[str, str]]) -> None:
    with (directory / LABELS_FILE).open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["item", "label"])
        writer.writerows(rows)


def _agreeing(predictions: IndexArray, n_labels: int) -> IndexArray:
    """Per pool row, how many reference models predict its most predicted label."""
    return np.asarray([np.bincount(column, minlength=n_labels).max() for column in predictions.T], dtype=np.int64)


def pool_disagreement(task_dir: Path, config: AdversarialConfig) -> list[tuple[str, str]]:
    """(pool id, claimed label) of the `pool-disagreement` baseline."""
    pool = read_pool(task_dir / POOL_DIR, image_size=config.image_size)
    models = fit_reference_models(task_dir, config, pool.feature_names)
    with fixed_recipe():
        predictions = np.stack([np.asarray(model.predict(pool.features), dtype=np.int64) for model in models])
    train = read_training_table(task_dir, TRAIN_DIR, config, pool.feature_names)
    with threadpool_limits(limits=1):
        knn = KNeighborsClassifier(n_neighbors=min(NEIGHBOURS, len(train.ids))).fit(train.features, train.labels)
        proba = knn.predict_proba(pool.features)
    vote, confidence = knn.classes_[np.argmax(proba, axis=1)], proba.max(axis=1)
    # Fewest models agreeing first; among equals, the least confident neighbour vote (the most ambiguous).
    order = np.lexsort((confidence, _agreeing(predictions, len(config.labels))))
    return [(pool.ids[row], config.labels[int(vote[row])]) for row in order[: config.max_items].tolist()]


def drawn_numerals(directory: Path, drawn: Drawn, max_items: int) -> list[tuple[str, str]]:
    """Write the drawn images under `directory/images/` (identical drawings once); return their rows."""
    rows: list[tuple[str, str]] = []
    seen: set[bytes] = set()
    (directory / IMAGES_DIR).mkdir(parents=True, exist_ok=True)
    for data, label in drawn:
        if data in seen or len(rows) == max_items:
            continue
        seen.add(data)
        relative = f"{IMAGES_DIR}/drawn_{len(rows):04d}.png"
        (directory / relative).write_bytes(data)
        rows.append((relative, label))
    return rows


def write_baseline_dirs(task_dir: Path, config: AdversarialConfig, out_dir: Path, *, drawn: Drawn) -> dict[str, Path]:
    """Write the baseline submission directories into `out_dir` (`drawn-numerals` only where new items are
    allowed and `drawn` holds some); return name -> directory."""
    written = {"pool-disagreement": _fresh_dir(out_dir / "pool-disagreement")}
    _write_labels(written["pool-disagreement"], pool_disagreement(task_dir, config))
    if config.allow_new_items and drawn:
        directory = _fresh_dir(out_dir / "drawn-numerals")
        _write_labels(directory, drawn_numerals(directory, drawn, config.max_items))
        written["drawn-numerals"] = directory
    return written
