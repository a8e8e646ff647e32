"""Plain functions the platform calls around an adversarial-test-set submission: per-item verdicts for the
participant's page, the bytes of new items to store for human validation, and the suite's predictions of
arbitrary items (the ratchet page reports "the suite's accuracy on this round's validated items").

`item_verdicts` and `predict_items` fit the suite on first use, which reads hidden files (`suite/<name>/`): call
them where `evaluate` may run. `ItemVerdict.predictions` are the predictions of every model of the suite, hidden
suite sets' models included: the platform decides whom to show them to. Nothing here reads a human label or a
validated label.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from evaluators.adversarial_test_set.data import POOL_DIR, IndexArray
from evaluators.adversarial_test_set.keys import item_key_of_png
from evaluators.adversarial_test_set.scoring import item_predictions, predict_new_items
from evaluators.adversarial_test_set.task import AdversarialTask
from evaluators.adversarial_test_set.validation import AdversarialItems
from evaluators.base import EvaluatorError
from evaluators.training_set_creation.data import IMAGES_DIR, MAX_FEATURE_ABS
from evaluators.training_set_creation.images import FeatureArray, ImageRejected, image_features


@dataclass(frozen=True)
class ItemVerdict:
    """What the suite makes of one submitted item (no human label involved).

    `key`: the pool id, or `new:<sha256>`; `kind`: "pool" or "new"; `claimed`: the claimed label; `source`: the
    pool id, or the item's PNG path relative to the submission, or its row id in `features.csv`; `predictions`:
    suite model name -> predicted label, in suite order; `fooled`: more than half of the suite predicts a label
    other than the claimed one; `line`: the item's line in `labels.csv`.
    """

    key: str
    kind: str
    claimed: str
    source: str
    predictions: dict[str, str]
    fooled: bool
    line: int


def item_verdicts(task: AdversarialTask, parsed: AdversarialItems) -> list[ItemVerdict]:
    """One verdict per item of a validated submission, in `labels.csv` order. Fits the suite on first use."""
    names = task.config.suite_names()
    labels = task.config.labels
    predictions = item_predictions(task, parsed, predict_new_items(task, [parsed]))
    verdicts = []
    for index, item in enumerate(parsed.items):
        column = predictions[:, index].tolist()
        verdicts.append(
            ItemVerdict(
                key=item.key,
                kind=str(item.kind),
                claimed=labels[item.claimed],
                source=item.source,
                predictions={name: labels[predicted] for name, predicted in zip(names, column, strict=True)},
                fooled=2 * sum(1 for predicted in column if predicted != item.claimed) > len(names),
                line=item.line,
            )
        )
    return verdicts


def new_item_payload(task: AdversarialTask, parsed: AdversarialItems, key: str) -> bytes:
    """The canonical bytes of the new item `key` of a validated submission, for the platform to store for human
    validation: the PNG file's bytes as submitted (read again: call this while the submission directory still
    exists), or the UTF-8 text of a feature row's values. Their SHA-256 is the key.

    Raises `KeyError` when `key` is not a new item of `parsed`, and `EvaluatorError` when the image can no longer
    be read or has changed since validation.
    """
    item = next((item for item in parsed.new_items if item.key == key), None)
    if item is None:
        raise KeyError(f"{key!r} is not a new item of this submission")
    if isinstance(item.payload, bytes):
        return item.payload
    try:
        data = item.payload.read_bytes()
    except OSError as exc:
        raise EvaluatorError(f"{item.source}: cannot be read again ({exc.strerror or exc})") from exc
    if item_key_of_png(data) != key:
        raise EvaluatorError(f"{item.source}: the file changed after the submission was validated")
    return data


def suite_names(task: AdversarialTask) -> list[str]:
    """The suite's model names in suite order: `config.models`, then `<suite_recipe>@<name>` per suite set."""
    return list(task.config.suite_names())


def pool_image_path(task: AdversarialTask, pool_id: str) -> Path:
    """The PNG file of a pool item (image tasks). Raises `KeyError` for an unknown id, `ValueError` in a feature
    task."""
    if task.config.input != "image":
        raise ValueError("a feature task's pool has no images")
    if pool_id not in task.pool.row_of:
        raise KeyError(f"{pool_id!r} is not an id of the pool")
    return task.task_dir / POOL_DIR / IMAGES_DIR / f"{pool_id}.png"


def feature_names(task: AdversarialTask) -> list[str]:
    """The feature names of a feature task, in column order (empty for an image task)."""
    return list(task.pool.feature_names)


def predict_items(task: AdversarialTask, vectors: FeatureArray) -> IndexArray:
    """The suite's predicted label indexes of preprocessed vectors (shape (n, dim), e.g. from
    `vector_of_payload`), shape (number of suite models, n), rows in suite order. Fits the suite on first use.
    Raises `ValueError` for vectors of another shape."""
    matrix = np.asarray(vectors, dtype=np.float64)
    if matrix.ndim != 2 or matrix.shape[1] != task.dim:
        raise ValueError(f"expected vectors of shape (n, {task.dim}), got {matrix.shape}")
    return task.suite().predict(matrix)


def _features_of_text(task: AdversarialTask, payload: bytes) -> FeatureArray:
    try:
        values = [float(cell) for cell in payload.decode("utf-8").split(",")]
    except (UnicodeDecodeError, ValueError) as exc:
        raise ValueError(f"the payload is not a feature row (comma-separated numbers): {exc}") from exc
    vector = np.asarray(values, dtype=np.float64)
    if len(vector) != task.dim or not np.isfinite(vector).all() or (np.abs(vector) > MAX_FEATURE_ABS).any():
        raise ValueError(f"the payload must hold {task.dim} finite numbers of magnitude at most {MAX_FEATURE_ABS:g}")
    return vector


def _features_of_png(task: AdversarialTask, payload: bytes) -> FeatureArray:
    # The preprocessing reads files (its size and bomb checks start from the file); a private temporary one
    # keeps it the one path for every image.
    with tempfile.TemporaryDirectory(prefix="adversarial-item-") as directory:
        path = Path(directory) / "item.png"
        path.write_bytes(payload)
        try:
            return image_features(path, task.config.image_size or 0)
        except ImageRejected as exc:
            raise ValueError(f"the payload is not a usable PNG image: {exc}") from exc


def vector_of_payload(task: AdversarialTask, payload: bytes) -> FeatureArray:
    """The preprocessed feature vector of a stored new item's payload (`new_item_payload`): PNG bytes through
    training-set-creation's image preprocessing, or a feature row's text parsed. Raises `ValueError` for a
    payload the task cannot use."""
    if task.config.input == "image":
        return _features_of_png(task, payload)
    return _features_of_text(task, payload)
