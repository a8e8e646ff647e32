"""Task files of training-set-creation: the item tables of the pool (public) and of the test set (hidden).

`<split>/items.csv` (split = `pool` or `test`) is a UTF-8 CSV file. Image tasks: header `id,label`, and the
image of item `<id>` is `<split>/images/<id>.png`. Feature tasks: header `id,label,<name>,...` (one column
per feature, the same names in the same order in both splits), values finite decimal numbers. Ids match
`ID_PATTERN` (they name files) and are unique within a split; labels are labels of the task's config.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from evaluators.base import TaskConfigError
from evaluators.training_set_creation.images import FeatureArray, read_features_of_files

POOL_DIR = "pool"
TEST_DIR = "test"
ITEMS_FILE = "items.csv"
IMAGES_DIR = "images"
ID_PATTERN = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-]{0,127}")
MAX_TABLE_BYTES = 2 * 1024**3
MAX_FEATURE_ABS = 1e6
"""Feature values beyond this magnitude are refused: they make the fixed models overflow or stall."""
RESERVED_COLUMNS = frozenset({"id", "label", "item"})
_SHOWN_PROBLEMS = 5


@dataclass(frozen=True, eq=False)
class ItemTable:
    """One split: ids in file order, label indexes (into the config's labels), features (row i = ids[i])."""

    ids: tuple[str, ...]
    labels: npt.NDArray[np.int64]
    features: FeatureArray
    feature_names: tuple[str, ...]
    row_of: dict[str, int]

    @property
    def dim(self) -> int:
        """The number of features of an item."""
        return int(self.features.shape[1])


def is_image_item(item: str) -> bool:
    """True for an item naming a PNG file (`*.png`, any case); everything else is an id."""
    return item.lower().endswith(".png")


def is_valid_id(item: str) -> bool:
    """True for a usable item id: `ID_PATTERN` and not a PNG file name."""
    return ID_PATTERN.fullmatch(item) is not None and not is_image_item(item)


def _read_rows(path: Path) -> list[list[str]]:
    try:
        if path.stat().st_size > MAX_TABLE_BYTES:
            raise TaskConfigError(f"{path}: larger than {MAX_TABLE_BYTES} bytes")
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError as exc:
        raise TaskConfigError(f"{path}: missing task file") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise TaskConfigError(f"{path}: cannot be read as UTF-8 text: {exc}") from exc
    try:
        return list(csv.reader(text.splitlines()))
    except csv.Error as exc:
        raise TaskConfigError(f"{path}: not a valid CSV file: {exc}") from exc


def _feature_names(path: Path, header: list[str], features: bool) -> tuple[str, ...]:
    if header[:2] != ["id", "label"]:
        raise TaskConfigError(f"{path}: the header must start with id,label, got {','.join(header[:2])!r}")
    names = tuple(header[2:])
    if not features:
        if names:
            raise TaskConfigError(f"{path}: an image task's header is exactly id,label")
        return names
    if not names:
        raise TaskConfigError(f"{path}: a feature task's header is id,label followed by the feature names")
    if len(set(names)) != len(names) or any(not n or n in RESERVED_COLUMNS for n in names):
        raise TaskConfigError(f"{path}: feature names must be unique, non-empty and not id, label or item")
    return names


def _ids_and_labels(path: Path, rows: list[list[str]], width: int, label_index: dict[str, int]) -> list[int]:
    labels: list[int] = []
    seen: set[str] = set()
    for line, row in enumerate(rows, start=2):
        if len(row) != width:
            raise TaskConfigError(f"{path} line {line}: {len(row)} fields, the header has {width}")
        item, label = row[0], row[1]
        if not is_valid_id(item):
            raise TaskConfigError(f"{path} line {line}: {item!r} is not a valid id ({ID_PATTERN.pattern}, not *.png)")
        if item in seen:
            raise TaskConfigError(f"{path} line {line}: the id {item!r} appears twice")
        seen.add(item)
        if label not in label_index:
            raise TaskConfigError(f"{path} line {line}: label {label!r} is not one of the task's labels")
        labels.append(label_index[label])
    return labels


def parse_feature_block(cells: list[list[str]]) -> tuple[FeatureArray, tuple[int, int] | None]:
    """Cells (rows of decimal strings) as a float64 matrix, and the first bad cell (row, column) or None.

    A cell is bad when it is not a decimal number, is not finite or exceeds `MAX_FEATURE_ABS` in magnitude.
    """
    width = len(cells[0]) if cells else 0
    try:
        matrix = np.array(cells, dtype=np.float64).reshape(len(cells), width)
    except (ValueError, OverflowError):
        matrix = np.zeros((len(cells), width), dtype=np.float64)
        for row, values in enumerate(cells):
            for column, value in enumerate(values):
                try:
                    matrix[row, column] = float(value)
                except (ValueError, OverflowError):
                    return matrix, (row, column)
    bad = ~np.isfinite(matrix) | (np.abs(matrix) > MAX_FEATURE_ABS)
    if bad.any():
        row, column = (int(v) for v in np.argwhere(bad)[0])
        return matrix, (row, column)
    return matrix, None


def _image_matrix(directory: Path, ids: list[str], size: int) -> FeatureArray:
    paths = [directory / IMAGES_DIR / f"{item}.png" for item in ids]
    matrix, failures = read_features_of_files(paths, size)
    if failures:
        shown = "; ".join(f"{paths[index]}: {reason}" for index, reason in failures[:_SHOWN_PROBLEMS])
        raise TaskConfigError(f"{len(failures)} image(s) of {directory} cannot be used: {shown}")
    return matrix


def read_item_table(
    directory: Path, labels: tuple[str, ...], *, image_size: int | None, feature_names: tuple[str, ...] | None = None
) -> ItemTable:
    """Read `<directory>/items.csv` (and the images, for an image task: `image_size` set).

    `feature_names`, when given, is what the header must list (the test set must match the pool). Raises
    `TaskConfigError` naming the file, the line and the rule.
    """
    path = directory / ITEMS_FILE
    rows = _read_rows(path)
    if not rows:
        raise TaskConfigError(f"{path}: empty file; a header is required")
    names = _feature_names(path, rows[0], features=image_size is None)
    if feature_names is not None and names != feature_names:
        raise TaskConfigError(f"{path}: the feature columns differ from those of {POOL_DIR}/{ITEMS_FILE}")
    body = rows[1:]
    label_index = {label: index for index, label in enumerate(labels)}
    label_ids = _ids_and_labels(path, body, 2 + len(names), label_index)
    ids = [row[0] for row in body]
    if image_size is not None:
        features = _image_matrix(directory, ids, image_size)
    else:
        features, bad = parse_feature_block([row[2:] for row in body])
        if bad is not None:
            row, column = bad
            raise TaskConfigError(
                f"{path} line {row + 2}: {names[column]} = {body[row][column + 2]!r} is not a finite number "
                f"of magnitude at most {MAX_FEATURE_ABS:g}"
            )
    return ItemTable(
        ids=tuple(ids),
        labels=np.asarray(label_ids, dtype=np.int64),
        features=features,
        feature_names=names,
        row_of={item: row for row, item in enumerate(ids)},
    )
