"""Fixtures of the training-set-creation tests: small synthetic tasks (Roman numerals, digits), loaded once,
and a writer of submission directories."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

import evaluators
from evaluators.training_set_creation.synthetic import generate_task
from evaluators.training_set_creation.task import TrainingTask
from tests.evaluators.training_set_creation.helpers import (
    DIGITS_CONFIG,
    ROMAN_CONFIG,
    SLUG,
    FileContent,
    MakeSubmission,
    write_submission,
)


@pytest.fixture(scope="session")
def evaluator() -> evaluators.Evaluator[Any, Any]:
    return evaluators.get_evaluator(SLUG)


@pytest.fixture(scope="session")
def roman_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small Roman-numeral task (120 pool images, 100 test images, max_items 60)."""
    directory = tmp_path_factory.mktemp("roman") / "task"
    generate_task(directory, config=ROMAN_CONFIG, seed=1, small=True)
    return directory


@pytest.fixture(scope="session")
def roman(evaluator: evaluators.Evaluator[Any, Any], roman_dir: Path) -> TrainingTask:
    task: TrainingTask = evaluator.load_task(roman_dir, evaluator.validate_config(ROMAN_CONFIG))
    return task


@pytest.fixture(scope="session")
def digits_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The digits feature task (max_items 200)."""
    directory = tmp_path_factory.mktemp("digits") / "task"
    generate_task(directory, config=DIGITS_CONFIG, seed=1, small=True)
    return directory


@pytest.fixture(scope="session")
def digits(evaluator: evaluators.Evaluator[Any, Any], digits_dir: Path) -> TrainingTask:
    task: TrainingTask = evaluator.load_task(digits_dir, evaluator.validate_config(DIGITS_CONFIG))
    return task


@pytest.fixture
def make_submission(tmp_path: Path) -> MakeSubmission:
    """`make_submission(rows, files={})`: a fresh submission directory under tmp_path."""
    counter = iter(range(1_000_000))

    def make(rows: Sequence[Sequence[str]] | None, files: Mapping[str, FileContent] | None = None) -> Path:
        return write_submission(tmp_path / f"submission_{next(counter)}", rows, files or {})

    return make
