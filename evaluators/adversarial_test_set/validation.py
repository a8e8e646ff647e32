"""Parsing and checking an adversarial-test-set submission: training-set-creation's layout (`labels.csv` with
`item,label`, plus the new items' PNG files or `features.csv`), checked by training-set-creation's own rules
(`evaluators.training_set_creation.validation`, through `AdversarialTask.submission_rules`), and then by the
rules of this benchmark: 1 to `max_items` rows, any labels (no "two distinct labels" rule), and no two rows for
one item: a new item may not be a copy of a pool item or of another new item.

Problems of one stage are reported together, as training-set-creation does: the rows, then the images, then
the copies.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import numpy as np

from evaluators.adversarial_test_set.data import IndexArray
from evaluators.adversarial_test_set.keys import features_payload, item_key_of_features, item_key_of_png, vector_digest
from evaluators.adversarial_test_set.task import AdversarialTask
from evaluators.base import SubmissionError
from evaluators.inputs import read_text_file, show
from evaluators.training_set_creation.data import is_image_item
from evaluators.training_set_creation.features_file import NewFeatures, read_new_features
from evaluators.training_set_creation.images import FeatureArray, read_features_of_files
from evaluators.training_set_creation.item_csv import Problems, Row, parse_labels_csv
from evaluators.training_set_creation.submission_files import SubmissionFiles, locate
from evaluators.training_set_creation.validation import MAX_LABELS_BYTES, check_rows, check_unlisted


class ItemKind(StrEnum):
    """Where a submitted item comes from."""

    POOL = "pool"
    NEW = "new"


@dataclass(frozen=True)
class SubmittedItem:
    """One row of `labels.csv`.

    `key`: the pool id, or `new:<sha256>` (see `keys.py`); `source`: the pool id, the PNG file's path relative to
    the submission, or the row id of `features.csv`; `claimed`: the label index; `pool_row`: the item's pool row
    (pool items); `payload`: a new image's PNG file (read again when its bytes are needed) or a new feature row's
    canonical bytes (empty for pool items).
    """

    line: int
    key: str
    kind: ItemKind
    source: str
    claimed: int
    pool_row: int | None = None
    payload: Path | bytes = b""


@dataclass(frozen=True, eq=False)
class AdversarialItems:
    """A valid submission: the items in `labels.csv` order, and the preprocessed vectors of its new items (row i
    = the i-th new item in that order)."""

    items: tuple[SubmittedItem, ...]
    new_vectors: FeatureArray

    @property
    def new_items(self) -> list[SubmittedItem]:
        """The new items, in `labels.csv` order (row i of `new_vectors` is the i-th)."""
        return [item for item in self.items if item.kind is ItemKind.NEW]

    @property
    def claimed(self) -> IndexArray:
        """The claimed label index of every item, in order."""
        return np.asarray([item.claimed for item in self.items], dtype=np.int64)


@dataclass(frozen=True, eq=False)
class _NewItem:
    """A new item's preprocessed vector, key, and PNG file or canonical bytes (a feature row)."""

    vector: FeatureArray
    key: str
    payload: Path | bytes


def _check_budget(task: AdversarialTask, rows: list[Row], name: str) -> None:
    if len(rows) > task.config.max_items:
        raise SubmissionError(
            f"{name} lists {len(rows)} items, more than max_items = {task.config.max_items} (pool items and new "
            "items together)"
        )


def _read_images(task: AdversarialTask, files: SubmissionFiles, rows: list[Row]) -> dict[str, _NewItem]:
    """Every new image decoded (all undecodable files reported together) and keyed by its bytes."""
    image_rows = [row for row in rows if is_image_item(row.item) and row.item not in task.pool.row_of]
    if not image_rows or files.root is None or task.config.image_size is None:
        return {}
    paths = [(files.root / row.item).absolute() for row in image_rows]
    matrix, failures = read_features_of_files(paths, task.config.image_size)
    problems = Problems()
    for index, reason in failures:
        problems.add(f"{image_rows[index].item} ({files.labels.name} line {image_rows[index].line}): {reason}")
    problems.raise_if_any()
    images: dict[str, _NewItem] = {}
    for index, row in enumerate(image_rows):
        try:
            data = paths[index].read_bytes()
        except OSError as exc:
            problems.add(f"{row.item} ({files.labels.name} line {row.line}): cannot be read ({exc.strerror or exc})")
            continue
        images[row.item] = _NewItem(matrix[index], item_key_of_png(data), paths[index])
    problems.raise_if_any()
    return images


def _feature_rows(new: NewFeatures | None) -> dict[str, _NewItem]:
    """The rows of features.csv by id, keyed by their canonical text."""
    if new is None:
        return {}
    found: dict[str, _NewItem] = {}
    for item, row in new.row_of.items():
        vector = new.features[row]
        found[item] = _NewItem(vector, item_key_of_features(vector), features_payload(vector))
    return found


def _item(task: AdversarialTask, row: Row, new_items: dict[str, _NewItem]) -> SubmittedItem:
    """The row as an item: a pool id, else (check_rows accepted it) a new image or a row of features.csv."""
    claimed = task.label_index[row.label]
    pool_row = task.pool.row_of.get(row.item)
    if pool_row is not None:
        return SubmittedItem(row.line, row.item, ItemKind.POOL, row.item, claimed, pool_row=pool_row)
    new = new_items[row.item]
    return SubmittedItem(row.line, new.key, ItemKind.NEW, row.item, claimed, payload=new.payload)


def _sameness(task: AdversarialTask) -> str:
    if task.config.image_size is None:
        return "identical feature values"
    size = task.config.image_size
    return f"identical once preprocessed: grayscale, {size}x{size}"


def _check_copies(task: AdversarialTask, name: str, new_items: list[SubmittedItem], vectors: FeatureArray) -> None:
    """Reject a new item the models would see as a pool item, or as another new item: two rows for one item
    would earn its credit twice (and a copy of a pool item would dodge its human label)."""
    problems = Problems()
    first: dict[bytes, SubmittedItem] = {}
    for item, vector in zip(new_items, vectors, strict=True):
        where = f"{name} line {item.line}: item {show(item.source)}"
        pool_row = task.pool_row_of_vector(vector)
        earlier = first.setdefault(vector_digest(vector), item)
        if pool_row is not None:
            problems.add(
                f"{where} is the pool item {show(task.pool.ids[pool_row])} ({_sameness(task)}); list it by its id"
            )
        elif earlier is not item:
            same_file = earlier.key == item.key and task.config.image_size is not None
            how = "identical bytes" if same_file else _sameness(task)
            problems.add(
                f"{where} is the same item as {show(earlier.source)} on line {earlier.line} ({how}); list every "
                "item once"
            )
    problems.raise_if_any()


def parse_adversarial_items(task: AdversarialTask, path: Path) -> AdversarialItems:
    """Read and check a submission (a directory, or a lone labels file); raise `SubmissionError`.

    Reads only the submission and the task's public pool (already loaded in `task`).
    """
    files = locate(path)
    name = files.labels.name
    rows = parse_labels_csv(read_text_file(files.labels, max_bytes=MAX_LABELS_BYTES, label=name), name)
    _check_budget(task, rows, name)
    new = read_new_features(task.submission_rules, files)
    check_rows(task.submission_rules, files, new, rows)
    check_unlisted(task.submission_rules, files, rows, new)
    entries = {**_read_images(task, files, rows), **_feature_rows(new)}
    items = tuple(_item(task, row, entries) for row in rows)
    new_vectors = np.empty((len(entries), task.dim), dtype=np.float64)
    for index, item in enumerate(item for item in items if item.kind is ItemKind.NEW):
        new_vectors[index] = entries[item.source].vector
    parsed = AdversarialItems(items=items, new_vectors=new_vectors)
    _check_copies(task, name, parsed.new_items, parsed.new_vectors)
    return parsed
