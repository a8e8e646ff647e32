"""Fixtures of the test-set-creation tests: a small synthetic task, loaded once, and a submission writer."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

import evaluators
from evaluators.base import CollectiveEvaluator
from evaluators.test_set_creation.synthetic import generate_task
from evaluators.test_set_creation.task import TestSetTask
from tests.evaluators.test_set_creation.helpers import CONFIG, SLUG, WriteCsv, csv_text


@pytest.fixture(scope="session")
def evaluator() -> CollectiveEvaluator[Any, Any]:
    found = evaluators.get_evaluator(SLUG)
    assert isinstance(found, CollectiveEvaluator)
    return found


@pytest.fixture(scope="session")
def task_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small task: 400 pool items, 240 training items, n_items 6."""
    directory = tmp_path_factory.mktemp("test_set") / "task"
    generate_task(directory, config=CONFIG, seed=1, small=True)
    return directory


@pytest.fixture(scope="session")
def task(evaluator: CollectiveEvaluator[Any, Any], task_dir: Path) -> TestSetTask:
    loaded: TestSetTask = evaluator.load_task(task_dir, evaluator.validate_config(CONFIG))
    return loaded


@pytest.fixture
def write_csv(tmp_path: Path) -> WriteCsv:
    """`write_csv(rows)` or `write_csv(text_or_bytes)`: a submission file under tmp_path."""
    counter = iter(range(1_000_000))

    def write(content: Sequence[Sequence[str]] | str | bytes, name: str = "") -> Path:
        path = tmp_path / (name or f"submission_{next(counter)}.csv")
        if isinstance(content, bytes):
            path.write_bytes(content)
        elif isinstance(content, str):
            path.write_text(content, encoding="utf-8")
        else:
            path.write_text(csv_text(content), encoding="utf-8")
        return path

    return write
