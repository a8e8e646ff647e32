"""Constants and helpers shared by the adversarial-test-set tests (the fixtures live in conftest.py)."""

from __future__ import annotations

import io
import shutil
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from PIL import Image

from evaluators.adversarial_test_set.synthetic import DEMO_TASKS
from evaluators.training_set_creation.materialise import write_items_csv
from tests.evaluators.training_set_creation.helpers import csv_text

SLUG = "adversarial-test-set"
ROMAN_CONFIG: dict[str, Any] = dict(DEMO_TASKS[0].config)
FEATURE_LABELS = ("a", "b", "c")
FEATURE_NAMES = ("f1", "f2", "f3", "f4")
FEATURES_CONFIG: dict[str, Any] = {"labels": list(FEATURE_LABELS), "max_items": 10, "input": "features"}

MakeSubmission = Callable[..., Path]


def png(seed: int = 0, size: tuple[int, int] = (40, 40)) -> bytes:
    """A small valid grayscale PNG of noise."""
    pixels = np.random.default_rng(seed).integers(0, 256, size=(size[1], size[0]), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels, mode="L").save(buffer, format="PNG")
    return buffer.getvalue()


def reencoded(data: bytes) -> bytes:
    """The same pixels as `data` (a grayscale PNG) in other bytes: an RGB PNG of the same grey values."""
    buffer = io.BytesIO()
    with Image.open(io.BytesIO(data)) as image:
        image.convert("RGB").save(buffer, format="PNG")
    return buffer.getvalue()


def write_task_yaml(directory: Path, config: Mapping[str, Any]) -> None:
    document = {"benchmark": SLUG, "config": dict(config)}
    (directory / "task.yaml").write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")


def copy_task(source: Path, target: Path, config: Mapping[str, Any], files: Mapping[str, str] | None = None) -> Path:
    """A copy of a task directory with another config and extra or replaced text files (relative path -> text)."""
    shutil.copytree(source, target)
    write_task_yaml(target, config)
    for relative, text in (files or {}).items():
        (target / relative).parent.mkdir(parents=True, exist_ok=True)
        (target / relative).write_text(text, encoding="utf-8")
    return target


def _blobs(rng: np.random.Generator, count: int) -> tuple[np.ndarray, np.ndarray]:
    """`count` 4-d points of three overlapping classes, rounded to two decimals (exact in CSV)."""
    labels = np.arange(count) % len(FEATURE_LABELS)
    centres = np.array([[0.0, 0.0, 1.0, 0.0], [1.0, 0.5, 0.0, 0.0], [0.0, 1.0, 0.0, 1.0]])
    points = centres[labels] + rng.normal(0.0, 0.45, size=(count, len(FEATURE_NAMES)))
    return np.round(points, 2), labels


def write_features_task(directory: Path, config: Mapping[str, Any] = FEATURES_CONFIG, seed: int = 0) -> Path:
    """A small feature task: 45 training rows, a pool of 30, its human labels (the classes drawn)."""
    rng = np.random.default_rng(seed)
    train, train_labels = _blobs(rng, 45)
    write_items_csv(
        directory / "train" / "items.csv",
        [(f"t{row:03d}", FEATURE_LABELS[label], train[row]) for row, label in enumerate(train_labels)],
        FEATURE_NAMES,
    )
    pool, pool_labels = _blobs(rng, 30)
    header = ",".join(["id", *FEATURE_NAMES])
    body = "".join(f"p{row:03d}," + ",".join(repr(float(v)) for v in pool[row]) + "\n" for row in range(len(pool)))
    (directory / "pool").mkdir(parents=True)
    (directory / "pool" / "items.csv").write_text(header + "\n" + body, encoding="utf-8")
    human = csv_text(["id", "label"], [[f"p{row:03d}", FEATURE_LABELS[label]] for row, label in enumerate(pool_labels)])
    (directory / "human_labels.csv").write_text(human, encoding="utf-8")
    write_task_yaml(directory, config)
    return directory


def features_csv(rows: Sequence[tuple[str, Sequence[float]]]) -> str:
    """A features.csv for the feature task: (id, values) rows."""
    return csv_text(["item", *FEATURE_NAMES], [[item, *(repr(float(v)) for v in values)] for item, values in rows])
