"""training-set-creation demo data: deterministic files, the pool's noise, honest baselines within the budget."""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from evaluators import Evaluator
from evaluators.training_set_creation.render import NUMERALS, confusable, render_numeral, render_off_topic
from evaluators.training_set_creation.synthetic import (
    DEMO_TASKS,
    RomanShape,
    generate_roman_task,
    generate_task,
    write_baselines,
)
from evaluators.training_set_creation.task import TrainingConfig, TrainingTask
from tests.evaluators.training_set_creation.helpers import ROMAN_CONFIG


def _digest(directory: Path) -> dict[str, str]:
    return {
        path.relative_to(directory).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(directory.rglob("*"))
        if path.is_file()
    }


def test_the_demo_tasks_are_an_ocr_and_an_image_classification_task() -> None:
    assert [(task.ml_task, task.config["input"]) for task in DEMO_TASKS] == [
        ("ocr", "image"),
        ("image-classification", "features"),
    ]
    assert DEMO_TASKS[0].config["labels"] == list(NUMERALS)
    assert DEMO_TASKS[0].config["image_size"] == 32


def test_generation_is_byte_for_byte_deterministic(tmp_path: Path) -> None:
    config = TrainingConfig.from_mapping(ROMAN_CONFIG)
    shape = RomanShape(pool=30, test=10)
    generate_roman_task(tmp_path / "a", config, seed=4, shape=shape)
    generate_roman_task(tmp_path / "b", config, seed=4, shape=shape)
    generate_roman_task(tmp_path / "c", config, seed=5, shape=shape)
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")
    assert _digest(tmp_path / "a") != _digest(tmp_path / "c")


def test_the_rendered_images_are_dark_ink_on_light_paper_of_varied_sizes() -> None:
    rng = np.random.default_rng(0)
    drawn = [render_numeral(rng, numeral) for numeral in NUMERALS for _ in range(3)]
    assert all(image.mode == "L" for image in drawn)
    assert len({image.size for image in drawn}) > 1
    for image in drawn:
        pixels = np.asarray(image)
        assert np.median(pixels) > 150
        assert pixels.min() < np.median(pixels) - 50
    assert isinstance(render_off_topic(rng), Image.Image)


def test_the_pool_is_noisy_and_the_test_set_clean(tmp_path: Path) -> None:
    config = TrainingConfig.from_mapping(ROMAN_CONFIG)
    shape = RomanShape(pool=400, test=50)
    generate_roman_task(tmp_path, config, seed=2, shape=shape)
    # Re-draw the same stream to learn which pool items were made noisy (the files do not say).
    rng = np.random.default_rng(2)
    noisy = 0
    for _ in range(shape.pool):
        label = int(rng.integers(len(NUMERALS)))
        draw = rng.random()
        if draw < shape.off_topic:
            render_off_topic(rng)
            noisy += 1
        else:
            render_numeral(rng, NUMERALS[label])
            if draw < shape.off_topic + shape.mislabelled:
                assert confusable(rng, label, len(NUMERALS)) != label
                noisy += 1
    assert 0.10 < noisy / shape.pool < 0.20
    with (tmp_path / "test" / "items.csv").open(encoding="utf-8") as handle:
        assert len(list(csv.reader(handle))) == 51


def test_the_digits_task_holds_out_thirty_percent(tmp_path: Path) -> None:
    generate_task(tmp_path, config=DEMO_TASKS[1].config, seed=0)
    pool = (tmp_path / "pool" / "items.csv").read_text(encoding="utf-8").splitlines()
    test = (tmp_path / "test" / "items.csv").read_text(encoding="utf-8").splitlines()
    assert (len(pool) - 1, len(test) - 1) == (1258, 539)
    assert pool[0].split(",")[:3] == ["id", "label", "px0_0"]


def test_the_baselines_are_valid_and_within_the_budget(
    evaluator: Evaluator[Any, Any], roman_dir: Path, roman: TrainingTask, tmp_path: Path
) -> None:
    baselines = write_baselines(roman_dir, tmp_path, seed=0)
    assert set(baselines) == {"random", "class-balanced", "drop-suspected-mislabels", "cleaned-plus-augmented"}
    for path in baselines.values():
        parsed = evaluator.validate(roman, path)
        assert 2 <= parsed.n_items <= roman.config.max_items
    assert evaluator.validate(roman, baselines["cleaned-plus-augmented"]).n_new > 0
    again = write_baselines(roman_dir, tmp_path, seed=0)
    assert _digest(again["cleaned-plus-augmented"]) == _digest(baselines["cleaned-plus-augmented"])


def test_dropping_suspected_mislabels_beats_a_random_subset_on_digits(
    evaluator: Evaluator[Any, Any], digits_dir: Path, digits: TrainingTask, tmp_path: Path
) -> None:
    baselines = write_baselines(digits_dir, tmp_path, seed=0)
    scores = {
        name: evaluator.evaluate(digits, evaluator.validate(digits, path)).primary for name, path in baselines.items()
    }
    assert scores["drop-suspected-mislabels"] > scores["random"]


@pytest.mark.parametrize(
    "config", [{**ROMAN_CONFIG, "labels": ["a", "b"]}, {**DEMO_TASKS[1].config, "labels": ["a", "b"]}]
)
def test_generation_refuses_labels_it_cannot_draw(tmp_path: Path, config: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="needs input"):
        generate_task(tmp_path, config=config)
