"""Fixtures of the acquisition tests: the public reference task, a small synthetic task, a directory writer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import evaluators
from evaluators.acquisition.synthetic import SMALL_SHAPE, generate_acquisition_task
from evaluators.acquisition.task import AcquisitionTask
from tests.evaluators.acquisition.helpers import ACQUISITION_CASE, CONFIG, WriteDir


@pytest.fixture(scope="session")
def acquisition_evaluator() -> evaluators.Evaluator[Any, Any]:
    return evaluators.get_evaluator("acquisition")


@pytest.fixture(scope="session")
def market_task(acquisition_evaluator: evaluators.Evaluator[Any, Any]) -> AcquisitionTask:
    """The public reference task (2 markets of 20 sellers), loaded once."""
    task: AcquisitionTask = acquisition_evaluator.load_task(ACQUISITION_CASE / "task", CONFIG)
    return task


@pytest.fixture(scope="session")
def small_market_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small synthetic task: markets "a" and "b" of 8 sellers, 2 trials."""
    directory = tmp_path_factory.mktemp("small_acquisition_task")
    generate_acquisition_task(directory, markets=["a", "b"], trials=2, seed=3, shape=SMALL_SHAPE)
    return directory


@pytest.fixture
def plan_files() -> dict[str, str | bytes]:
    """The reference submission (10 rows from each of the 20 sellers), free to change."""
    directory = ACQUISITION_CASE / "submissions" / "uniform10"
    return {path.name: path.read_text(encoding="utf-8") for path in sorted(directory.iterdir())}


@pytest.fixture
def write_dir(tmp_path: Path) -> WriteDir:
    """Write a submission directory and return it."""
    counter = iter(range(1_000_000))

    def write(files: dict[str, str | bytes]) -> Path:
        directory = tmp_path / f"submission_{next(counter)}"
        directory.mkdir()
        for name, content in files.items():
            path = directory / name
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(content, encoding="utf-8")
        return directory

    return write
