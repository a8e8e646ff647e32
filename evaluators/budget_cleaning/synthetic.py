"""Synthetic budget-cleaning tasks and baseline submissions, for tests, demos and offline trials.

The table is scikit-learn's bundled Wisconsin breast-cancer data (569 tumours, no download): eight
numeric measurements plus two categorical grades derived from two others, label `malignant`/`benign`.
Errors are injected into the training split the way DCBench's budgetclean presents them: a dirty cell
holds the JSON list of its candidate repairs, the true value among them. Numeric cells carry a decimal
slip (x10, /10) and a zero among the candidates; categorical cells a typo whose candidates are two grades.
Almost only the malignant tumours' records are dirty, their grades most of all (as when the urgent cases
are the ones entered in a hurry): imputing the dirty cells then teaches the model that a missing grade means
"malignant", which no clean test record shows, so the dirty model is visibly worse than the clean one and
the choice of rows to clean matters.

Everything is derived from `seed`; a draw whose clean and dirty models tie on a split (gap closed would
divide by zero) is replaced by the next one, deterministically.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from sklearn.datasets import load_breast_cancer

from evaluators.budget_cleaning.data import (
    X_TEST,
    X_TRAIN_CLEAN,
    X_TRAIN_DIRTY,
    X_VAL,
    Y_TEST,
    Y_TRAIN,
    Y_VAL,
    load_hidden,
    load_public,
    row_ids,
)
from evaluators.budget_cleaning.model import fit_references
from evaluators.demo import DemoTask
from evaluators.taskdir import TASK_FILE, load_task_dir

# Source column -> (name in the task, how often its cells are dirtied relative to the others).
NUMERIC_COLUMNS = {
    "mean radius": ("radius_mean", 1.0),
    "mean texture": ("texture_mean", 0.6),
    "mean smoothness": ("smoothness_mean", 0.4),
    "mean compactness": ("compactness_mean", 0.6),
    "mean concavity": ("concavity_mean", 1.5),
    "mean symmetry": ("symmetry_mean", 0.4),
    "worst area": ("area_worst", 2.0),
    "worst concave points": ("concave_points_worst", 3.0),
}
# Share of the rows with dirty cells, by diagnosis, and the most dirty cells in one row.
DIRTY_SHARE = {"malignant": 0.95, "benign": 0.05}
MAX_DIRTY_CELLS = 4
# Categorical grades derived from a measurement not otherwise in the table (terciles).
CATEGORICAL_COLUMNS = {
    "worst texture": ("texture_grade", ("low", "medium", "high"), 10.0),
    "worst concavity": ("margin", ("smooth", "irregular", "spiculated"), 10.0),
}
SPLIT_SIZES = (300, 120)  # train, validation; the test split has the remaining 149 rows
LABEL_COLUMN = "diagnosis"
_MAX_ATTEMPTS = 20


@dataclass(frozen=True)
class Tables:
    """One drawn task, as DataFrames written with `to_csv`."""

    dirty: pd.DataFrame
    clean: pd.DataFrame
    y_train: pd.DataFrame
    x_val: pd.DataFrame
    y_val: pd.DataFrame
    x_test: pd.DataFrame
    y_test: pd.DataFrame


def _five_digits(value: float) -> float:
    """Five significant digits: what the CSV shows and what the candidate lists repeat exactly."""
    return float(f"{value:.5g}")


def _base_table() -> tuple[pd.DataFrame, pd.Series]:
    source = load_breast_cancer(as_frame=True)
    frame = source.frame
    table = pd.DataFrame({name: frame[column].map(_five_digits) for column, (name, _) in NUMERIC_COLUMNS.items()})
    for column, (name, grades, _) in CATEGORICAL_COLUMNS.items():
        table[name] = pd.qcut(frame[column], q=len(grades), labels=list(grades)).astype(str)
    diagnosis = frame["target"].map({0: "malignant", 1: "benign"})
    return table, diagnosis


def _numeric_candidates(rng: np.random.Generator, value: float) -> list[float]:
    options = {value, _five_digits(value * 10), _five_digits(value / 10), 0.0}
    ordered = sorted(options)
    return [ordered[index] for index in rng.permutation(len(ordered))]


def _categorical_candidates(rng: np.random.Generator, value: str, grades: tuple[str, ...]) -> list[str]:
    others = [grade for grade in grades if grade != value]
    pair = [value, others[int(rng.integers(len(others)))]]
    return [pair[index] for index in rng.permutation(2)]


def _dirty_table(rng: np.random.Generator, clean: pd.DataFrame, malignant: np.ndarray) -> pd.DataFrame:
    """The training table with JSON candidate lists in the dirty cells (text, as to_csv will write it)."""
    weights = [weight for _, weight in NUMERIC_COLUMNS.values()] + [w for _, _, w in CATEGORICAL_COLUMNS.values()]
    probabilities = np.array(weights) / np.sum(weights)
    grades = {name: values for name, values, _ in CATEGORICAL_COLUMNS.values()}
    dirty = clean.astype(object)
    for row in range(len(clean)):
        if rng.random() >= DIRTY_SHARE["malignant" if malignant[row] else "benign"]:
            continue
        count = int(rng.integers(1, MAX_DIRTY_CELLS + 1))
        for column in rng.choice(len(weights), size=count, replace=False, p=probabilities):
            name = clean.columns[column]
            value: Any = clean.iat[row, column]
            if name in grades:
                candidates: list[Any] = _categorical_candidates(rng, str(value), grades[name])
            else:
                candidates = _numeric_candidates(rng, float(value))
            dirty.iat[row, column] = json.dumps(candidates)
    return dirty


def _draw(rng: np.random.Generator) -> Tables:
    table, diagnosis = _base_table()
    order = rng.permutation(len(table))
    n_train, n_val = SPLIT_SIZES
    parts = [order[:n_train], order[n_train : n_train + n_val], order[n_train + n_val :]]
    x = [table.iloc[rows].reset_index(drop=True) for rows in parts]
    y = [diagnosis.iloc[rows].reset_index(drop=True).to_frame(LABEL_COLUMN) for rows in parts]
    malignant = (y[0][LABEL_COLUMN] == "malignant").to_numpy()
    dirty = _dirty_table(rng, x[0], malignant)
    return Tables(dirty=dirty, clean=x[0], y_train=y[0], x_val=x[1], y_val=y[1], x_test=x[2], y_test=y[2])


def _write(out_dir: Path, tables: Tables, budget: float) -> None:
    files = {
        X_TRAIN_DIRTY: tables.dirty,
        X_TRAIN_CLEAN: tables.clean,
        Y_TRAIN: tables.y_train,
        X_VAL: tables.x_val,
        Y_VAL: tables.y_val,
        X_TEST: tables.x_test,
        Y_TEST: tables.y_test,
    }
    for name, frame in files.items():
        frame.to_csv(out_dir / name, lineterminator="\n")
    task = {"benchmark": "budget-cleaning", "config": {"budget": budget, "model": "logreg"}}
    (out_dir / TASK_FILE).write_text(yaml.safe_dump(task, sort_keys=False), encoding="utf-8")


def _usable(out_dir: Path) -> bool:
    """True when the clean model beats the dirty one on both splits (so gap closed is defined and meaningful)."""
    public = load_public(out_dir)
    models = fit_references(public, load_hidden(out_dir, public))
    return all(models.clean_accuracy[name] > models.dirty_accuracy[name] for name in models.clean_accuracy)


def generate_cleaning_task(out_dir: Path, *, budget: float = 0.2, seed: int = 0) -> None:
    """Write a complete budget-cleaning task directory into `out_dir` (created if needed).

    Deterministic: the same arguments write byte-identical files. Raises `ValueError` if no usable draw is
    found (never observed: the first or second draw is usable).
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    for attempt in range(_MAX_ATTEMPTS):
        _write(out_dir, _draw(np.random.default_rng([seed, attempt])), budget)
        if _usable(out_dir):
            return
    raise ValueError(f"no draw with a positive accuracy gap on both splits in {_MAX_ATTEMPTS} attempts")


# --- baselines ---------------------------------------------------------------------------------------------


def baseline_selections(task_dir: Path, *, seed: int = 0) -> dict[str, list[str]]:
    """Named selections of row ids within the budget, deterministic for a seed.

    `random`: uniformly drawn rows; `most-dirty-first`: the rows with the most dirty cells, ties in file
    order; `no-cleaning`: nothing (scores 0 by definition: the dirty model itself).
    """
    budget = float(load_task_dir(task_dir).config["budget"])
    ids = list(row_ids(task_dir / X_TRAIN_DIRTY))
    dirty = load_public(task_dir).dirty
    counts = dirty.map(lambda value: isinstance(value, list)).to_numpy().sum(axis=1)
    limit = int(budget * len(ids))
    rng = np.random.default_rng(seed)
    random_rows = sorted(rng.choice(len(ids), size=limit, replace=False).tolist())
    most_dirty = sorted(range(len(ids)), key=lambda row: (-counts[row], row))[:limit]
    return {
        "random": [ids[row] for row in random_rows],
        "most-dirty-first": [ids[row] for row in most_dirty if counts[row] > 0],
        "no-cleaning": [],
    }


# --- The demo protocol of `evaluators.demo` -----------------------------------------------------------------

DEMO_TASKS = [
    DemoTask(
        slug="budget-cleaning-breast-cancer",
        title="Cleaning under a budget: tumour measurements",
        ml_task="tabular",
        config={"budget": 0.2, "model": "logreg"},
        description=(
            "A table of 300 tumour measurements (Wisconsin breast-cancer data) has errors: in "
            "`X_train_dirty.csv` every dirty cell holds the JSON list of its candidate repairs, e.g. "
            '`"[0.1471, 1.471, 0.0, 0.01471]"`. You may have at most **20 %** of the rows (60) cleaned by an '
            "expert. A fixed logistic regression (mean imputation, min-max scaling, one-hot encoding) is "
            "trained on the table with your rows cleaned; the score is the share of the accuracy gap between "
            "the dirty and the fully clean table that your cleaning closes on the hidden test set.\n\n"
            "Submit a CSV with the header `id` and one row id (the first column of `X_train_dirty.csv`) per "
            "line. The validation split (`X_val.csv`, `y_val.csv`) is yours to guide the choice."
        ),
    )
]


def generate_task(out_dir: Path, *, config: Mapping[str, Any], seed: int = 0, small: bool = False) -> None:
    """A complete task directory for `config` (`budget`); the table is small already, so `small` changes
    nothing (scoring takes a fraction of a second)."""
    generate_cleaning_task(out_dir, budget=float(config.get("budget", 0.2)), seed=seed)


def write_baselines(task_dir: Path, out_dir: Path, *, seed: int = 0) -> dict[str, Path]:
    """The baseline selections of `baseline_selections`, written as CSV files (header `id`) into `out_dir`."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = {}
    for name, selection in baseline_selections(task_dir, seed=seed).items():
        path = out_dir / f"{name}.csv"
        path.write_text("\n".join(["id", *selection]) + "\n", encoding="utf-8")
        written[name] = path
    return written
