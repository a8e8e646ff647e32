"""test-set-creation demo data: deterministic files, a suite that errs realistically, honest baselines."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import numpy as np

from evaluators import Evaluator
from evaluators.test_set_creation.synthetic import DEMO_TASKS, generate_task, write_baselines
from evaluators.test_set_creation.task import TestSetTask
from tests.evaluators.test_set_creation.helpers import CONFIG


def _digest(directory: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(directory.iterdir()) if p.is_file()}


def test_the_demo_task_takes_fifty_items() -> None:
    assert DEMO_TASKS[0].config["n_items"] == 50
    assert DEMO_TASKS[0].ml_task == "image-classification"


def test_generation_is_byte_for_byte_deterministic(tmp_path: Path) -> None:
    for name, seed in (("a", 3), ("b", 3), ("c", 4)):
        generate_task(tmp_path / name, config=CONFIG, seed=seed, small=True)
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")
    assert _digest(tmp_path / "a") != _digest(tmp_path / "c")


def test_the_suite_errs_on_part_of_the_pool_and_its_models_disagree(task: TestSetTask) -> None:
    wrong = task.predictions() != task.human_labels()[np.newaxis, :]
    assert 0.02 < wrong.all(axis=0).mean() < 0.2
    assert 0.8 < 1 - wrong.mean() < 0.98
    assert (task.predictions() != task.predictions()[0]).any(axis=0).sum() > 5


def test_the_baselines_are_valid_and_ordered_as_expected(
    evaluator: Evaluator[Any, Any], task_dir: Path, task: TestSetTask, tmp_path: Path
) -> None:
    baselines = write_baselines(task_dir, tmp_path, seed=0)
    assert set(baselines) == {"random-majority", "disagreement-knn", "knn-contradicts-suite"}
    scores = {
        name: evaluator.evaluate(task, evaluator.validate(task, path)).primary for name, path in baselines.items()
    }
    assert scores["random-majority"] < 1.0
    assert scores["knn-contradicts-suite"] > scores["random-majority"]
    assert scores["disagreement-knn"] > scores["random-majority"]
