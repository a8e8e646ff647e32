"""Task files of debugging-vision: the embedding parquet files and the ground-truth CSV (original formats).

Per data id `<id>` (the layout of DS3Lab/dataperf-vision-debugging):

* `embeddings/<id>_train_<noise_level>_<train_size>.parquet`: the noisy training set given to participants;
* `embeddings/<id>_val_<val_size>.parquet`: a clean validation set for participants (not used in scoring);
* `embeddings/<id>_test_<test_size>.parquet`: the hidden clean test set;
* `data/dataset_<id>_train.csv`: the hidden ground truth, header `ImageID,hv_label`.

A parquet file has the columns `filename` (the ImageID, a string), `encoding` (a list of 2048 floats) and
`label` (an integer, 0 or 1).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from evaluators.base import TaskConfigError

EMBEDDINGS_DIR = "embeddings"
GROUND_TRUTH_DIR = "data"
FILENAME_COLUMN = "filename"
ENCODING_COLUMN = "encoding"
LABEL_COLUMN = "label"
GT_ID_COLUMN = "ImageID"
GT_LABEL_COLUMN = "hv_label"
FEATURE_DIM = 2048
"""The input width of the fixed model (`Linear(2048, 128)`): every encoding must have it."""

FloatArray = npt.NDArray[np.float32]
LabelArray = npt.NDArray[np.uint8]


@dataclass(frozen=True)
class EmbeddingTable:
    """One parquet file: row i is parquet row i. `labels` are 0/1; `features` are float32, C-contiguous."""

    path: Path
    filenames: tuple[str, ...]
    features: FloatArray
    labels: LabelArray

    def __len__(self) -> int:
        return len(self.filenames)


@dataclass(frozen=True)
class GroundTruth:
    """The ground-truth CSV: the label of each ImageID (its first row wins, as in the reference lookup)."""

    path: Path
    label_of: dict[str, int]
    duplicated_ids: tuple[str, ...]
    """ImageIDs listed more than once with different labels (only the first row counts)."""


def train_file(data_id: str, noise_level: str, train_size: int) -> str:
    """The noisy training parquet of a data id, relative to the task directory."""
    return f"{EMBEDDINGS_DIR}/{data_id}_train_{noise_level}_{train_size}.parquet"


def val_file(data_id: str, val_size: int) -> str:
    """The clean validation parquet of a data id (public; not used in scoring)."""
    return f"{EMBEDDINGS_DIR}/{data_id}_val_{val_size}.parquet"


def hidden_test_file(data_id: str, test_size: int) -> str:
    """The hidden clean test parquet of a data id."""
    return f"{EMBEDDINGS_DIR}/{data_id}_test_{test_size}.parquet"


def ground_truth_file(data_id: str) -> str:
    """The hidden ground-truth CSV of a data id."""
    return f"{GROUND_TRUTH_DIR}/dataset_{data_id}_train.csv"


def _column(table: pa.Table, name: str, path: Path) -> pa.ChunkedArray:
    if name not in table.column_names:
        raise TaskConfigError(
            f"{path}: no column {name!r} (expected {FILENAME_COLUMN}, {ENCODING_COLUMN}, {LABEL_COLUMN})"
        )
    column = table.column(name)
    if column.null_count:
        raise TaskConfigError(f"{path}: column {name!r} has missing values")
    return column


def _filenames(table: pa.Table, path: Path) -> tuple[str, ...]:
    column = _column(table, FILENAME_COLUMN, path)
    if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
        raise TaskConfigError(f"{path}: column {FILENAME_COLUMN!r} must hold strings, not {column.type}")
    return tuple(column.to_pylist())


def _features(table: pa.Table, path: Path) -> FloatArray:
    """Stack the list column into an (n, 2048) float32 array without a Python loop over rows."""
    column = _column(table, ENCODING_COLUMN, path).combine_chunks()
    list_type = column.type
    is_list = pa.types.is_list(list_type) or pa.types.is_large_list(list_type)
    if not (is_list or pa.types.is_fixed_size_list(list_type)) or not pa.types.is_floating(list_type.value_type):
        raise TaskConfigError(f"{path}: column {ENCODING_COLUMN!r} must be a list of floats, not {list_type}")
    n_rows = len(column)
    if n_rows == 0:
        return np.empty((0, FEATURE_DIM), dtype=np.float32)
    lengths = pc.min_max(pc.list_value_length(column)).as_py()
    values = pc.list_flatten(column)
    if values.null_count or lengths["min"] != FEATURE_DIM or lengths["max"] != FEATURE_DIM:
        raise TaskConfigError(
            f"{path}: every {ENCODING_COLUMN!r} must be a vector of {FEATURE_DIM} numbers (the fixed model's input)"
        )
    flat = np.asarray(values.to_numpy(zero_copy_only=False))
    # The reference casts to float32 before training (a float64 file rounds exactly as numpy's astype does).
    features: FloatArray = np.ascontiguousarray(flat.reshape(n_rows, FEATURE_DIM), dtype=np.float32)
    if not np.isfinite(features).all():
        raise TaskConfigError(f"{path}: column {ENCODING_COLUMN!r} holds a NaN or infinite value")
    return features


def _labels(table: pa.Table, path: Path) -> LabelArray:
    column = _column(table, LABEL_COLUMN, path)
    if not pa.types.is_integer(column.type):
        raise TaskConfigError(f"{path}: column {LABEL_COLUMN!r} must hold integers 0 or 1, not {column.type}")
    values = np.asarray(column.to_numpy())
    if not np.isin(values, (0, 1)).all():
        raise TaskConfigError(f"{path}: column {LABEL_COLUMN!r} must hold only 0 and 1")
    return values.astype(np.uint8)


def read_embedding_table(path: Path) -> EmbeddingTable:
    """Read one embedding parquet file; raise `TaskConfigError` naming the file if missing or malformed."""
    if not path.is_file():
        raise TaskConfigError(f"{path}: missing task file")
    try:
        table = pq.read_table(path, columns=[FILENAME_COLUMN, ENCODING_COLUMN, LABEL_COLUMN], memory_map=True)
    except (OSError, ValueError, KeyError, pa.ArrowException) as exc:
        raise TaskConfigError(
            f"{path}: cannot be read as parquet with {FILENAME_COLUMN}, {ENCODING_COLUMN}, {LABEL_COLUMN}: {exc}"
        ) from exc
    return EmbeddingTable(
        path=path, filenames=_filenames(table, path), features=_features(table, path), labels=_labels(table, path)
    )


def _ground_truth_labels(frame: pd.DataFrame, path: Path) -> list[int]:
    numbers = pd.to_numeric(frame[GT_LABEL_COLUMN], errors="coerce")
    bad = ~numbers.isin((0, 1))
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise TaskConfigError(f"{path}: row {row + 2}: {GT_LABEL_COLUMN} must be 0 or 1")
    return [int(value) for value in numbers]


def read_ground_truth(path: Path) -> GroundTruth:
    """Read `dataset_<id>_train.csv`; raise `TaskConfigError` if it is missing or malformed.

    ImageIDs are read as text (pandas would turn an all-digit id into a number and lose it); labels must be
    0 or 1 (`1.0` is accepted, as pandas and the reference read it).
    """
    if not path.is_file():
        raise TaskConfigError(f"{path}: missing task file")
    try:
        frame = pd.read_csv(path, dtype={GT_ID_COLUMN: str}, keep_default_na=False)
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise TaskConfigError(f"{path}: cannot be read as CSV: {exc}") from exc
    if GT_ID_COLUMN not in frame.columns or GT_LABEL_COLUMN not in frame.columns:
        raise TaskConfigError(f"{path}: the header must name {GT_ID_COLUMN} and {GT_LABEL_COLUMN}")
    labels = _ground_truth_labels(frame, path)
    label_of: dict[str, int] = {}
    conflicting: dict[str, None] = {}
    for image_id, label in zip(frame[GT_ID_COLUMN].astype(str), labels, strict=True):
        first = label_of.setdefault(image_id, label)
        if first != label:
            conflicting[image_id] = None
    return GroundTruth(path=path, label_of=label_of, duplicated_ids=tuple(conflicting))


def truth_for_rows(truth: GroundTruth, filenames: tuple[str, ...], train_path: Path) -> LabelArray:
    """The true label of every training row, looked up by its filename; raise if one is missing."""
    labels = np.empty(len(filenames), dtype=np.uint8)
    for row, filename in enumerate(filenames):
        label = truth.label_of.get(filename)
        if label is None:
            raise TaskConfigError(f"{truth.path}: has no row for ImageID {filename!r} (row {row} of {train_path.name})")
        labels[row] = label
    return labels
