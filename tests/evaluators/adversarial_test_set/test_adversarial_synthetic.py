"""adversarial-test-set's demo module: the Roman-numeral task matches training-set-creation's, is deterministic,
takes no private split; `draw_numerals` and the baselines."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from evaluators.adversarial_test_set.synthetic import DEMO_TASKS, draw_numerals, generate_task, write_baselines
from evaluators.adversarial_test_set.task import AdversarialTask
from evaluators.base import CollectiveEvaluator
from evaluators.splits import SPLIT_KEYS
from evaluators.training_set_creation.render import NUMERALS
from evaluators.training_set_creation.synthetic import DEMO_TASKS as TRAINING_DEMO_TASKS
from tests.evaluators.adversarial_test_set.helpers import FEATURES_CONFIG, ROMAN_CONFIG


def _files(directory: Path) -> dict[str, bytes]:
    return {
        path.relative_to(directory).as_posix(): path.read_bytes()
        for path in sorted(directory.rglob("*"))
        if path.is_file()
    }


def test_the_demo_task_is_the_test_side_of_the_roman_numeral_training_demo() -> None:
    [spec] = DEMO_TASKS
    training = next(task for task in TRAINING_DEMO_TASKS if task.config["input"] == "image")
    for key in ("labels", "input", "image_size", "models"):
        assert spec.config[key] == training.config[key]
    assert spec.ml_task == training.ml_task == "ocr"


def test_the_demo_task_takes_no_private_split(evaluator: CollectiveEvaluator[Any, Any]) -> None:
    [spec] = DEMO_TASKS
    assert spec.private_split is False
    assert spec.challenge_config() == spec.config
    assert not set(evaluator.validate_config(spec.challenge_config())) & set(SPLIT_KEYS)


def test_generation_is_deterministic_in_the_seed(roman_dir: Path, tmp_path: Path) -> None:
    generate_task(tmp_path / "again", config=ROMAN_CONFIG, seed=1, small=True)
    generate_task(tmp_path / "other", config=ROMAN_CONFIG, seed=2, small=True)
    assert _files(tmp_path / "again") == _files(roman_dir)
    assert _files(tmp_path / "other") != _files(roman_dir)
    assert (roman_dir / "pool" / "items.csv").read_text(encoding="utf-8").startswith("id\np00001\n")


def test_only_a_roman_numeral_image_task_can_be_generated(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="a Roman-numeral task needs input: image"):
        generate_task(tmp_path, config=FEATURES_CONFIG)


def test_draw_numerals_draws_valid_pngs_deterministically() -> None:
    drawn = draw_numerals(3, 5)
    assert drawn == draw_numerals(3, 5)
    assert drawn != draw_numerals(4, 5)
    assert len({data for data, _ in drawn}) == 5
    for data, label in drawn:
        assert label in NUMERALS
        with Image.open(io.BytesIO(data), formats=["PNG"]) as image:
            assert image.mode == "L"


def test_the_baselines_validate_and_score(
    evaluator: CollectiveEvaluator[Any, Any], roman: AdversarialTask, roman_dir: Path, tmp_path: Path
) -> None:
    baselines = write_baselines(roman_dir, tmp_path, seed=0)
    assert sorted(baselines) == ["drawn-numerals", "pool-disagreement"]
    disagreement = evaluator.evaluate(roman, evaluator.validate(roman, baselines["pool-disagreement"]))
    assert disagreement.details["n_items"] == 50
    assert disagreement.primary > 0
    drawn = evaluator.evaluate(roman, evaluator.validate(roman, baselines["drawn-numerals"]))
    assert (drawn.primary, drawn.metrics["items_pending"], drawn.details["provisional"]) == (0.0, 20.0, True)
