"""Task files of adversarial-test-set: the pool (public, no labels), the human labels of the pool and the labels
that human validation gave new items (both hidden).

* `pool/items.csv`: UTF-8 CSV. Image tasks: header `id`, and the image of item `<id>` is `pool/images/<id>.png`.
  Feature tasks: header `id,<name>,...`, values finite decimal numbers of magnitude at most `MAX_FEATURE_ABS`.
  Ids follow training-set-creation's syntax (`ID_PATTERN`, not `*.png`) and are unique.
* `train/items.csv` and `suite/<name>/items.csv`: training-set-creation's item tables (`id,label[,features]`),
  read by its own reader (`evaluators.training_set_creation.data.read_item_table`).
* `human_labels.csv`: `id,label`, one label of the config for every pool id and nothing else.
* `validated.csv` (optional): `key,label`, where key is `new:` + the SHA-256 of a new item's canonical bytes and
  label a label of the config, or empty: no label of the task fits that item.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import numpy as np
import numpy.typing as npt

from evaluators.base import TaskConfigError
from evaluators.training_set_creation.data import (
    ID_PATTERN,
    IMAGES_DIR,
    ITEMS_FILE,
    MAX_FEATURE_ABS,
    MAX_TABLE_BYTES,
    RESERVED_COLUMNS,
    ItemTable,
    is_valid_id,
    parse_feature_block,
)
from evaluators.training_set_creation.images import FeatureArray, read_features_of_files

POOL_DIR = "pool"
TRAIN_DIR = "train"
SUITE_DIR = "suite"
HUMAN_LABELS_FILE = "human_labels.csv"
VALIDATED_FILE = "validated.csv"
UNKNOWN_LABEL = -1
"""The label index of a pool item in the public pool table: this benchmark's pool carries no labels."""
NO_LABEL = -1
"""The label index `validated.csv` gives an item with an empty label: no label of the task fits it."""
NEW_KEY_PREFIX = "new:"
NEW_KEY_PATTERN = re.compile(r"new:[0-9a-f]{64}")
_SHOWN_PROBLEMS = 5

IndexArray = npt.NDArray[np.int64]


def read_csv_rows(path: Path) -> list[list[str]]:
    """The rows of a task's UTF-8 CSV file (a byte-order mark is allowed); `TaskConfigError` when it is missing,
    too large, not UTF-8 or not CSV."""
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


def _pool_feature_names(path: Path, header: list[str], features: bool) -> tuple[str, ...]:
    if not header or header[0] != "id":
        raise TaskConfigError(f"{path}: the header must start with id (the pool has no labels)")
    names = tuple(header[1:])
    if not features:
        if names:
            raise TaskConfigError(f"{path}: an image task's pool header is exactly id")
        return names
    if not names:
        raise TaskConfigError(f"{path}: a feature task's pool header is id followed by the feature names")
    if len(set(names)) != len(names) or any(not name or name in RESERVED_COLUMNS for name in names):
        raise TaskConfigError(f"{path}: feature names must be unique, non-empty and not id, label or item")
    return names


def _pool_ids(path: Path, rows: list[list[str]], width: int) -> list[str]:
    seen: set[str] = set()
    for line, row in enumerate(rows, start=2):
        if len(row) != width:
            raise TaskConfigError(f"{path} line {line}: {len(row)} fields, the header has {width}")
        if not is_valid_id(row[0]):
            raise TaskConfigError(f"{path} line {line}: {row[0]!r} is not a valid id ({ID_PATTERN.pattern}, not *.png)")
        if row[0] in seen:
            raise TaskConfigError(f"{path} line {line}: the id {row[0]!r} appears twice")
        seen.add(row[0])
    return [row[0] for row in rows]


def _pool_features(
    directory: Path, ids: list[str], body: list[list[str]], names: tuple[str, ...], image_size: int | None
) -> FeatureArray:
    if image_size is not None:
        paths = [directory / IMAGES_DIR / f"{item}.png" for item in ids]
        matrix, failures = read_features_of_files(paths, image_size)
        if failures:
            shown = "; ".join(f"{paths[index]}: {reason}" for index, reason in failures[:_SHOWN_PROBLEMS])
            raise TaskConfigError(f"{len(failures)} image(s) of {directory} cannot be used: {shown}")
        return matrix
    matrix, bad = parse_feature_block([row[1:] for row in body])
    if bad is not None:
        row, column = bad
        raise TaskConfigError(
            f"{directory / ITEMS_FILE} line {row + 2}: {names[column]} = {body[row][column + 1]!r} is not a finite "
            f"number of magnitude at most {MAX_FEATURE_ABS:g}"
        )
    return matrix


def read_pool(directory: Path, *, image_size: int | None) -> ItemTable:
    """The pool (`<directory>/items.csv`, and the images for an image task: `image_size` set), as an `ItemTable`
    whose labels are all `UNKNOWN_LABEL`. Images go through training-set-creation's preprocessing, so a pool
    item's vector is what that benchmark's models would see. Raises `TaskConfigError`."""
    path = directory / ITEMS_FILE
    rows = read_csv_rows(path)
    if not rows:
        raise TaskConfigError(f"{path}: empty file; a header is required")
    names = _pool_feature_names(path, rows[0], features=image_size is None)
    body = rows[1:]
    ids = _pool_ids(path, body, 1 + len(names))
    if not ids:
        raise TaskConfigError(f"{path}: the pool has no item")
    return ItemTable(
        ids=tuple(ids),
        labels=np.full(len(ids), UNKNOWN_LABEL, dtype=np.int64),
        features=_pool_features(directory, ids, body, names, image_size),
        feature_names=names,
        row_of={item: row for row, item in enumerate(ids)},
    )


def _label_rows(path: Path, header: tuple[str, str]) -> list[tuple[int, list[str]]]:
    rows = read_csv_rows(path)
    if not rows or rows[0] != list(header):
        raise TaskConfigError(f"{path}: the header must be {','.join(header)}")
    numbered = list(enumerate(rows[1:], start=2))
    for line, row in numbered:
        if len(row) != 2:
            raise TaskConfigError(f"{path} line {line}: expected {','.join(header)}")
    return numbered


def read_human_labels(path: Path, row_of: dict[str, int], label_index: dict[str, int]) -> IndexArray:
    """The human label index of every pool row; `TaskConfigError` unless the file gives exactly one label of the
    config to every pool id and nothing else."""
    human = np.full(len(row_of), UNKNOWN_LABEL, dtype=np.int64)
    for line, (item, label) in _label_rows(path, ("id", "label")):
        if item not in row_of:
            raise TaskConfigError(f"{path} line {line}: {item!r} is not an id of {POOL_DIR}/{ITEMS_FILE}")
        if label not in label_index:
            raise TaskConfigError(f"{path} line {line}: label {label!r} is not one of the task's labels")
        if human[row_of[item]] != UNKNOWN_LABEL:
            raise TaskConfigError(f"{path} line {line}: {item!r} has a second human label")
        human[row_of[item]] = label_index[label]
    missing = int((human == UNKNOWN_LABEL).sum())
    if missing:
        raise TaskConfigError(f"{path}: {missing} pool item(s) have no human label")
    return human


def read_validated(path: Path, label_index: dict[str, int]) -> dict[str, int]:
    """Key -> label index (`NO_LABEL` for an empty label) of every new item human validation has decided; an
    empty mapping when the file is absent (nothing decided yet). Raises `TaskConfigError` on a malformed key, an
    unknown label or a key given twice."""
    if not path.exists():
        return {}
    decided: dict[str, int] = {}
    for line, (key, label) in _label_rows(path, ("key", "label")):
        if NEW_KEY_PATTERN.fullmatch(key) is None:
            raise TaskConfigError(f"{path} line {line}: {key!r} is not a key new:<64 lower-case hex digits>")
        if label and label not in label_index:
            raise TaskConfigError(f"{path} line {line}: label {label!r} is not one of the task's labels (nor empty)")
        if key in decided:
            raise TaskConfigError(f"{path} line {line}: the key {key} appears twice")
        decided[key] = label_index[label] if label else NO_LABEL
    return decided
