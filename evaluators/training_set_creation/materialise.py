"""A validated training-set-creation submission as a self-contained item table, for the data ratchet.

The ratchet (the DataPerf paper's training-set and test-set tasks improving each other in rounds) turns a
participant's training set into a training set of the adversarial-test-set benchmark's model suite
(`suite/<name>/`), and promotes validated test items into a training-set task's `test/items.csv`. Both take
the item table format of `data.py`: `items.csv` (`id,label`, plus one column per feature in feature tasks) and,
for image tasks, `images/<id>.png`.

Nothing here changes how this benchmark validates or scores: these functions only write files.
"""

from __future__ import annotations

import csv
import hashlib
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from evaluators.base import EvaluatorError
from evaluators.training_set_creation.data import IMAGES_DIR, ITEMS_FILE, POOL_DIR, is_valid_id
from evaluators.training_set_creation.images import ImageRejected, image_features
from evaluators.training_set_creation.submission_files import locate
from evaluators.training_set_creation.task import TrainingTask
from evaluators.training_set_creation.validation import TrainingSet

NEW_ID_PREFIX = "n_"
NEW_ID_HEX_DIGITS = 16

ItemRow = tuple[str, str] | tuple[str, str, Sequence[float]]
"""A row of an item table: (id, label) in image tasks, (id, label, feature values) in feature tasks."""


def format_feature(value: float) -> str:
    """A feature value as written to an item table: `repr(float(value))`, the shortest text that reads back as
    the same float64, so that a written table gives the models exactly the vectors they were given."""
    return repr(float(value))


def features_text(values: Sequence[float] | np.ndarray) -> str:
    """A feature vector as text: its values, each `format_feature`, joined by ","."""
    return ",".join(format_feature(value) for value in values)


def _row_cells(row: ItemRow, feature_names: Sequence[str] | None) -> list[str]:
    if feature_names is None:
        if len(row) != 2:
            raise ValueError(f"row {row[0]!r}: an image task's row is (id, label)")
        return [row[0], row[1]]
    if len(row) != 3:
        raise ValueError(f"row {row[0]!r}: a feature task's row is (id, label, values)")
    values = row[2]
    if len(values) != len(feature_names):
        raise ValueError(f"row {row[0]!r}: {len(values)} values for {len(feature_names)} feature names")
    return [row[0], row[1], *(format_feature(value) for value in values)]


def write_items_csv(path: Path, rows: Sequence[ItemRow], feature_names: Sequence[str] | None = None) -> None:
    """Write an item table `items.csv` (UTF-8, "\\n" line ends): header `id,label` (then `feature_names`, for a
    feature task), one row per item in the given order. Values are written with `format_feature`.

    The file is replaced atomically (written beside it, then renamed), so a reader never sees half a table: the
    platform adds promoted rows to a live `test/items.csv` by writing the old rows and the new ones. Raises
    `ValueError` for an invalid or repeated id, an empty label, or a row of the wrong shape.
    """
    seen: set[str] = set()
    lines: list[list[str]] = []
    for row in rows:
        if not is_valid_id(row[0]):
            raise ValueError(f"{row[0]!r} is not a valid item id (letters, digits, _ . -; not *.png)")
        if row[0] in seen:
            raise ValueError(f"the id {row[0]!r} appears twice")
        if not row[1]:
            raise ValueError(f"row {row[0]!r}: the label is empty")
        seen.add(row[0])
        lines.append(_row_cells(row, feature_names))
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    with partial.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["id", "label", *(feature_names or ())])
        writer.writerows(lines)
    os.replace(partial, path)


def new_item_id(data: bytes) -> str:
    """The id of a new item in a materialised table: `n_` and the first 16 hex digits of the SHA-256 of its bytes
    (a PNG file's bytes, or the UTF-8 of `features_text`)."""
    return NEW_ID_PREFIX + hashlib.sha256(data).hexdigest()[:NEW_ID_HEX_DIGITS]


def _unique(item_id: str, taken: set[str]) -> str:
    """`item_id`, or `item_id_2`, `_3`, ... when taken: a training set may hold copies of one image."""
    candidate, copy = item_id, 1
    while candidate in taken:
        copy += 1
        candidate = f"{item_id}_{copy}"
    taken.add(candidate)
    return candidate


def _new_image_bytes(task: TrainingTask, parsed: TrainingSet, index: int, root: Path) -> bytes:
    """The bytes of a new image as submitted, checked against what `validate` decoded from it."""
    path = root / parsed.items[index]
    try:
        data = path.read_bytes()
        unchanged = np.array_equal(image_features(path, task.config.image_size or 0), parsed.features[index])
    except (OSError, ImageRejected) as exc:
        raise EvaluatorError(f"{parsed.items[index]}: cannot be read again ({exc})") from exc
    if not unchanged:
        raise EvaluatorError(f"{parsed.items[index]}: the file changed after the submission was validated")
    return data


def _image_row(
    task: TrainingTask, parsed: TrainingSet, index: int, root: Path | None, taken: set[str]
) -> tuple[str, bytes]:
    """The id and PNG bytes of row `index` of an image task's training set."""
    item = parsed.items[index]
    if not parsed.is_new[index]:
        return item, (task.task_dir / POOL_DIR / IMAGES_DIR / f"{item}.png").read_bytes()
    if root is None:  # unreachable: _submission_root requires a directory when the set holds new images
        raise ValueError("the training set holds new images: pass the submission directory as submission_path")
    data = _new_image_bytes(task, parsed, index, root)
    return _unique(new_item_id(data), taken), data


def _submission_root(task: TrainingTask, parsed: TrainingSet, submission_path: Path | None) -> Path | None:
    if task.config.input != "image" or not parsed.n_new:
        return None
    if submission_path is None:
        raise ValueError("the training set holds new images: pass the submission directory as submission_path")
    root = locate(submission_path).root
    if root is None:
        raise ValueError(f"{submission_path}: a lone labels file holds no images")
    return root


def materialise_training_set(
    task: TrainingTask, parsed: TrainingSet, out_dir: Path, *, submission_path: Path | None = None
) -> int:
    """Write `parsed` (a submission `validate` accepted for `task`) as a self-contained item table in `out_dir`:
    `items.csv` (`id,label`, plus the feature columns in feature tasks) and, for image tasks, `images/<id>.png`.
    Returns the number of rows.

    Rows keep the order of `labels.csv`, so that a model fitted on the table is fitted exactly as this benchmark
    fits it. Pool items keep their ids and, in image tasks, their pool image's bytes; new items get
    `new_item_id` of their bytes (`_2`, `_3`, ... for further copies), and, in image tasks, the submitted PNG
    file's bytes. Feature values are written with `format_feature` (they read back bit for bit).

    `submission_path` (the directory `validate` read) is needed when the set holds new images: call this while it
    still exists. Raises `ValueError` without it, and `EvaluatorError` when a new image can no longer be read or
    has changed since validation.
    """
    root = _submission_root(task, parsed, submission_path)
    image_task = task.config.input == "image"
    # Pool ids first: a new item's id gives way to a pool item's, never the other way round.
    taken = {item for item, new in zip(parsed.items, parsed.is_new.tolist(), strict=True) if not new}
    rows: list[ItemRow] = []
    for index, item in enumerate(parsed.items):
        label = task.config.labels[int(parsed.labels[index])]
        if image_task:
            item_id, data = _image_row(task, parsed, index, root, taken)
            target = out_dir / IMAGES_DIR / f"{item_id}.png"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            rows.append((item_id, label))
        else:
            values = parsed.features[index].tolist()
            item_id = _unique(new_item_id(features_text(values).encode()), taken) if parsed.is_new[index] else item
            rows.append((item_id, label, values))
    write_items_csv(out_dir / ITEMS_FILE, rows, None if image_task else task.pool.feature_names)
    return len(rows)
