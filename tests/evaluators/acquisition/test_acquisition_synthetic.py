"""acquisition synthetic markets: deterministic, in the DAM formats, with honest baselines."""

from __future__ import annotations

import filecmp
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from evaluators import Evaluator
from evaluators.acquisition.data import read_market_info, read_rows
from evaluators.acquisition.synthetic import SMALL_SHAPE, generate_acquisition_task, summarise, write_baselines
from evaluators.acquisition.task import AcquisitionTask

SMALL_CONFIG = {"markets": ["a", "b"], "trials": 2}


def _same_tree(left: Path, right: Path) -> bool:
    files = sorted(p.relative_to(left) for p in left.rglob("*") if p.is_file())
    other = sorted(p.relative_to(right) for p in right.rglob("*") if p.is_file())
    return files == other and all(filecmp.cmp(left / f, right / f, shallow=False) for f in files)


def test_the_same_seed_writes_identical_bytes(small_market_dir: Path, tmp_path: Path) -> None:
    generate_acquisition_task(tmp_path / "again", markets=["a", "b"], trials=2, seed=3, shape=SMALL_SHAPE)
    assert _same_tree(small_market_dir, tmp_path / "again")


def test_another_seed_writes_other_data(small_market_dir: Path, tmp_path: Path) -> None:
    generate_acquisition_task(tmp_path / "other", markets=["a", "b"], trials=2, seed=4, shape=SMALL_SHAPE)
    assert not _same_tree(small_market_dir, tmp_path / "other")


def test_a_generated_market_has_the_dam_layout(small_market_dir: Path) -> None:
    info_dir = small_market_dir / "marketinfo" / "a"
    assert (info_dir / "price" / "price.txt").read_text().splitlines()[0].startswith("Lin,")
    assert (info_dir / "sellerid.txt").read_text().split() == [str(i) for i in range(8)]
    samples = np.loadtxt(info_dir / "summary" / "seller_00.csvsamples.csv", delimiter=" ", ndmin=2)
    assert samples.shape == (5, 13)
    summary = json.loads((info_dir / "summary" / "seller_00.csv.json").read_text())
    assert set(summary) == {"row_number", "column_number", "hist", "label_correlation"}
    assert set(summary["hist"]["0"]) == {f"{i}_size" for i in range(10)} | {f"{i}_range" for i in range(11)}


def test_the_summary_matches_the_seller_data(small_market_dir: Path) -> None:
    rows = read_rows(small_market_dir / "features" / "b" / "seller_03.csv")
    summary = json.loads((small_market_dir / "marketinfo" / "b" / "summary" / "seller_03.csv.json").read_text())
    assert summary == json.loads(json.dumps(summarise(rows)))
    assert summary["row_number"] == len(rows)
    assert summary["label_correlation"]["0"] == pytest.approx(np.corrcoef(rows[:, 0], rows[:, -1])[0, 1])


def test_it_refuses_impossible_sizes(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="2 sellers"):
        generate_acquisition_task(tmp_path, shape=SMALL_SHAPE.__class__(sellers=1))


def test_baselines_are_valid_deterministic_plans_within_the_budget(
    acquisition_evaluator: Evaluator[Any, Any], small_market_dir: Path, tmp_path: Path
) -> None:
    first = write_baselines(small_market_dir, tmp_path / "one")
    second = write_baselines(small_market_dir, tmp_path / "two")
    task: AcquisitionTask = acquisition_evaluator.load_task(small_market_dir, SMALL_CONFIG)
    assert sorted(first) == ["cheapest-rows", "label-correlation", "uniform"]
    for name, directory in first.items():
        assert _same_tree(directory, second[name])
        plan = acquisition_evaluator.validate(task, directory)
        for market in plan.markets:
            assert market.cost <= read_market_info(small_market_dir, market.market).budget
