"""Fixtures of the adversarial-test-set tests: a small Roman-numeral task and a small feature task, each loaded
once, and a writer of submission directories."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

import evaluators
from evaluators.adversarial_test_set.synthetic import generate_task
from evaluators.adversarial_test_set.task import AdversarialTask
from evaluators.base import CollectiveEvaluator
from tests.evaluators.adversarial_test_set.helpers import (
    FEATURES_CONFIG,
    ROMAN_CONFIG,
    SLUG,
    MakeSubmission,
    write_features_task,
)
from tests.evaluators.training_set_creation.helpers import FileContent, write_submission


@pytest.fixture(scope="session")
def evaluator() -> CollectiveEvaluator[Any, Any]:
    found = evaluators.get_evaluator(SLUG)
    assert isinstance(found, CollectiveEvaluator)
    return found


@pytest.fixture(scope="session")
def roman_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small demo task: 80 clean training images, a hard pool of 60, max_items 50."""
    directory = tmp_path_factory.mktemp("adversarial_roman") / "task"
    generate_task(directory, config=ROMAN_CONFIG, seed=1, small=True)
    return directory


@pytest.fixture(scope="session")
def roman(evaluator: CollectiveEvaluator[Any, Any], roman_dir: Path) -> AdversarialTask:
    task: AdversarialTask = evaluator.load_task(roman_dir, evaluator.validate_config(ROMAN_CONFIG))
    return task


@pytest.fixture(scope="session")
def features_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small feature task: 4 features, 3 labels, 45 training rows, a pool of 30, max_items 10."""
    return write_features_task(tmp_path_factory.mktemp("adversarial_features") / "task")


@pytest.fixture(scope="session")
def features(evaluator: CollectiveEvaluator[Any, Any], features_dir: Path) -> AdversarialTask:
    task: AdversarialTask = evaluator.load_task(features_dir, evaluator.validate_config(FEATURES_CONFIG))
    return task


@pytest.fixture
def make_submission(tmp_path: Path) -> MakeSubmission:
    """`make_submission(rows, files={})`: a fresh submission directory under tmp_path."""
    counter = iter(range(1_000_000))

    def make(rows: Sequence[Sequence[str]] | None, files: Mapping[str, FileContent] | None = None) -> Path:
        return write_submission(tmp_path / f"submission_{next(counter)}", rows, files or {})

    return make
