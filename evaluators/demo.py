"""Synthetic data for demos and contract tests: the protocol a benchmark's `demo_module` follows.

A demo module (e.g. `evaluators.selection_speech.synthetic`) provides:

- `DEMO_TASKS: list[DemoTask]`: the demo tasks of this benchmark (title, ML task, config, description);
- `generate_task(out_dir: Path, *, config: Mapping[str, Any], seed: int = 0, small: bool = False) -> None`:
  writes a complete, deterministic task directory (task.yaml, public and hidden files in the original
  formats); `small=True` makes one quick enough for a unit test (about a second to score);
- `write_baselines(task_dir: Path, out_dir: Path, *, seed: int = 0) -> dict[str, Path]`: writes valid
  submissions (a file, or a directory for directory artifacts) named by their method, and returns them.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, Protocol, cast

from evaluators.base import Evaluator


@dataclass(frozen=True)
class DemoTask:
    slug: str
    title: str
    ml_task: str
    """One of: keyword-spotting, image-classification, ocr, nlp, tabular."""
    config: dict[str, Any] = field(default_factory=dict)
    description: str = ""


class DemoModule(Protocol):
    DEMO_TASKS: list[DemoTask]

    def generate_task(
        self, out_dir: Path, *, config: Mapping[str, Any], seed: int = 0, small: bool = False
    ) -> None: ...

    def write_baselines(self, task_dir: Path, out_dir: Path, *, seed: int = 0) -> dict[str, Path]: ...


def demo_module(evaluator: Evaluator[Any, Any]) -> DemoModule | None:
    """The evaluator's demo module, imported, or None when it declares none."""
    if not evaluator.demo_module:
        return None
    module: ModuleType = importlib.import_module(evaluator.demo_module)
    return cast(DemoModule, module)
