"""Parsing and checking a training-set-creation submission: `labels.csv` (`item,label`), plus the image files
(image tasks) or `features.csv` (feature tasks) of the new items it lists.

Every rule (README.md, "Validation") becomes a `SubmissionError` naming the file, the line, the value and the
rule. Problems of the same stage are reported together (see `problems.py`), so a
participant fixes them in one round: first the rows of `labels.csv` and `features.csv`, then the images
(every undecodable file is named, not only the first).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from evaluators.base import SubmissionError
from evaluators.inputs import read_text_file, safe_text, show
from evaluators.training_set_creation.data import is_image_item
from evaluators.training_set_creation.features_file import NewFeatures, read_new_features
from evaluators.training_set_creation.images import FeatureArray, read_features_of_files
from evaluators.training_set_creation.item_csv import Problems, Row, parse_labels_csv
from evaluators.training_set_creation.submission_files import (
    FEATURES_FILE,
    SubmissionFiles,
    case_hint,
    escapes_root,
    is_ignored,
    locate,
    path_problem,
)
from evaluators.training_set_creation.task import TrainingTask

MAX_LABELS_BYTES = 20 * 1024 * 1024


@dataclass(frozen=True, eq=False)
class TrainingSet:
    """A valid submission: items in `labels.csv` order, label indexes, one feature row per item."""

    items: tuple[str, ...]
    labels: npt.NDArray[np.int64]
    features: FeatureArray
    is_new: npt.NDArray[np.bool_]

    @property
    def n_items(self) -> int:
        """The number of listed items (what `max_items` limits)."""
        return len(self.items)

    @property
    def n_new(self) -> int:
        """The number of new items (images or feature rows supplied by the participant)."""
        return int(self.is_new.sum())


def _image_item_problem(task: TrainingTask, files: SubmissionFiles, item: str) -> str | None:
    if task.config.input != "image":
        return "this task takes feature vectors (features.csv), not image files"
    if not task.config.allow_new_items:
        return "this task accepts only items of the pool (by id), not new images"
    problem = path_problem(item)
    if problem is not None:
        return problem
    if files.root is None:
        return "a single uploaded file cannot hold images: upload a zip or tar.gz of labels.csv and the images"
    if not files.exists(item):
        return "no such file in the submission" + case_hint(files, item)
    if escapes_root(files.root, item):
        return "the file is a link to a place outside the submission"
    if not (files.root / item).is_file():
        # A FIFO or device would block or stream forever when decoded; the platform's unpacker refuses them too.
        return "not a regular file"
    return None


def _id_item_problem(task: TrainingTask, new: NewFeatures | None, item: str) -> str | None:
    if item in task.pool.row_of or (new is not None and item in new.row_of):
        return None
    if task.config.input == "features":
        if not task.config.allow_new_items:
            return "not an id of the pool (this task accepts only pool items)"
        return f"neither an id of the pool nor an item of {FEATURES_FILE}"
    hint = " (new images must be PNG files whose name ends in .png)" if "/" in item or "." in item else ""
    return "not an id of the pool" + hint


def check_rows(task: TrainingTask, files: SubmissionFiles, new: NewFeatures | None, rows: list[Row]) -> None:
    """Check every row's label, item and uniqueness; raise one `SubmissionError` listing the problems."""
    name = files.labels.name
    problems = Problems()
    first_line: dict[str, int] = {}
    for row in rows:
        where = f"{name} line {row.line}: item {show(row.item)}"
        if row.label not in task.label_index:
            hint = " (labels are case-sensitive)" if row.label.lower() in task.label_index else ""
            labels = ", ".join(task.config.labels[:30])
            problems.add(
                f"{name} line {row.line}: label {show(row.label)} is not a label of this task{hint}; the labels "
                f"are {labels}"
            )
        if row.item in first_line:
            problems.add(f"{where} is listed twice (first on line {first_line[row.item]}); list every item once")
            continue
        first_line[row.item] = row.line
        if not row.item:
            problems.add(f"{name} line {row.line}: the item is empty")
            continue
        is_image = is_image_item(row.item) and row.item not in task.pool.row_of
        problem = _image_item_problem(task, files, row.item) if is_image else _id_item_problem(task, new, row.item)
        if problem is not None:
            problems.add(f"{where}: {problem}")
    problems.raise_if_any()


def check_unlisted(task: TrainingTask, files: SubmissionFiles, rows: list[Row], new: NewFeatures | None) -> None:
    """Reject image files (and feature rows) that `labels.csv` does not list: they would silently not count."""
    listed = {row.item for row in rows}
    problems = Problems()
    for relative in sorted(files.files):
        if is_image_item(relative) and not is_ignored(relative) and relative not in listed:
            # The name as the file system gives it: undecodable bytes would make the message unstorable.
            shown = safe_text(relative)
            if task.config.input == "features":
                problems.add(f"{shown}: this task takes feature vectors, not images; remove the file")
            else:
                problems.add(f"{shown}: an image file that {files.labels.name} does not list; list it or remove it")
    if new is not None:
        for item, line in new.lines.items():
            if item not in listed:
                problems.add(f"{FEATURES_FILE} line {line}: item {show(item)} is not listed in {files.labels.name}")
    problems.raise_if_any()


def _check_budget(task: TrainingTask, rows: list[Row], name: str) -> None:
    if len(rows) > task.config.max_items:
        raise SubmissionError(
            f"{name} lists {len(rows)} items, more than max_items = {task.config.max_items} (pool items and new "
            "items together)"
        )


def _check_two_labels(rows: list[Row], name: str) -> None:
    if len({row.label for row in rows}) < 2:
        raise SubmissionError(
            f"{name}: every item has the label {show(rows[0].label)}; the fixed models need items of at least "
            "two labels"
        )


def _decode_images(task: TrainingTask, files: SubmissionFiles, rows: list[Row]) -> dict[str, FeatureArray]:
    image_rows = [row for row in rows if is_image_item(row.item) and row.item not in task.pool.row_of]
    if not image_rows or files.root is None or task.config.image_size is None:
        return {}
    root = files.root
    matrix, failures = read_features_of_files([root / row.item for row in image_rows], task.config.image_size)
    problems = Problems()
    for index, reason in failures:
        row = image_rows[index]
        problems.add(f"{row.item} ({files.labels.name} line {row.line}): {reason}")
    problems.raise_if_any()
    return {row.item: matrix[index] for index, row in enumerate(image_rows)}


def _assemble(
    task: TrainingTask, rows: list[Row], images: dict[str, FeatureArray], new: NewFeatures | None
) -> TrainingSet:
    features = np.empty((len(rows), task.dim), dtype=np.float64)
    is_new = np.zeros(len(rows), dtype=np.bool_)
    for index, row in enumerate(rows):
        pool_row = task.pool.row_of.get(row.item)
        if pool_row is not None:
            features[index] = task.pool.features[pool_row]
        elif row.item in images:
            features[index], is_new[index] = images[row.item], True
        elif new is not None:
            features[index], is_new[index] = new.features[new.row_of[row.item]], True
    return TrainingSet(
        items=tuple(row.item for row in rows),
        labels=np.asarray([task.label_index[row.label] for row in rows], dtype=np.int64),
        features=features,
        is_new=is_new,
    )


def parse_training_set(task: TrainingTask, path: Path) -> TrainingSet:
    """Read and check a submission (directory, or a lone labels file); raise `SubmissionError`.

    Reads only the submission and the task's public pool (already loaded in `task`).
    """
    files = locate(path)
    name = files.labels.name
    rows = parse_labels_csv(read_text_file(files.labels, max_bytes=MAX_LABELS_BYTES, label=name), name)
    _check_budget(task, rows, name)
    new = read_new_features(task, files)
    check_rows(task, files, new, rows)
    _check_two_labels(rows, name)
    check_unlisted(task, files, rows, new)
    images = _decode_images(task, files, rows)
    return _assemble(task, rows, images, new)
