"""Synthetic adversarial-test-set tasks and baseline test sets, for tests, demos and offline trials.

The demo task is the test-set side of a Roman-numeral data ratchet, matching training-set-creation's Roman
numeral demo (labels i .. x, PNG images preprocessed to 32x32 grayscale): a clean reference training set
(`train/`, 20 images per numeral), and a pool of 150 numerals drawn hard (the same renderer, then moved,
turned further, noisier, sometimes with a stray stroke), whose human labels are the numerals drawn. The
reference models are right on part of the pool only, so there are items to find; participants may also draw
numerals of their own (`draw_numerals` makes such drawings for the platform's demo).

Everything is derived from `seed`: the same arguments write byte-identical files.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from PIL import Image, ImageDraw

from evaluators.adversarial_test_set.baselines import write_baseline_dirs
from evaluators.adversarial_test_set.config import AdversarialConfig
from evaluators.adversarial_test_set.data import HUMAN_LABELS_FILE, POOL_DIR, TRAIN_DIR
from evaluators.demo import DemoTask
from evaluators.taskdir import TASK_FILE, load_task_dir
from evaluators.training_set_creation.data import IMAGES_DIR, ITEMS_FILE
from evaluators.training_set_creation.render import NUMERALS, render_numeral, shifted

SLUG = "adversarial-test-set"
POOL_STRENGTH = 1.0
DRAWN_STRENGTH = 1.5
"""How much harder than the pool's the participants' drawings of the demo are distorted."""
DRAWN_PER_BASELINE = 20
_DRAW_STREAM = 7_321
"""Keeps `draw_numerals(seed)` apart from the task's own random stream of the same seed."""


@dataclass(frozen=True)
class RatchetShape:
    """Sizes of a Roman-numeral task."""

    pool: int = 150
    train_per_label: int = 20


SMALL_SHAPE = RatchetShape(pool=60, train_per_label=8)


def render_hard(rng: np.random.Generator, numeral: str, strength: float) -> Image.Image:
    """`render_numeral`, then moved and turned further, with heavier noise and sometimes a stray stroke;
    `strength` scales every distortion (1: the demo pool's)."""
    image = render_numeral(rng, numeral)
    reach = round(4 * strength)
    dx, dy = (int(value) for value in rng.integers(-reach, reach + 1, size=2))
    image = shifted(image, dx, dy, float(rng.uniform(-15, 15) * strength))
    if rng.random() < 0.35 * strength:
        side = image.size[0]
        ends = [(float(rng.uniform(0, side)), float(rng.uniform(0, side))) for _ in range(2)]
        ImageDraw.Draw(image).line(ends, fill=int(rng.integers(0, 90)), width=int(rng.integers(1, 4)))
    noise = rng.normal(0, 12 * strength, size=(image.size[1], image.size[0]))
    pixels = np.clip(np.rint(np.asarray(image, dtype=np.float64) + noise), 0, 255).astype(np.uint8)
    return Image.fromarray(pixels, mode="L")


def png_bytes(image: Image.Image) -> bytes:
    """The image as PNG bytes (Pillow writes no time stamp: the same pixels give the same bytes)."""
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def draw_numerals(seed: int, count: int) -> list[tuple[bytes, str]]:
    """`count` new Roman numerals as participants of the demo would draw them: (PNG bytes, the numeral drawn),
    distorted harder than the pool's. Deterministic in `seed`."""
    rng = np.random.default_rng([_DRAW_STREAM, seed])
    drawn = []
    for _ in range(count):
        numeral = NUMERALS[int(rng.integers(len(NUMERALS)))]
        drawn.append((png_bytes(render_hard(rng, numeral, DRAWN_STRENGTH)), numeral))
    return drawn


def _write_table(path: Path, header: list[str], rows: list[list[str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def _save(image: Image.Image, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(png_bytes(image))


def _write_train(out_dir: Path, rng: np.random.Generator, per_label: int) -> None:
    rows = []
    for number in range(per_label * len(NUMERALS)):
        item, numeral = f"t{number:05d}", NUMERALS[number % len(NUMERALS)]
        _save(render_numeral(rng, numeral), out_dir / TRAIN_DIR / IMAGES_DIR / f"{item}.png")
        rows.append([item, numeral])
    _write_table(out_dir / TRAIN_DIR / ITEMS_FILE, ["id", "label"], rows)


def _write_pool(out_dir: Path, rng: np.random.Generator, count: int) -> None:
    human = []
    for number in range(1, count + 1):
        item, numeral = f"p{number:05d}", NUMERALS[int(rng.integers(len(NUMERALS)))]
        _save(render_hard(rng, numeral, POOL_STRENGTH), out_dir / POOL_DIR / IMAGES_DIR / f"{item}.png")
        human.append([item, numeral])
    _write_table(out_dir / POOL_DIR / ITEMS_FILE, ["id"], [[item] for item, _ in human])
    _write_table(out_dir / HUMAN_LABELS_FILE, ["id", "label"], human)


def generate_ratchet_task(
    out_dir: Path, config: AdversarialConfig, *, seed: int = 0, shape: RatchetShape | None = None
) -> None:
    """Write a Roman-numeral task directory: task.yaml, the clean reference training set, the hard pool and its
    hidden human labels (no suite sets, no validated items: every new item starts pending)."""
    if config.input != "image" or config.labels != NUMERALS:
        raise ValueError(f"a Roman-numeral task needs input: image and the labels {', '.join(NUMERALS)}")
    shape = shape or RatchetShape()
    rng = np.random.default_rng(seed)
    out_dir.mkdir(parents=True, exist_ok=True)
    _write_train(out_dir, rng, shape.train_per_label)
    _write_pool(out_dir, rng, shape.pool)
    document = {"benchmark": SLUG, "config": config.as_dict()}
    (out_dir / TASK_FILE).write_text(yaml.safe_dump(document, sort_keys=False, width=120), encoding="utf-8")


# --- The demo protocol of `evaluators.demo` -----------------------------------------------------------------

DEMO_TASKS = [
    DemoTask(
        slug="roman-numerals-adversarial-test-set",
        title="Roman numerals: make the models fail",
        ml_task="ocr",
        config={
            "labels": list(NUMERALS),
            "max_items": 50,
            "models": ["logreg", "svc", "mlp"],
            "input": "image",
            "image_size": 32,
            "allow_new_items": True,
            "suite_sets": [],
            "suite_recipe": "logreg",
        },
        description=(
            "Hand in up to **50** Roman numerals (i to x) that the fixed models get wrong, each with the label it "
            "really shows: items of the pool (`pool/items.csv`, `pool/images/`) by id, or numerals you draw "
            "yourself (PNG files). The models (a logistic regression, an RBF SVM and a small MLP) are trained on "
            "the public `train/` and see 32x32 grayscale. An item earns credit when humans confirm your label (the "
            "pool's hidden labels; new drawings are validated on the platform, and wait until then): one point "
            "when every model is wrong, a third per wrong model otherwise, shared with every team that holds the "
            "same item with the same label."
        ),
        private_split=False,
    )
]


def generate_task(out_dir: Path, *, config: Mapping[str, Any], seed: int = 0, small: bool = False) -> None:
    """A complete task directory for `config` (Roman numerals, input image); `small` shrinks the pool and the
    training set."""
    generate_ratchet_task(
        out_dir, AdversarialConfig.from_mapping(config), seed=seed, shape=SMALL_SHAPE if small else None
    )


def write_baselines(task_dir: Path, out_dir: Path, *, seed: int = 0) -> dict[str, Path]:
    """Baseline submissions (directories) named by method; see `baselines.py`."""
    config = AdversarialConfig.from_mapping(load_task_dir(task_dir).config)
    drawn = draw_numerals(seed, min(config.max_items, DRAWN_PER_BASELINE))
    return write_baseline_dirs(task_dir, config, out_dir, drawn=drawn)
