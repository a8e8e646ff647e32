"""Synthetic acquisition markets and baseline purchase plans, for tests, demos and offline trials.

A generated task has the DAM layout and formats (see `data.py`). In each market the buyer's data follows a
noisy linear concept over 12 features; the sellers are of mixed quality, and their prices do not follow
their quality: clean copies of the buyer's distribution, sellers with many flipped labels, sellers whose
features are shifted, sellers whose concept drifted, sellers of nearly one class, tiny sellers, and sellers
whose labels are noise. What a buyer sees (row counts, histograms, label correlations, five samples,
prices) hints at the quality, as in the original. Everything is derived from `seed`: the same arguments
write byte-identical files.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from evaluators.acquisition.data import (
    BUDGET_FILE,
    BUYER_FILE,
    FEATURES_DIR,
    MARKETINFO_DIR,
    PRICE_FILE,
    SAMPLES_SUFFIX,
    SELLER_ID_FILE,
    SUMMARY_DIR,
    SUMMARY_SUFFIX,
    MarketInfo,
    read_market_info,
)
from evaluators.demo import DemoTask
from evaluators.taskdir import TASK_FILE, load_task_dir

KINDS = ("clean", "noisy", "shifted", "drifted", "one-sided", "tiny", "random-labels")


@dataclass(frozen=True)
class MarketShape:
    """Sizes of a synthetic market."""

    sellers: int = 18
    features: int = 12
    buyer_rows: int = 400
    min_rows: int = 300
    max_rows: int = 1500


SMALL_SHAPE = MarketShape(sellers=8, buyer_rows=120, min_rows=60, max_rows=200)


@dataclass
class _Market:
    rng: np.random.Generator
    shape: MarketShape
    weights: np.ndarray

    def labels(self, features: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
        logits = features @ (self.weights if weights is None else weights) * 2.0
        labels: np.ndarray = (self.rng.random(len(features)) < 1 / (1 + np.exp(-logits))).astype(np.float64)
        return labels

    def features(self, n: int, shift: float = 0.0) -> np.ndarray:
        centre = np.zeros(self.shape.features)
        if shift:
            centre[: self.shape.features // 3] = shift
        values: np.ndarray = self.rng.standard_normal((n, self.shape.features)) + centre
        return values

    def seller(self, kind: str) -> np.ndarray:
        shape = self.shape
        n = int(self.rng.integers(shape.min_rows, shape.max_rows + 1))
        if kind == "tiny":
            n = max(10, n // 12)
        x = self.features(n, shift=1.5 if kind == "shifted" else 0.0)
        if kind == "drifted":
            y = self.labels(x, self.weights[::-1] * np.sign(self.rng.standard_normal(len(self.weights))))
        elif kind == "random-labels":
            y = (self.rng.random(n) < 0.5).astype(np.float64)
        else:
            y = self.labels(x)
        if kind == "noisy":
            flip = self.rng.random(n) < 0.35
            y = np.where(flip, 1.0 - y, y)
        if kind == "one-sided":
            keep = (y == 1.0) | (self.rng.random(n) < 0.08)
            x, y = x[keep], y[keep]
        rows: np.ndarray = np.column_stack([x, y])
        return rows


def _as_written(rows: np.ndarray) -> np.ndarray:
    """The values as they read back from the file ("%f"), so that the summary describes the file exactly."""
    written: np.ndarray = np.array([[float(f"{value:f}") for value in row] for row in rows], dtype=np.float64)
    return written


def _write_rows(path: Path, rows: np.ndarray, delimiter: str = ",") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [delimiter.join(f"{value:f}" for value in row) for row in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def summarise(rows: np.ndarray) -> dict[str, Any]:
    """The DAM seller summary: row and column counts, a 10-bin histogram and the label correlation per feature."""
    hist: dict[str, dict[str, float]] = {}
    correlation: dict[str, float] = {}
    labels = rows[:, -1]
    for column in range(rows.shape[1] - 1):
        sizes, edges = np.histogram(rows[:, column], bins=10)
        entry: dict[str, float] = {f"{i}_size": int(size) for i, size in enumerate(sizes)}
        entry.update({f"{i}_range": float(edge) for i, edge in enumerate(edges)})
        hist[str(column)] = entry
        values = rows[:, column]
        spread = float(values.std() * labels.std())
        correlation[str(column)] = (
            float(np.mean((values - values.mean()) * (labels - labels.mean())) / spread) if spread else 0.0
        )
    return {
        "row_number": int(rows.shape[0]),
        "column_number": int(rows.shape[1]),
        "hist": hist,
        "label_correlation": correlation,
    }


def _write_market(out_dir: Path, name: str, rng: np.random.Generator, shape: MarketShape) -> None:
    market = _Market(rng=rng, shape=shape, weights=rng.standard_normal(shape.features) / np.sqrt(shape.features) * 2)
    info_dir = out_dir / MARKETINFO_DIR / name
    kinds = [KINDS[i % len(KINDS)] for i in range(shape.sellers)]
    rng.shuffle(kinds)
    prices = []
    for index, kind in enumerate(kinds):
        file_name = f"seller_{index:02d}.csv"
        rows = _as_written(market.seller(kind))
        _write_rows(out_dir / FEATURES_DIR / name / file_name, rows)
        summary = info_dir / SUMMARY_DIR / f"{file_name}{SUMMARY_SUFFIX}"
        summary.parent.mkdir(parents=True, exist_ok=True)
        summary.write_text(json.dumps(summarise(rows)), encoding="utf-8")
        samples = rows[np.sort(rng.choice(len(rows), size=min(5, len(rows)), replace=False))]
        _write_rows(info_dir / SUMMARY_DIR / f"{file_name}{SAMPLES_SUFFIX}", samples, delimiter=" ")
        prices.append(int(rng.integers(12, 32)) * 5)
    buyer_x = market.features(shape.buyer_rows)
    _write_rows(info_dir / BUYER_FILE, np.column_stack([buyer_x, market.labels(buyer_x)]))
    (info_dir / PRICE_FILE).parent.mkdir(parents=True, exist_ok=True)
    (info_dir / PRICE_FILE).write_text("".join(f"Lin,{price}\n" for price in prices), encoding="utf-8")
    (info_dir / BUDGET_FILE).write_text(f"{int(rng.integers(20, 36)) * 5}\n", encoding="utf-8")
    (info_dir / SELLER_ID_FILE).write_text("".join(f"{index}\n" for index in range(shape.sellers)), encoding="utf-8")


def generate_acquisition_task(
    out_dir: Path,
    *,
    markets: Sequence[str] = ("0", "1", "2"),
    trials: int = 10,
    alpha: float = 0.98,
    seed: int = 0,
    shape: MarketShape | None = None,
) -> None:
    """Write a complete acquisition task directory into `out_dir` (created if needed).

    Deterministic: the same arguments write byte-identical files. Raises `ValueError` on impossible sizes.
    """
    shape = shape or MarketShape()
    if shape.sellers < 2 or shape.features < 3 or shape.min_rows < 20 or shape.max_rows < shape.min_rows:
        raise ValueError("a market needs 2 sellers, 3 features and at least 20 rows per seller")
    for offset, name in enumerate(markets):
        _write_market(out_dir, str(name), np.random.default_rng([seed, offset]), shape)
    config = {"markets": [str(name) for name in markets], "model": "lr", "trials": trials, "alpha": alpha}
    (out_dir / TASK_FILE).write_text(
        yaml.safe_dump({"benchmark": "acquisition", "config": config}, sort_keys=False), encoding="utf-8"
    )


# --- Baselines: only public files (prices, budget, summaries) are used --------------------------------------


def _affordable(info: MarketInfo, counts: list[int]) -> bool:
    cost = sum((seller.price.exact * n / seller.rows for seller, n in zip(info.sellers, counts, strict=True)), 0)
    return bool(cost <= info.exact_budget)


def uniform_plan(info: MarketInfo) -> list[int]:
    """The same number k of rows from every seller (all of a smaller one), k as large as the budget allows."""
    low, high = 0, max(seller.rows for seller in info.sellers)
    while low < high:
        middle = (low + high + 1) // 2
        if _affordable(info, [min(middle, seller.rows) for seller in info.sellers]):
            low = middle
        else:
            high = middle - 1
    return [min(low, seller.rows) for seller in info.sellers]


def greedy_plan(info: MarketInfo, order: Sequence[int]) -> list[int]:
    """Buy sellers whole in `order` while the budget allows, then as many rows as fit of the next one."""
    counts = [0] * len(info.sellers)
    for index in order:
        seller = info.sellers[index]
        low, high = 0, seller.rows
        while low < high:
            middle = (low + high + 1) // 2
            trial = counts.copy()
            trial[index] = middle
            low, high = (middle, high) if _affordable(info, trial) else (low, middle - 1)
        counts[index] = low
        if low < seller.rows:
            break
    return counts


def _signal(task_dir: Path, market: str, file_name: str) -> float:
    path = task_dir / MARKETINFO_DIR / market / SUMMARY_DIR / f"{file_name}{SUMMARY_SUFFIX}"
    correlations = json.loads(path.read_text(encoding="utf-8")).get("label_correlation", {})
    return float(sum(abs(float(value)) for value in correlations.values()))


def baseline_submissions(task_dir: Path, *, seed: int = 0) -> dict[str, dict[str, list[int]]]:
    """Named valid plans: method -> market -> rows per seller.

    `uniform`: as many rows from every seller as the budget allows; `cheapest-rows`: the sellers with the
    lowest price per row first; `label-correlation`: the sellers whose features correlate most with the label
    (summed |r| of the summary) first. `seed` is unused: the baselines are deterministic.
    """
    markets = [str(name) for name in load_task_dir(task_dir).config["markets"]]
    plans: dict[str, dict[str, list[int]]] = {"uniform": {}, "cheapest-rows": {}, "label-correlation": {}}
    for market in markets:
        info = read_market_info(task_dir, market)
        per_row = sorted(
            range(len(info.sellers)), key=lambda i: (info.sellers[i].price.exact / info.sellers[i].rows, i)
        )
        signal = [_signal(task_dir, market, seller.file_name) for seller in info.sellers]
        by_signal = sorted(range(len(info.sellers)), key=lambda i: (-signal[i], i))
        plans["uniform"][market] = uniform_plan(info)
        plans["cheapest-rows"][market] = greedy_plan(info, per_row)
        plans["label-correlation"][market] = greedy_plan(info, by_signal)
    return plans


# --- The demo protocol of `evaluators.demo` -----------------------------------------------------------------

DEMO_TASKS = [
    DemoTask(
        slug="acquisition-3-markets",
        title="Data acquisition: 3 markets of 18 sellers",
        ml_task="tabular",
        config={"markets": ["0", "1", "2"], "model": "lr", "trials": 10, "alpha": 0.98},
        description=(
            "In each of 3 markets you are a buyer with a budget (`marketinfo/<m>/price/budget.txt`) and 18 "
            "sellers whose data you cannot see: only their summaries (row counts, histograms, label "
            "correlations), 5 sample rows and linear prices (`price.txt`: buying n of N rows costs "
            "max_price * n / N). Submit a zip with `<m>.csv` per market: one line with the number of rows to buy "
            "from each seller, in seller order. The rows are drawn at random (10 trials), a fixed logistic "
            "regression is trained on them, and the score is 0.98 x its accuracy on the buyer's hidden data "
            "+ 0.02 x the unspent share of the budget, averaged over markets."
        ),
    )
]


def generate_task(out_dir: Path, *, config: Mapping[str, Any], seed: int = 0, small: bool = False) -> None:
    """A complete task directory for `config` (`markets`, `trials`, `alpha`); `small` shrinks the markets."""
    generate_acquisition_task(
        out_dir,
        markets=[str(name) for name in config.get("markets", ["0", "1", "2"])],
        trials=int(config.get("trials", 10)),
        alpha=float(config.get("alpha", 0.98)),
        seed=seed,
        shape=SMALL_SHAPE if small else None,
    )


def write_baselines(task_dir: Path, out_dir: Path, *, seed: int = 0) -> dict[str, Path]:
    """The plans of `baseline_submissions`, one directory each with `<m>.csv` per market."""
    written = {}
    for name, plan in baseline_submissions(task_dir, seed=seed).items():
        directory = out_dir / name
        directory.mkdir(parents=True, exist_ok=True)
        for market, counts in plan.items():
            (directory / f"{market}.csv").write_text(",".join(str(n) for n in counts), encoding="utf-8")
        written[name] = directory
    return written
