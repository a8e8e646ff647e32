"""Synthetic data for demos and contract tests: the protocol a benchmark's `demo_module` follows.

A demo module (e.g. `evaluators.selection_speech.synthetic`) provides:

- `DEMO_TASKS: list[DemoTask]`: the demo tasks of this benchmark (title, ML task, config, description); the
  demo challenge gives each the private split of `demo_split` (`DemoTask.challenge_config`), unless it takes none;
- `generate_task(out_dir: Path, *, config: Mapping[str, Any], seed: int = 0, small: bool = False) -> None`:
  writes a complete, deterministic task directory (task.yaml, public and hidden files in the original
  formats); `small=True` makes one quick enough for a unit test (about a second to score);
- `write_baselines(task_dir: Path, out_dir: Path, *, seed: int = 0) -> dict[str, Path]`: writes valid
  submissions (a file, or a directory for directory artifacts) named by their method, and returns them.
"""

from __future__ import annotations

import hashlib
import importlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, Protocol, cast

from evaluators.base import Evaluator
from evaluators.splits import PRIVATE_FRACTION_KEY, SPLIT_SEED_KEY

DEMO_PRIVATE_FRACTION = 0.5
"""The share of every demo task's evaluation units that only the private leaderboard scores."""


@dataclass(frozen=True)
class DemoTask:
    slug: str
    title: str
    ml_task: str
    """One of: keyword-spotting, image-classification, ocr, nlp, tabular."""
    config: dict[str, Any] = field(default_factory=dict)
    """The task's own config, without a private split (unit tests and the concealed task use it as it is)."""
    description: str = ""
    slow_to_score: bool = False
    """Scoring one submission takes seconds at the demo's size: the demo challenge gives the task its
    baselines only, and no submissions of the demo team (see `apps.demo.services`)."""
    private_split: bool = True
    """False for a benchmark that refuses a split (`Evaluator.split_refusal`): the demo challenge then takes
    `config` as it is."""

    def challenge_config(self) -> dict[str, Any]:
        """The task's config in the demo challenge: `config` with the demo's private split (unless the task
        takes none: `private_split` False)."""
        if not self.private_split:
            return dict(self.config)
        return {**self.config, **demo_split(self.slug)}


def demo_split(task_slug: str) -> dict[str, Any]:
    """The demo's private split of a task: `DEMO_PRIVATE_FRACTION`, and a seed derived from the task's slug so
    that the demo is the same on every machine. A real challenge draws its seed at random and keeps it secret
    (`evaluators.splits`); this one is public, in this source, as everything else in the demo."""
    digest = hashlib.sha256(f"dataperf-demo/{task_slug}".encode()).digest()
    # 63 bits: config.split_seed is below 2**63.
    seed = int.from_bytes(digest[:8], "big") >> 1
    return {PRIVATE_FRACTION_KEY: DEMO_PRIVATE_FRACTION, SPLIT_SEED_KEY: seed}


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
