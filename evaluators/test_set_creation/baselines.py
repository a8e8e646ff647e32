"""Honest baseline test sets, built from the public files only (the pool, the training set, and the suite's
predictions, which anyone can compute from them).

* `random-majority`: random pool items, each claiming the suite's majority prediction. Its claims are
  confirmed about as often as the suite is right, and then at most a minority of the models is wrong:
  it earns little, as it should.
* `disagreement-knn`: the items on which the suite's models disagree most, each claiming the label of a
  5-nearest-neighbour vote over the public training set.
* `knn-contradicts-suite`: items where that neighbour vote contradicts the suite's majority (most
  confident votes first), claiming the vote's label; topped up with `disagreement-knn`'s items if short.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
from sklearn.neighbors import KNeighborsClassifier
from threadpoolctl import threadpool_limits

from evaluators.test_set_creation.data import POOL_FILE, TRAIN_FILE, IndexArray, read_pool, read_train
from evaluators.test_set_creation.suite import suite_predictions
from evaluators.test_set_creation.task import TestSetConfig

NEIGHBOURS = 5


def _majority(predictions: IndexArray, n_labels: int) -> tuple[IndexArray, IndexArray]:
    """Per pool row: the most predicted label (lowest index on ties) and how many models predict it."""
    votes = np.stack([np.bincount(column, minlength=n_labels) for column in predictions.T])
    return np.argmax(votes, axis=1), votes.max(axis=1)


def _first_distinct(ranked: list[int], extra: list[int], count: int) -> list[int]:
    chosen: list[int] = []
    seen: set[int] = set()
    for row in [*ranked, *extra]:
        if row not in seen:
            seen.add(row)
            chosen.append(row)
        if len(chosen) == count:
            break
    return chosen


def _write(path: Path, ids: tuple[str, ...], rows: list[int], labels: list[str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["item", "label"])
        writer.writerows([ids[row], label] for row, label in zip(rows, labels, strict=True))
    return path


def write_baseline_files(task_dir: Path, config: TestSetConfig, out_dir: Path, *, seed: int = 0) -> dict[str, Path]:
    """Write the baseline CSV files into `out_dir`; return name -> path."""
    label_index = {label: index for index, label in enumerate(config.labels)}
    train, pool = read_train(task_dir / TRAIN_FILE), read_pool(task_dir / POOL_FILE)
    train_labels = np.asarray([label_index[label] for label in train.labels or ()], dtype=np.int64)
    predictions = suite_predictions(train, train_labels, pool, config.models)
    majority, agreeing = _majority(predictions, len(config.labels))
    with threadpool_limits(limits=1):
        knn = KNeighborsClassifier(n_neighbors=NEIGHBOURS).fit(train.vectors, train_labels)
        knn_proba = knn.predict_proba(pool.vectors)
    vote = knn.classes_[np.argmax(knn_proba, axis=1)]
    confidence = knn_proba.max(axis=1)
    n = config.n_items
    rng = np.random.default_rng(seed)
    random_rows = sorted(int(row) for row in rng.choice(len(pool.ids), size=n, replace=False))
    # Fewest models agreeing first; among equals, the least confident neighbour vote (the most ambiguous).
    disagreement = [int(row) for row in np.lexsort((confidence, agreeing))]
    contradicting = [int(row) for row in np.argsort(-confidence, kind="stable") if vote[row] != majority[row]]
    knn_rows = disagreement[:n]
    contra_rows = _first_distinct(contradicting, disagreement, n)
    labels = config.labels
    return {
        "random-majority": _write(
            out_dir / "random-majority.csv", pool.ids, random_rows, [labels[majority[row]] for row in random_rows]
        ),
        "disagreement-knn": _write(
            out_dir / "disagreement-knn.csv", pool.ids, knn_rows, [labels[vote[row]] for row in knn_rows]
        ),
        "knn-contradicts-suite": _write(
            out_dir / "knn-contradicts-suite.csv", pool.ids, contra_rows, [labels[vote[row]] for row in contra_rows]
        ),
    }
