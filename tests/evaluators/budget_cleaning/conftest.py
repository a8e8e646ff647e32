"""Fixtures of the budget-cleaning tests: the public reference case, copies of it to break, a synthetic task."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import evaluators
from evaluators.budget_cleaning.synthetic import generate_cleaning_task
from evaluators.budget_cleaning.task import CleaningTask

REPO_ROOT = Path(__file__).resolve().parents[3]
CASE = REPO_ROOT / "tests" / "fixtures" / "reference_cases" / "budget-cleaning" / "f0_dirty"
SLUG = "budget-cleaning"
CONFIG = {"budget": 0.4, "model": "logreg"}

WriteFile = Callable[[str, "str | bytes"], Path]


@pytest.fixture(scope="session")
def cleaning_evaluator() -> evaluators.Evaluator[Any, Any]:
    return evaluators.get_evaluator(SLUG)


@pytest.fixture(scope="session")
def reference_task(cleaning_evaluator: evaluators.Evaluator[Any, Any]) -> CleaningTask:
    """The public f0_dirty task (300 rows, 120 of them dirty, budget 120 rows), loaded once."""
    task: CleaningTask = cleaning_evaluator.load_task(CASE / "task", CONFIG)
    return task


@pytest.fixture(scope="session")
def reference_ids() -> list[str]:
    """The ids of the reference submission (60 of the dirty rows)."""
    return (CASE / "submissions" / "clean_half_dirty_rows.csv").read_text().split()[1:]


@pytest.fixture
def case_copy(tmp_path: Path) -> Path:
    """A private copy of the reference task directory, to break."""
    copy = tmp_path / "task"
    shutil.copytree(CASE / "task", copy)
    return copy


@pytest.fixture
def write_file(tmp_path: Path) -> WriteFile:
    """Write text or bytes under a given file name in a fresh directory and return the path."""
    counter = iter(range(1_000_000))

    def write(name: str, content: str | bytes) -> Path:
        directory = tmp_path / f"sub{next(counter)}"
        directory.mkdir()
        path = directory / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        return path

    return write


@pytest.fixture(scope="session")
def synthetic_task_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo task (breast-cancer table, budget 0.2), generated once."""
    directory = tmp_path_factory.mktemp("cleaning_task")
    generate_cleaning_task(directory, budget=0.2, seed=0)
    return directory
