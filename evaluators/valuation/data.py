"""Task files of valuation (no original format exists; see README.md), per pair `k`.

Public: `pairs/<k>/A.csv` (header: the feature names then `label`; the labelled data the buyer owns) and
`pairs/<k>/B.csv` (header: the same feature names; the unlabelled data on offer). Hidden:
`pairs/<k>/B_labels.csv` (header `label`, one row per row of B.csv, same order) and the test set,
`pairs/<k>/test.csv` or, for every pair without one, the shared `test.csv` (header as A.csv).

Labels are integers (class ids); features are finite numbers. Files are small tables, read with pandas.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd

from evaluators.base import TaskConfigError

PAIRS_DIR = "pairs"
A_FILE = "A.csv"
B_FILE = "B.csv"
B_LABELS_FILE = "B_labels.csv"
TEST_FILE = "test.csv"
LABEL_COLUMN = "label"
_MAX_TABLE_BYTES = 500_000_000

FloatMatrix = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Table:
    """Feature rows (float64, file order), their column names and, for labelled tables, integer labels."""

    features: FloatMatrix
    columns: tuple[str, ...]
    labels: IntArray | None

    def label_array(self) -> IntArray:
        """The labels of a labelled table (`TaskConfigError` for an unlabelled one: a programming slip)."""
        if self.labels is None:
            raise TaskConfigError("an unlabelled table was used as a labelled one")
        return self.labels


def pair_dir(task_dir: Path, pair: str) -> Path:
    """The directory of one pair's files."""
    return task_dir / PAIRS_DIR / pair


def _read_csv(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise TaskConfigError(f"{path}: missing task file")
    if path.stat().st_size > _MAX_TABLE_BYTES:
        raise TaskConfigError(f"{path}: larger than {_MAX_TABLE_BYTES} bytes")
    try:
        frame = pd.read_csv(path)
    except (OSError, ValueError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise TaskConfigError(f"{path}: cannot be read as CSV with a header: {exc}") from exc
    if frame.empty:
        raise TaskConfigError(f"{path}: holds no row")
    return frame


def _labels(frame: pd.DataFrame, path: Path) -> IntArray:
    column = frame[LABEL_COLUMN]
    if not pd.api.types.is_integer_dtype(column.dtype):
        raise TaskConfigError(f"{path}: column {LABEL_COLUMN!r} must hold integer class labels, found {column.dtype}")
    labels: IntArray = column.to_numpy(dtype=np.int64)
    return labels


def _features(frame: pd.DataFrame, columns: Sequence[str], path: Path) -> FloatMatrix:
    for name in columns:
        if not pd.api.types.is_numeric_dtype(frame[name].dtype) or pd.api.types.is_bool_dtype(frame[name].dtype):
            raise TaskConfigError(f"{path}: feature column {name!r} is not numeric")
    features: FloatMatrix = frame[list(columns)].to_numpy(dtype=np.float64)
    if not np.isfinite(features).all():
        raise TaskConfigError(f"{path}: a feature is missing, NaN or infinite")
    return features


def read_table(path: Path, *, labelled: bool, columns: Sequence[str] | None = None) -> Table:
    """Read a feature table (with a `label` column last if `labelled`); check the feature names if given."""
    frame = _read_csv(path)
    names = [str(name) for name in frame.columns]
    if len(set(names)) != len(names):
        raise TaskConfigError(f"{path}: a column name appears twice")
    if labelled:
        if not names or names[-1] != LABEL_COLUMN:
            raise TaskConfigError(f"{path}: the last column must be {LABEL_COLUMN!r}")
        names = names[:-1]
    elif LABEL_COLUMN in names:
        raise TaskConfigError(f"{path}: must not hold the {LABEL_COLUMN!r} column (public unlabelled data)")
    if not names:
        raise TaskConfigError(f"{path}: has no feature column")
    if columns is not None and tuple(names) != tuple(columns):
        raise TaskConfigError(f"{path}: the feature columns differ from those of {A_FILE}")
    return Table(
        features=_features(frame, names, path),
        columns=tuple(names),
        labels=_labels(frame, path) if labelled else None,
    )


def read_b_labels(path: Path, n_rows: int) -> IntArray:
    """The hidden labels of B, one per row of B.csv."""
    frame = _read_csv(path)
    if [str(name) for name in frame.columns] != [LABEL_COLUMN]:
        raise TaskConfigError(f"{path}: must have the single column {LABEL_COLUMN!r}")
    labels = _labels(frame, path)
    if len(labels) != n_rows:
        raise TaskConfigError(f"{path}: {len(labels)} labels for the {n_rows} rows of {B_FILE}")
    return labels


def held_out_path(task_dir: Path, pair: str) -> Path:
    """The pair's own test set if it has one, else the shared one."""
    own = pair_dir(task_dir, pair) / TEST_FILE
    return own if own.exists() else task_dir / TEST_FILE
