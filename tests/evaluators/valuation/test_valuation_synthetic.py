"""valuation demo data: deterministic, built from the bundled breast-cancer data, with honest baselines."""

from __future__ import annotations

import filecmp
from pathlib import Path
from typing import Any

import pytest

from evaluators import Evaluator
from evaluators.valuation.synthetic import SMALL_SHAPE, generate_valuation_task, write_baselines
from evaluators.valuation.task import ValuationTask

SMALL_PAIRS = ["clean", "noisy-labels", "duplicates"]


def _same_tree(left: Path, right: Path) -> bool:
    files = sorted(p.relative_to(left) for p in left.rglob("*") if p.is_file())
    other = sorted(p.relative_to(right) for p in right.rglob("*") if p.is_file())
    return files == other and all(filecmp.cmp(left / f, right / f, shallow=False) for f in files)


def test_the_same_seed_writes_identical_bytes(small_pairs_dir: Path, tmp_path: Path) -> None:
    generate_valuation_task(tmp_path / "again", pairs=SMALL_PAIRS, seed=2, shape=SMALL_SHAPE)
    assert _same_tree(small_pairs_dir, tmp_path / "again")


def test_another_seed_writes_other_data(small_pairs_dir: Path, tmp_path: Path) -> None:
    generate_valuation_task(tmp_path / "other", pairs=SMALL_PAIRS, seed=3, shape=SMALL_SHAPE)
    assert not _same_tree(small_pairs_dir, tmp_path / "other")


def test_it_refuses_an_unknown_kind_of_pair(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="pair names must be among"):
        generate_valuation_task(tmp_path, pairs=["bogus"])


def test_the_duplicates_pair_offers_a_s_own_rows(small_pairs_dir: Path) -> None:
    directory = small_pairs_dir / "pairs" / "duplicates"
    a_rows = [line.rsplit(",", 1)[0] for line in (directory / "A.csv").read_text().splitlines()]
    assert (directory / "B.csv").read_text().splitlines() == a_rows


def test_the_offers_are_worth_different_amounts(
    valuation_evaluator: Evaluator[Any, Any], small_pairs_dir: Path
) -> None:
    task: ValuationTask = valuation_evaluator.load_task(small_pairs_dir, {"pairs": SMALL_PAIRS})
    actual = task.actual_accuracies()
    assert actual["noisy-labels"] < actual["clean"]


def test_baselines_are_valid_and_deterministic(
    valuation_evaluator: Evaluator[Any, Any], small_pairs_dir: Path, tmp_path: Path
) -> None:
    first = write_baselines(small_pairs_dir, tmp_path / "one")
    second = write_baselines(small_pairs_dir, tmp_path / "two")
    task: ValuationTask = valuation_evaluator.load_task(small_pairs_dir, {"pairs": SMALL_PAIRS})
    assert sorted(first) == ["a-only", "pseudo-labels"]
    for name, path in first.items():
        assert path.read_bytes() == second[name].read_bytes()
        assert set(valuation_evaluator.validate(task, path).values) == set(SMALL_PAIRS)
