"""Constants and helpers shared by the training-set-creation tests (the fixtures live in conftest.py)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from evaluators.training_set_creation.synthetic import DEMO_TASKS
from evaluators.training_set_creation.task import TrainingTask

SLUG = "training-set-creation"
REPO_ROOT = Path(__file__).resolve().parents[3]
ROMAN_CASE = REPO_ROOT / "tests" / "fixtures" / "reference_cases" / SLUG / "roman_small"
ROMAN_CONFIG: dict[str, Any] = {**DEMO_TASKS[0].config, "max_items": 60}
DIGITS_CONFIG: dict[str, Any] = {**DEMO_TASKS[1].config, "max_items": 200}

FileContent = bytes | str | Path
MakeSubmission = Callable[..., Path]


def csv_text(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """CSV text with "\\n" line ends, quoting where needed."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def write_submission(directory: Path, rows: Sequence[Sequence[str]] | None, files: Mapping[str, FileContent]) -> Path:
    """A submission directory: labels.csv from `rows` (None: no labels.csv) and `files` (relative path ->
    bytes, text, or a file to copy)."""
    directory.mkdir(parents=True)
    if rows is not None:
        (directory / "labels.csv").write_text(csv_text(["item", "label"], rows), encoding="utf-8")
    for relative, content in files.items():
        target = directory / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, Path):
            target.write_bytes(content.read_bytes())
        elif isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content, encoding="utf-8")
    return directory


def pool_rows(task: TrainingTask, count: int, start: int = 0) -> list[list[str]]:
    """`count` pool items with their given labels, from row `start`."""
    return [[task.pool.ids[row], task.config.labels[int(task.pool.labels[row])]] for row in range(start, start + count)]
