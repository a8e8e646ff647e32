"""Example algorithm for acquisition: spread half the budget over every seller, then buy the most promising.

For every market of the task's config: the same number of rows from every seller (all of a smaller one), as
many as half the budget allows; then, with what is left, the sellers whose features correlate most with the
label (the summed |label_correlation| of their public summary), whole while the budget allows, then as many
rows as fit of the next one. Costs are computed exactly (fractions of the prices and budget as written), so
the plan never exceeds the budget. Sellers are in file-name order, as the evaluator numbers them. Writes the
directory DATAPERF_OUTPUT with one `<m>.csv` per market: the rows to buy from each seller, comma-separated.
The plan is deterministic; DATAPERF_SEED is not needed.

Only public files are read (prices, budgets, seller summaries, `task.yaml`). Offline, from this folder, with
a directory holding the task's public files and its task.yaml:

    DATAPERF_INPUT_DIR=path/to/task DATAPERF_OUTPUT_DIR=out DATAPERF_OUTPUT=out/plan \\
        DATAPERF_SEED=0 python -m algorithm
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import yaml


@dataclass(frozen=True)
class Seller:
    """What the buyer knows of a seller: its row count, its price for all rows and its label signal."""

    rows: int
    price: Fraction
    signal: float


def read_market(market_dir: Path) -> tuple[list[Seller], Fraction]:
    """The market's sellers (in seller order) and its budget."""
    prices = [
        Fraction(line.split(",", 1)[1].strip())
        for line in (market_dir / "price" / "price.txt").read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    budget = Fraction((market_dir / "price" / "budget.txt").read_text(encoding="utf-8").strip())
    summaries = sorted((market_dir / "summary").glob("*.json"), key=lambda path: path.name.removesuffix(".json"))
    sellers = []
    for path, price in zip(summaries, prices, strict=True):
        summary = json.loads(path.read_text(encoding="utf-8"))
        signal = sum(abs(float(value)) for value in (summary.get("label_correlation") or {}).values())
        sellers.append(Seller(rows=int(summary["row_number"]), price=price, signal=signal))
    return sellers, budget


def cost(sellers: list[Seller], counts: list[int]) -> Fraction:
    """The exact cost of buying `counts[i]` rows of seller i."""
    return sum((seller.price * n / seller.rows for seller, n in zip(sellers, counts, strict=True)), Fraction(0))


def uniform(sellers: list[Seller], budget: Fraction) -> list[int]:
    """The same number k of rows from every seller (all of a smaller one), k as large as `budget` allows."""
    low, high = 0, max(seller.rows for seller in sellers)
    while low < high:
        middle = (low + high + 1) // 2
        if cost(sellers, [min(middle, seller.rows) for seller in sellers]) <= budget:
            low = middle
        else:
            high = middle - 1
    return [min(low, seller.rows) for seller in sellers]


def top_up(sellers: list[Seller], counts: list[int], budget: Fraction) -> list[int]:
    """`counts` plus, in decreasing order of signal, as many more rows of each seller as the budget allows."""
    counts = list(counts)
    left = budget - cost(sellers, counts)
    for index in sorted(range(len(sellers)), key=lambda i: (-sellers[i].signal, i)):
        seller = sellers[index]
        wanted = seller.rows - counts[index]
        affordable = wanted if seller.price == 0 else int(left * seller.rows / seller.price)
        extra = max(0, min(wanted, affordable))
        counts[index] += extra
        left -= seller.price * extra / seller.rows
    return counts


def plan(sellers: list[Seller], budget: Fraction) -> list[int]:
    """The rows to buy from each seller: half the budget spread evenly, the rest to the best signals."""
    return top_up(sellers, uniform(sellers, budget / 2), budget)


def main() -> None:
    """Read the inputs named by the DATAPERF_* variables and write one plan file per market."""
    input_dir = Path(os.environ["DATAPERF_INPUT_DIR"])
    output = Path(os.environ["DATAPERF_OUTPUT"])
    config = yaml.safe_load((input_dir / "task.yaml").read_text(encoding="utf-8"))["config"]
    output.mkdir(parents=True, exist_ok=True)
    for market in (str(name) for name in config["markets"]):
        sellers, budget = read_market(input_dir / "marketinfo" / market)
        counts = plan(sellers, budget)
        (output / f"{market}.csv").write_text(",".join(str(n) for n in counts) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
