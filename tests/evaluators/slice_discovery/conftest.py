"""Fixtures of the slice-discovery tests: the public reference case, tiny hand-made tasks, a small synthetic one."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml

import evaluators
from evaluators.slice_discovery.synthetic import SliceShape, generate_slice_task
from evaluators.slice_discovery.task import SliceTask

REPO_ROOT = Path(__file__).resolve().parents[3]
CASE = REPO_ROOT / "tests" / "fixtures" / "reference_cases" / "slice-discovery" / "n1000_2slices"
SLUG = "slice-discovery"

MakeTask = Callable[..., Path]
WriteFile = Callable[[str, "str | bytes"], Path]


def csv_text(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """CSV text as the tests write it (LF line ends)."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


@pytest.fixture(scope="session")
def slice_evaluator() -> evaluators.Evaluator[Any, Any]:
    return evaluators.get_evaluator(SLUG)


@pytest.fixture(scope="session")
def reference_task(slice_evaluator: evaluators.Evaluator[Any, Any]) -> SliceTask:
    """The public n1000_2slices task, loaded once."""
    task: SliceTask = slice_evaluator.load_task(CASE / "task", {"n_pred_slices": 5})
    return task


@pytest.fixture(scope="session")
def reference_csv() -> str:
    return (CASE / "submissions" / "submission.csv").read_text(encoding="utf-8")


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


@pytest.fixture
def make_task(tmp_path: Path) -> MakeTask:
    """Write a tiny task: `ids` (predictions order), `slices` {name: member ids}, `slice_order` (the row order
    of test_slices.csv, default = ids), `config` (default n_pred_slices 2 and the slice names)."""
    counter = iter(range(1_000_000))

    def make(
        ids: Sequence[str],
        slices: Mapping[str, Sequence[str]],
        *,
        slice_order: Sequence[str] | None = None,
        config: Mapping[str, Any] | None = None,
    ) -> Path:
        directory = tmp_path / f"task{next(counter)}"
        directory.mkdir()
        predictions = [(example_id, index % 2, 0.5) for index, example_id in enumerate(ids)]
        (directory / "test_predictions.csv").write_text(csv_text(("id", "target", "probs"), predictions))
        order = list(slice_order or ids)
        rows = [(example_id, *(int(example_id in members) for members in slices.values())) for example_id in order]
        (directory / "test_slices.csv").write_text(csv_text(("id", *slices), rows))
        task_config = dict(config or {"n_pred_slices": 2, "slices": list(slices)})
        (directory / "task.yaml").write_text(yaml.safe_dump({"benchmark": SLUG, "config": task_config}))
        return directory

    return make


@pytest.fixture(scope="session")
def small_task_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small synthetic task (300 examples, 16-d embeddings, 5 score columns, 3 slices)."""
    directory = tmp_path_factory.mktemp("small_slice_task")
    generate_slice_task(directory, seed=4, shape=SliceShape(n_examples=300, dim=16))
    return directory
