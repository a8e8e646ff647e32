"""Demo valuation tasks built from scikit-learn's bundled breast-cancer data (no download), and baselines.

The 569 rows are shuffled; 200 form the shared hidden test set, the rest is the source of the pairs. Each
pair's A is a small stratified sample (the buyer's own labelled data) and its B is offered data of one kind,
so that its value differs and is only partly visible from B's features:

* `clean`: more rows from the same distribution (valuable);
* `noisy-labels`: same distribution, but 40% of B's hidden labels are flipped (harmful, invisible in B);
* `shifted`: the rows with the smallest tumours only (covariate shift and nearly one class);
* `duplicates`: copies of A's own rows (worth little: nothing new);
* `feature-noise`: rows whose features carry strong measurement noise (labels right, features blurred);
* `one-class`: benign cases only (class imbalance).

Everything is derived from `seed`: the same arguments write byte-identical files.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import StratifiedKFold
from threadpoolctl import threadpool_limits

from evaluators.demo import DemoTask
from evaluators.taskdir import TASK_FILE, load_task_dir
from evaluators.valuation.data import (
    A_FILE,
    B_FILE,
    B_LABELS_FILE,
    LABEL_COLUMN,
    TEST_FILE,
    FloatMatrix,
    IntArray,
    Table,
    pair_dir,
    read_table,
)
from evaluators.valuation.model import fixed_model, trained_accuracy

KINDS = ("clean", "noisy-labels", "shifted", "duplicates", "feature-noise", "one-class")


@dataclass(frozen=True)
class ValuationShape:
    """Sizes of a demo task."""

    test_rows: int = 200
    a_rows: int = 24
    b_rows: int = 120


SMALL_SHAPE = ValuationShape(test_rows=120, a_rows=20, b_rows=60)


@dataclass
class _Source:
    rng: np.random.Generator
    features: FloatMatrix
    labels: IntArray
    columns: tuple[str, ...]

    def stratified(self, rows: np.ndarray, count: int) -> np.ndarray:
        """`count` rows of `rows`, half from each class where possible (A must hold both classes)."""
        picked: list[int] = []
        for label in (0, 1):
            members = rows[self.labels[rows] == label]
            picked += self.rng.choice(members, size=min(len(members), count // 2), replace=False).tolist()
        return np.asarray(sorted(picked), dtype=np.int64)


def _load_source(seed: int) -> _Source:
    """The bundled data set, rows shuffled."""
    bunch = load_breast_cancer()
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(bunch.target))
    columns = tuple(str(name).replace(" ", "_") for name in bunch.feature_names)
    return _Source(rng, np.asarray(bunch.data, dtype=np.float64)[order], np.asarray(bunch.target)[order], columns)


def _b_rows(
    source: _Source, kind: str, rest: np.ndarray, a_rows: np.ndarray, size: int
) -> tuple[FloatMatrix, IntArray]:
    """B's features and hidden labels for one kind of offer (see the module docstring)."""
    rng, features, labels = source.rng, source.features, source.labels
    if kind == "duplicates":
        return features[a_rows].copy(), labels[a_rows].copy()
    if kind == "shifted":
        chosen = rest[np.argsort(features[rest, 0], kind="stable")[:size]]
    elif kind == "one-class":
        chosen = rng.choice(rest[labels[rest] == 1], size=size, replace=False)
    else:
        chosen = rng.choice(rest, size=size, replace=False)
    b_features, b_labels = features[chosen].copy(), labels[chosen].copy()
    if kind == "noisy-labels":
        flip = rng.random(size) < 0.4
        b_labels = np.where(flip, 1 - b_labels, b_labels)
    if kind == "feature-noise":
        b_features = b_features + rng.standard_normal(b_features.shape) * features.std(axis=0) * 1.5
        b_features = np.abs(b_features)  # the measurements stay non-negative, as the real ones
    return b_features, b_labels


def _write_table(path: Path, columns: Sequence[str], features: FloatMatrix, labels: IntArray | None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    header = [*columns, LABEL_COLUMN] if labels is not None else list(columns)
    lines = [",".join(header)]
    for index, row in enumerate(features):
        values = [f"{value:.6g}" for value in row]
        lines.append(",".join(values if labels is None else [*values, str(int(labels[index]))]))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def generate_valuation_task(
    out_dir: Path,
    *,
    pairs: Sequence[str] = KINDS,
    pair_errors: bool = False,
    seed: int = 0,
    shape: ValuationShape | None = None,
) -> None:
    """Write a complete valuation task directory into `out_dir`; each pair name must be one of `KINDS`.

    Deterministic: the same arguments write byte-identical files. Raises `ValueError` on an unknown kind.
    """
    shape = shape or ValuationShape()
    unknown = [pair for pair in pairs if pair not in KINDS]
    if unknown or not pairs:
        raise ValueError(f"pair names must be among {', '.join(KINDS)}; got {unknown or 'none'}")
    source = _load_source(seed)
    all_rows = np.arange(len(source.labels))
    test_rows, rest = all_rows[: shape.test_rows], all_rows[shape.test_rows :]
    _write_table(out_dir / TEST_FILE, source.columns, source.features[test_rows], source.labels[test_rows])
    for pair in pairs:
        a_rows = source.stratified(rest, shape.a_rows)
        others = np.setdiff1d(rest, a_rows)
        b_features, b_labels = _b_rows(source, pair, others, a_rows, shape.b_rows)
        directory = pair_dir(out_dir, pair)
        _write_table(directory / A_FILE, source.columns, source.features[a_rows], source.labels[a_rows])
        _write_table(directory / B_FILE, source.columns, b_features, None)
        (directory / B_LABELS_FILE).write_text(
            LABEL_COLUMN + "\n" + "".join(f"{int(label)}\n" for label in b_labels), encoding="utf-8"
        )
    config = {"pairs": list(pairs), "pair_errors": pair_errors}
    (out_dir / TASK_FILE).write_text(
        yaml.safe_dump({"benchmark": "valuation", "config": config}, sort_keys=False), encoding="utf-8"
    )


# --- Baselines: only public files (A and B) are used ------------------------------------------------------


def _cv_accuracy(a: Table, extra: Callable[[FloatMatrix, IntArray], tuple[FloatMatrix, IntArray]]) -> float:
    """5-fold cross-validated accuracy on A of the fixed model trained on the training folds plus `extra`."""
    labels = a.label_array()
    folds = StratifiedKFold(n_splits=min(5, int(np.bincount(labels).min())), shuffle=True, random_state=0)
    scores = []
    for train, held_out in folds.split(a.features, labels):
        more_features, more_labels = extra(a.features[train], labels[train])
        features = np.concatenate([a.features[train], more_features])
        scores.append(
            trained_accuracy(
                features, np.concatenate([labels[train], more_labels]), a.features[held_out], labels[held_out]
            )
        )
    return float(np.mean(scores))


def _pseudo_labelled(b: Table) -> Callable[[FloatMatrix, IntArray], tuple[FloatMatrix, IntArray]]:
    def extra(features: FloatMatrix, labels: IntArray) -> tuple[FloatMatrix, IntArray]:
        predicted: IntArray = fixed_model().fit(features, labels).predict(b.features)
        return b.features, predicted

    return extra


def _nothing(features: FloatMatrix, labels: IntArray) -> tuple[FloatMatrix, IntArray]:
    return features[:0], labels[:0]


def baseline_submissions(task_dir: Path, *, seed: int = 0) -> dict[str, dict[str, float]]:
    """Named valid predictions: method -> pair -> predicted accuracy.

    `a-only`: B is worth nothing, so the accuracy is A's own cross-validated accuracy. `pseudo-labels`:
    B labelled by a model of the training folds, added to them, cross-validated on A. `seed` is unused.
    """
    config = load_task_dir(task_dir).config
    result: dict[str, dict[str, float]] = {"a-only": {}, "pseudo-labels": {}}
    for pair in config["pairs"]:
        directory = pair_dir(task_dir, str(pair))
        a = read_table(directory / A_FILE, labelled=True)
        b = read_table(directory / B_FILE, labelled=False, columns=a.columns)
        with threadpool_limits(limits=1, user_api="blas"):  # many tiny fits: threads only cost time
            result["a-only"][str(pair)] = _cv_accuracy(a, _nothing)
            result["pseudo-labels"][str(pair)] = _cv_accuracy(a, _pseudo_labelled(b))
    return result


# --- The demo protocol of `evaluators.demo` -----------------------------------------------------------------

DEMO_TASKS = [
    DemoTask(
        slug="valuation-breast-cancer",
        title="Data valuation: what is this data worth to my model?",
        ml_task="tabular",
        config={"pairs": list(KINDS), "pair_errors": False},
        description=(
            "Six pairs of tables from a medical tabular task (30 features, benign / malignant). In each pair "
            "you own a small labelled set `A.csv` and are offered an unlabelled set `B.csv`. Predict, for every "
            "pair, the accuracy on a hidden test set of the fixed model (standardisation + logistic "
            "regression) trained on A followed by B with its true labels. Some offers help, some hurt. Submit "
            "a CSV `pair,predicted_accuracy` (fractions from 0 to 1); the score is the mean absolute error, "
            "lower is better."
        ),
    )
]


def generate_task(out_dir: Path, *, config: Mapping[str, Any], seed: int = 0, small: bool = False) -> None:
    """A complete task directory for `config` (`pairs` among `KINDS`, `pair_errors`); `small` shrinks it."""
    generate_valuation_task(
        out_dir,
        pairs=[str(pair) for pair in config.get("pairs", KINDS)],
        pair_errors=bool(config.get("pair_errors", False)),
        seed=seed,
        shape=SMALL_SHAPE if small else None,
    )


def write_baselines(task_dir: Path, out_dir: Path, *, seed: int = 0) -> dict[str, Path]:
    """The predictions of `baseline_submissions`, one CSV file each."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = {}
    for name, predictions in baseline_submissions(task_dir, seed=seed).items():
        path = out_dir / f"{name}.csv"
        rows = [f"{pair},{value:.6f}" for pair, value in predictions.items()]
        path.write_text("pair,predicted_accuracy\n" + "\n".join(rows) + "\n", encoding="utf-8")
        written[name] = path
    return written
