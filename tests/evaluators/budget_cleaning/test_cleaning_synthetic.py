"""The synthetic budget-cleaning generator and its baselines."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from evaluators import Evaluator
from evaluators.budget_cleaning.synthetic import generate_cleaning_task, write_baselines


def test_a_generated_task_has_the_dcbench_layout(synthetic_task_dir: Path) -> None:
    assert yaml.safe_load((synthetic_task_dir / "task.yaml").read_text()) == {
        "benchmark": "budget-cleaning",
        "config": {"budget": 0.2, "model": "logreg"},
    }
    dirty = pd.read_csv(synthetic_task_dir / "X_train_dirty.csv", index_col=0, dtype=str)
    clean = pd.read_csv(synthetic_task_dir / "X_train_clean.csv", index_col=0, dtype=str)
    assert dirty.shape == clean.shape == (300, 10)
    assert (synthetic_task_dir / "X_train_dirty.csv").read_text().startswith(",radius_mean,")
    lists = 0
    for column in dirty.columns:
        for text, value in zip(dirty[column], clean[column], strict=True):
            if text.startswith("["):
                lists += 1
                candidates = json.loads(text)
                assert (
                    json.loads(value) in candidates
                    if column not in ("texture_grade", "margin")
                    else value in candidates
                )
            else:
                assert text == value
    assert lists > 100
    assert len(pd.read_csv(synthetic_task_dir / "X_test.csv", index_col=0)) == 149


def test_the_same_seed_writes_identical_bytes(synthetic_task_dir: Path, tmp_path: Path) -> None:
    generate_cleaning_task(tmp_path, budget=0.2, seed=0)
    for path in synthetic_task_dir.iterdir():
        assert (tmp_path / path.name).read_bytes() == path.read_bytes(), path.name


def test_the_baselines_stay_within_the_budget_and_cleaning_helps(
    cleaning_evaluator: Evaluator[Any, Any], synthetic_task_dir: Path, tmp_path: Path
) -> None:
    baselines = write_baselines(synthetic_task_dir, tmp_path, seed=0)
    assert sorted(baselines) == ["most-dirty-first", "no-cleaning", "random"]
    task = cleaning_evaluator.load_task(synthetic_task_dir, {"budget": 0.2})
    assert cleaning_evaluator.check_task(task) == []
    scores = {}
    for name, path in baselines.items():
        parsed = cleaning_evaluator.validate(task, path)
        assert len(parsed.rows) <= 60
        scores[name] = cleaning_evaluator.evaluate(task, parsed).primary
    assert scores["no-cleaning"] == 0.0
    assert scores["most-dirty-first"] > 0.0
    most_dirty = cleaning_evaluator.validate(task, baselines["most-dirty-first"]).rows
    counts = task.dirty_cells_per_row
    assert min(counts[list(most_dirty)]) >= max(counts[[row for row in range(300) if row not in most_dirty]])
