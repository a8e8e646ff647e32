"""Task files of budget-cleaning: the DCBench budgetclean artifacts, as CSV.

Every file is a `DataFrame.to_csv` output: the row index as first, unnamed column, then the columns. In
`X_train_dirty.csv` a dirty cell holds a JSON list of candidate repairs (`"[5.43, 0.43, 0.0]"`,
`"[""green"", ""red""]"`). Loading is DCBench's `CSVArtifact.load`: `pandas.read_csv(path, index_col=0)`,
then every string cell that parses with `json.loads` is replaced by the parsed value.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from evaluators.base import TaskConfigError

X_TRAIN_DIRTY = "X_train_dirty.csv"
X_TRAIN_CLEAN = "X_train_clean.csv"
Y_TRAIN = "y_train.csv"
X_VAL = "X_val.csv"
Y_VAL = "y_val.csv"
X_TEST = "X_test.csv"
Y_TEST = "y_test.csv"
MAX_TASK_FILE_BYTES = 2 * 1024**3


def parse_cell(value: Any) -> Any:
    """DCBench's `parselists`: a string that is JSON becomes the parsed value, anything else stays."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def clear_list(value: Any) -> Any:
    """DCBench's `clearlists`: a dirty cell (a list of candidate repairs) becomes missing (None)."""
    return None if isinstance(value, list) else value


def _check_size(path: Path) -> None:
    try:
        size = path.stat().st_size
    except FileNotFoundError as exc:
        raise TaskConfigError(f"{path}: missing task file") from exc
    except OSError as exc:
        raise TaskConfigError(f"{path}: cannot be read: {exc}") from exc
    if size > MAX_TASK_FILE_BYTES:
        raise TaskConfigError(f"{path}: larger than {MAX_TASK_FILE_BYTES} bytes")


def load_artifact(path: Path) -> pd.DataFrame:
    """Read one artifact as DCBench does; raise `TaskConfigError` on a missing or unreadable file."""
    _check_size(path)
    try:
        frame = pd.read_csv(path, index_col=0)
    except (OSError, ValueError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise TaskConfigError(f"{path}: cannot be read as CSV: {exc}") from exc
    if frame.shape[1] == 0:
        raise TaskConfigError(f"{path}: has no column besides the index")
    if len(frame) == 0:
        raise TaskConfigError(f"{path}: has no row")
    return frame.map(parse_cell)


def row_ids(path: Path) -> tuple[str, ...]:
    """The first field of every data row, as written: the ids a submission names the training rows by.

    Raw text rather than the parsed index, so that an id is exactly what a participant sees in the file.
    Raises `TaskConfigError` on an unreadable file, an empty id or a repeated id.
    """
    _check_size(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
        rows = [row for row in csv.reader(io.StringIO(text, newline="")) if row]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise TaskConfigError(f"{path}: cannot be read as CSV: {exc}") from exc
    ids = tuple(row[0].strip() for row in rows[1:])
    if "" in ids:
        raise TaskConfigError(f"{path}: a row has an empty index (the first column names the rows)")
    if len(set(ids)) != len(ids):
        raise TaskConfigError(f"{path}: an index value appears more than once (the first column names the rows)")
    return ids


def labels(frame: pd.DataFrame, path: Path) -> pd.DataFrame:
    """A label artifact: exactly one column, no missing value."""
    if frame.shape[1] != 1:
        raise TaskConfigError(f"{path}: a label file has exactly one column besides the index, found {frame.shape[1]}")
    if frame.iloc[:, 0].isna().any():
        raise TaskConfigError(f"{path}: a label is missing")
    return frame


def has_lists(frame: pd.DataFrame) -> bool:
    """True when any cell is a list (a dirty cell; only X_train_dirty.csv may hold them)."""
    return bool(frame.map(lambda value: isinstance(value, list)).to_numpy().any())


@dataclass(frozen=True)
class PublicTables:
    """The participants' inputs, loaded as DCBench loads them."""

    dirty: pd.DataFrame
    """X_train_dirty.csv as loaded (dirty cells are lists)."""
    cleared: pd.DataFrame
    """The same with every dirty cell missing (pandas re-infers the column types)."""
    y_train: pd.DataFrame
    x_val: pd.DataFrame
    y_val: pd.DataFrame


def _same_columns(frame: pd.DataFrame, reference: pd.DataFrame, path: Path) -> None:
    if list(frame.columns) != list(reference.columns):
        raise TaskConfigError(f"{path}: its columns {list(frame.columns)} differ from those of {X_TRAIN_DIRTY}")


def _same_length(frame: pd.DataFrame, other: pd.DataFrame, path: Path, other_name: str) -> None:
    if len(frame) != len(other):
        raise TaskConfigError(f"{path}: {len(frame)} rows, but {other_name} has {len(other)}")


def _features(path: Path, dirty: pd.DataFrame | None) -> pd.DataFrame:
    """A feature table other than X_train_dirty.csv: the training columns and no dirty cell."""
    frame = load_artifact(path)
    if dirty is not None:
        _same_columns(frame, dirty, path)
    if has_lists(frame):
        raise TaskConfigError(f"{path}: holds lists; only {X_TRAIN_DIRTY} may hold dirty cells")
    return frame


def load_public(task_dir: Path) -> PublicTables:
    """Read and check the public tables; raise `TaskConfigError` on any inconsistency."""
    dirty = load_artifact(task_dir / X_TRAIN_DIRTY)
    if not dirty.index.is_unique:
        raise TaskConfigError(f"{task_dir / X_TRAIN_DIRTY}: an index value appears more than once")
    y_train = labels(load_artifact(task_dir / Y_TRAIN), task_dir / Y_TRAIN)
    _same_length(y_train, dirty, task_dir / Y_TRAIN, X_TRAIN_DIRTY)
    x_val = _features(task_dir / X_VAL, dirty)
    y_val = labels(load_artifact(task_dir / Y_VAL), task_dir / Y_VAL)
    _same_length(y_val, x_val, task_dir / Y_VAL, X_VAL)
    return PublicTables(dirty=dirty, cleared=dirty.map(clear_list), y_train=y_train, x_val=x_val, y_val=y_val)


@dataclass(frozen=True)
class HiddenTables:
    """The hidden tables: the repaired training features and the test split."""

    clean: pd.DataFrame
    x_test: pd.DataFrame
    y_test: pd.DataFrame


def load_hidden(task_dir: Path, public: PublicTables) -> HiddenTables:
    """Read and check the hidden tables against the public ones; raise `TaskConfigError`."""
    clean = _features(task_dir / X_TRAIN_CLEAN, public.dirty)
    if not clean.index.equals(public.dirty.index):
        raise TaskConfigError(f"{task_dir / X_TRAIN_CLEAN}: its index differs from that of {X_TRAIN_DIRTY}")
    x_test = _features(task_dir / X_TEST, public.dirty)
    y_test = labels(load_artifact(task_dir / Y_TEST), task_dir / Y_TEST)
    _same_length(y_test, x_test, task_dir / Y_TEST, X_TEST)
    return HiddenTables(clean=clean, x_test=x_test, y_test=y_test)
