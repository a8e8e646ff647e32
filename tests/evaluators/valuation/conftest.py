"""Fixtures of the valuation tests: the reference task (6 pairs, per-pair errors on), a submission writer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import evaluators
from evaluators.valuation.synthetic import SMALL_SHAPE, generate_valuation_task
from evaluators.valuation.task import ValuationTask
from tests.evaluators.valuation.helpers import CONFIG, VALUATION_CASE, WriteFile


@pytest.fixture(scope="session")
def valuation_evaluator() -> evaluators.Evaluator[Any, Any]:
    return evaluators.get_evaluator("valuation")


@pytest.fixture(scope="session")
def pairs_task(valuation_evaluator: evaluators.Evaluator[Any, Any]) -> ValuationTask:
    """The reference task, loaded once."""
    task: ValuationTask = valuation_evaluator.load_task(VALUATION_CASE / "task", CONFIG)
    return task


@pytest.fixture(scope="session")
def small_pairs_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small demo task with three pairs and the default config (no per-pair errors)."""
    directory = tmp_path_factory.mktemp("small_valuation_task")
    generate_valuation_task(directory, pairs=["clean", "noisy-labels", "duplicates"], seed=2, shape=SMALL_SHAPE)
    return directory


@pytest.fixture
def write_file(tmp_path: Path) -> WriteFile:
    """Write a submission file (text or bytes, as is) and return its path."""
    counter = iter(range(1_000_000))

    def write(content: str | bytes) -> Path:
        path = tmp_path / f"predictions_{next(counter)}.csv"
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        return path

    return write
