"""Fixtures of the debugging-vision tests: a small synthetic task (40 training rows, 2 datasets), the public
reference case, and a writer of submission directories."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

import evaluators
from evaluators.debugging_vision.evaluator import DebuggingVisionEvaluator
from evaluators.debugging_vision.synthetic import DEMO_TASKS, generate_task
from evaluators.debugging_vision.task import DebuggingTask
from evaluators.taskdir import load_task_dir

REPO_ROOT = Path(__file__).resolve().parents[3]
PUBLIC_CASE = REPO_ROOT / "tests" / "fixtures" / "reference_cases" / "debugging-vision" / "synC"
SLUG = "debugging-vision"

WriteDirectory = Callable[[Mapping[str, str | bytes]], Path]


def load(task_dir: Path) -> DebuggingTask:
    """Load a task directory through the evaluator, as the platform does."""
    evaluator = evaluators.get_evaluator(SLUG)
    task: DebuggingTask = evaluator.load_task(task_dir, evaluator.validate_config(load_task_dir(task_dir).config))
    return task


@pytest.fixture(scope="session")
def evaluator() -> DebuggingVisionEvaluator:
    found = evaluators.get_evaluator(SLUG)
    assert isinstance(found, DebuggingVisionEvaluator)
    return found


@pytest.fixture(scope="session")
def small_task_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo task in its small form: datasets 01g317 and 09j2d, 40 training rows each."""
    directory = tmp_path_factory.mktemp("small_debugging_task")
    generate_task(directory, config=DEMO_TASKS[0].config, seed=5, small=True)
    return directory


@pytest.fixture(scope="session")
def small_task(small_task_dir: Path) -> DebuggingTask:
    return load(small_task_dir)


@pytest.fixture(scope="session")
def public_task() -> DebuggingTask:
    """The public reference case synC (300 training rows, 500 test rows)."""
    return load(PUBLIC_CASE / "task")


@pytest.fixture(scope="session")
def load_task() -> Callable[[Path], DebuggingTask]:
    """Load a task directory through the evaluator (config from its task.yaml)."""
    return load


@pytest.fixture
def copy_task(tmp_path: Path) -> Callable[[Path], Path]:
    """Copy a task directory somewhere writable, to break or trim it."""

    def copy(source: Path) -> Path:
        target = tmp_path / "task_copy"
        shutil.copytree(source, target)
        return target

    return copy


@pytest.fixture
def write_directory(tmp_path: Path) -> WriteDirectory:
    """Write a submission directory {file name: text or bytes} and return its path (a new one per call)."""
    counter = iter(range(1_000_000))

    def write(files: Mapping[str, str | bytes]) -> Path:
        directory = tmp_path / f"submission_{next(counter)}"
        directory.mkdir()
        for name, content in files.items():
            path = directory / name
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(content, encoding="utf-8")
        return directory

    return write
