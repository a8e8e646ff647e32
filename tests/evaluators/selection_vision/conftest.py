"""Fixtures of the selection-vision tests: the public reference task, a small synthetic task, a writer of
submission directories."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest

import evaluators
from evaluators.selection_vision.synthetic import SMALL_SHAPE, generate_vision_task
from evaluators.selection_vision.task import VisionTask
from tests.evaluators.selection_vision.helpers import CONCEPTS, CONFIG, VISION_CASE, WriteDir, to_csv


@pytest.fixture(scope="session")
def vision_evaluator() -> evaluators.Evaluator[Any, Any]:
    return evaluators.get_evaluator("selection-vision")


@pytest.fixture(scope="session")
def vision_task(vision_evaluator: evaluators.Evaluator[Any, Any]) -> VisionTask:
    """The public reference task (4000 pool images, 3 concepts), loaded once."""
    task: VisionTask = vision_evaluator.load_task(VISION_CASE / "task", CONFIG)
    return task


@pytest.fixture(scope="session")
def reference_rows() -> dict[str, list[list[str]]]:
    """The reference submission's rows per concept (header excluded), to derive other submissions from."""
    rows = {}
    for concept in CONCEPTS:
        path = VISION_CASE / "submissions" / "balanced200" / f"{concept}.csv"
        rows[concept] = list(csv.reader(path.read_text(encoding="utf-8").splitlines()))[1:]
    return rows


@pytest.fixture(scope="session")
def minimal_bytes(reference_rows: dict[str, list[list[str]]]) -> dict[str, bytes]:
    """The smallest valid submission of the reference task (one image per label and concept), by file name."""
    files = {}
    for concept, rows in reference_rows.items():
        first = [next(row for row in rows if row[1] == label) for label in ("1", "0")]
        files[f"{concept}.csv"] = to_csv(first).encode("utf-8")
    return files


@pytest.fixture(scope="session")
def small_vision_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("small_vision_task")
    generate_vision_task(directory, seed=5, shape=SMALL_SHAPE)
    return directory


@pytest.fixture
def write_dir(tmp_path: Path) -> WriteDir:
    """Write a submission directory and return it."""
    counter = iter(range(1_000_000))

    def write(files: dict[str, Any]) -> Path:
        directory = tmp_path / f"submission_{next(counter)}"
        directory.mkdir()
        for name, content in files.items():
            path = directory / name
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                path.write_bytes(content)
            elif isinstance(content, str):
                path.write_text(content, encoding="utf-8")
            elif isinstance(content, list):
                path.write_text(to_csv(content), encoding="utf-8")
            else:
                path.write_text(json.dumps(content), encoding="utf-8")
        return directory

    return write


@pytest.fixture
def valid_files(reference_rows: dict[str, list[list[str]]]) -> dict[str, Any]:
    """The reference submission as a fresh mapping of file name -> rows, free to change."""
    return {f"{concept}.csv": [list(row) for row in rows] for concept, rows in reference_rows.items()}
