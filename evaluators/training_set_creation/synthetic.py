"""Synthetic training-set-creation tasks and baseline training sets, for tests, demos and offline trials.

Two demo tasks:

* Roman numerals (OCR, images): classes i .. x drawn by `render.py`; the supplied pool carries about 10 %
  mislabelled images and 5 % off-topic ones (blank pages, scribbles, other letters and digits, each labelled
  with some numeral), as the Data-Centric AI competition's did; the hidden test set is clean.
* Handwritten digits (feature vectors): scikit-learn's bundled `load_digits` (8x8 images, no download) as 64
  features scaled to [0, 1]; 30 % hidden test set, the rest the pool, with 15 % of the pool's labels flipped.

Everything is derived from `seed`: the same arguments write byte-identical files.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from PIL import Image
from sklearn.datasets import load_digits

from evaluators.demo import DemoTask
from evaluators.taskdir import TASK_FILE, load_task_dir
from evaluators.training_set_creation.baselines import write_baseline_dirs
from evaluators.training_set_creation.data import IMAGES_DIR, ITEMS_FILE, POOL_DIR, TEST_DIR
from evaluators.training_set_creation.render import NUMERALS, confusable, render_numeral, render_off_topic
from evaluators.training_set_creation.task import TrainingConfig

SLUG = "training-set-creation"
DIGIT_LABELS = tuple(str(digit) for digit in range(10))


@dataclass(frozen=True)
class RomanShape:
    """Sizes and noise of a Roman-numeral task."""

    pool: int = 2000
    test: int = 1000
    mislabelled: float = 0.10
    off_topic: float = 0.05


SMALL_ROMAN = RomanShape(pool=120, test=100)


def _write_table(path: Path, header: list[str], rows: list[list[str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def _write_task_yaml(out_dir: Path, config: TrainingConfig) -> None:
    document = {"benchmark": SLUG, "config": config.as_dict()}
    (out_dir / TASK_FILE).write_text(yaml.safe_dump(document, sort_keys=False, width=120), encoding="utf-8")


def _save_png(image: Image.Image, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # Pillow writes no time stamp into a PNG, so the same pixels give the same bytes.
    image.save(path, format="PNG")


def _roman_split(out_dir: Path, rng: np.random.Generator, prefix: str, count: int, shape: RomanShape | None) -> None:
    """Write `<out_dir>/items.csv` and the images; `shape` None writes a clean split (the test set)."""
    rows: list[list[str]] = []
    for number in range(1, count + 1):
        item = f"{prefix}{number:05d}"
        label = int(rng.integers(len(NUMERALS)))
        draw = rng.random()
        if shape is not None and draw < shape.off_topic:
            image = render_off_topic(rng)
        else:
            image = render_numeral(rng, NUMERALS[label])
            if shape is not None and draw < shape.off_topic + shape.mislabelled:
                label = confusable(rng, label, len(NUMERALS))
        _save_png(image, out_dir / IMAGES_DIR / f"{item}.png")
        rows.append([item, NUMERALS[label]])
    _write_table(out_dir / ITEMS_FILE, ["id", "label"], rows)


def generate_roman_task(
    out_dir: Path, config: TrainingConfig, *, seed: int = 0, shape: RomanShape | None = None
) -> None:
    """Write a Roman-numeral task directory (pool with noise, clean hidden test set, task.yaml)."""
    if config.input != "image" or config.labels != NUMERALS:
        raise ValueError(f"a Roman-numeral task needs input: image and the labels {', '.join(NUMERALS)}")
    shape = shape or RomanShape()
    rng = np.random.default_rng(seed)
    out_dir.mkdir(parents=True, exist_ok=True)
    _roman_split(out_dir / POOL_DIR, rng, "r", shape.pool, shape)
    _roman_split(out_dir / TEST_DIR, rng, "t", shape.test, None)
    _write_task_yaml(out_dir, config)


def _feature_rows(prefix: str, indexes: np.ndarray, data: np.ndarray, labels: np.ndarray) -> list[list[str]]:
    # repr of k/16 is exact and short ("0.4375"), so the CSV holds the exact values.
    return [
        [f"{prefix}{int(index):04d}", DIGIT_LABELS[int(label)], *(repr(float(v)) for v in data[index])]
        for index, label in zip(indexes, labels, strict=True)
    ]


def generate_digits_task(out_dir: Path, config: TrainingConfig, *, seed: int = 0, label_noise: float = 0.15) -> None:
    """Write a digits feature task (scikit-learn's bundled 8x8 digits, scaled to [0, 1])."""
    if config.input != "features" or config.labels != DIGIT_LABELS:
        raise ValueError("a digits task needs input: features and the labels 0 .. 9")
    digits = load_digits()
    data = np.asarray(digits.data, dtype=np.float64) / 16.0
    target = np.asarray(digits.target, dtype=np.int64)
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(target))
    n_test = round(0.3 * len(target))
    test, pool = np.sort(order[:n_test]), np.sort(order[n_test:])
    noisy = target[pool].copy()
    for position in np.flatnonzero(rng.random(len(pool)) < label_noise):
        noisy[position] = confusable(rng, int(noisy[position]), len(DIGIT_LABELS))
    names = [f"px{row}_{column}" for row in range(8) for column in range(8)]
    out_dir.mkdir(parents=True, exist_ok=True)
    _write_table(out_dir / POOL_DIR / ITEMS_FILE, ["id", "label", *names], _feature_rows("d", pool, data, noisy))
    _write_table(out_dir / TEST_DIR / ITEMS_FILE, ["id", "label", *names], _feature_rows("d", test, data, target[test]))
    _write_task_yaml(out_dir, config)


# --- The demo protocol of `evaluators.demo` -----------------------------------------------------------------

_MODELS_TEXT = (
    "three fixed scikit-learn models (a logistic regression, an RBF support vector machine and a small "
    "multi-layer perceptron, hyperparameters in the benchmark's README)"
)

DEMO_TASKS = [
    DemoTask(
        slug="roman-numerals-training-set",
        title="Roman numerals: build the training set",
        ml_task="ocr",
        config={
            "labels": list(NUMERALS),
            "max_items": 500,
            "models": ["logreg", "svc", "mlp"],
            "input": "image",
            "image_size": 32,
            "allow_new_items": True,
        },
        description=(
            "Hand in a training set of at most **500** labelled images of the Roman numerals i to x. Start from "
            "the supplied pool (`pool/items.csv`, `pool/images/`): about 10 % of its labels are wrong and 5 % of "
            f"its images show no numeral at all. Fix, drop, pick, or add images of your own (PNG). The {_MODELS_TEXT} "
            "are trained on your set (grayscale, 32x32) and scored by their mean accuracy on a hidden, clean test set."
        ),
        slow_to_score=True,
    ),
    DemoTask(
        slug="digits-training-set",
        title="Handwritten digits: build the training set",
        ml_task="image-classification",
        config={
            "labels": list(DIGIT_LABELS),
            "max_items": 300,
            "models": ["logreg", "svc", "mlp"],
            "input": "features",
            "allow_new_items": True,
        },
        description=(
            "Hand in a training set of at most **300** handwritten digits, as 8x8 pixel vectors (64 features in "
            "[0, 1]). The pool (`pool/items.csv`) has 15 % wrong labels; you may relabel, select, and add vectors "
            f"of your own in `features.csv`. The {_MODELS_TEXT} are scored by their mean accuracy on a hidden "
            "test set."
        ),
    ),
]


def generate_task(out_dir: Path, *, config: Mapping[str, Any], seed: int = 0, small: bool = False) -> None:
    """A complete task directory for `config`: Roman numerals (input image) or digits (input features)."""
    parsed = TrainingConfig.from_mapping(config)
    if parsed.input == "image":
        generate_roman_task(out_dir, parsed, seed=seed, shape=SMALL_ROMAN if small else None)
    else:
        generate_digits_task(out_dir, parsed, seed=seed)


def write_baselines(task_dir: Path, out_dir: Path, *, seed: int = 0) -> dict[str, Path]:
    """Baseline submissions (directories) named by method; see `baselines.py`."""
    config = TrainingConfig.from_mapping(load_task_dir(task_dir).config)
    return write_baseline_dirs(task_dir, config, out_dir, seed=seed)
