"""Parsing and checking an acquisition submission: a directory with `<m>.csv` for every market.

Each file is one line of comma-separated non-negative integers, the number of rows to buy from each seller,
in seller order. Rules of the original (one integer per seller, none negative, none above the seller's
row count, something bought in every market) plus the platform rule the original evaluator never checks:
the cost may not exceed the market's budget. The cost is compared exactly (prices and budget as written),
so a plan that spends exactly the budget is accepted whatever the floating-point rounding.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from evaluators.acquisition.data import MarketInfo
from evaluators.acquisition.task import AcquisitionTask
from evaluators.base import SubmissionError
from evaluators.inputs import read_text_file, show
from evaluators.selection_vision.artifact import reject_unexpected, submission_files

MAX_FILE_BYTES = 1_000_000
_INTEGER = re.compile(r"\+?[0-9]{1,30}")
_NEGATIVE = re.compile(r"-[0-9]+")


@dataclass(frozen=True)
class MarketPlan:
    """What to buy in one market: rows per seller (seller order) and the cost, as the original computes it."""

    market: str
    counts: tuple[int, ...]
    cost: float


@dataclass(frozen=True)
class AcquisitionPlan:
    """A valid submission: one `MarketPlan` per market, in the config's order."""

    markets: tuple[MarketPlan, ...]


def plan_cost(info: MarketInfo, counts: tuple[int, ...]) -> float:
    """The original's cost: the sum, in seller order, of `max_price * (n / N)`."""
    return float(
        sum(seller.price.max_price * (n / seller.rows) for seller, n in zip(info.sellers, counts, strict=True))
    )


def _exact_cost(info: MarketInfo, counts: tuple[int, ...]) -> Fraction:
    return sum(
        (seller.price.exact * n / seller.rows for seller, n in zip(info.sellers, counts, strict=True)), Fraction(0)
    )


def _the_line(name: str, text: str) -> tuple[int, str]:
    """(line number, text) of the file's only non-blank line."""
    lines = [(number, line) for number, line in enumerate(text.splitlines(), start=1) if line.strip()]
    if not lines:
        raise SubmissionError(f"{name}: the file is empty; expected one line of comma-separated row counts")
    if len(lines) > 1:
        raise SubmissionError(
            f"{name}: line {lines[1][0]}: a second line; the file holds one line of comma-separated row counts"
        )
    return lines[0]


def _count(field: str, where: str) -> int:
    value = field.strip()
    if _INTEGER.fullmatch(value):
        return int(value)
    if _NEGATIVE.fullmatch(value):
        raise SubmissionError(f"{where}: {show(value)} is negative; row counts are non-negative integers")
    if not value:
        raise SubmissionError(f"{where}: empty; every seller needs a row count (0 to buy nothing)")
    raise SubmissionError(f"{where}: {show(value)} is not a non-negative integer")


def _check_counts(name: str, info: MarketInfo, counts: tuple[int, ...]) -> None:
    for index, (seller, n) in enumerate(zip(info.sellers, counts, strict=True)):
        if n > seller.rows:
            raise SubmissionError(
                f"{name}: value {index + 1} asks {n} rows of seller {index} ({seller.file_name}), which has "
                f"{seller.rows}"
            )
    if not any(counts):
        raise SubmissionError(f"{name}: nothing is bought; buy at least one row in every market")
    exact = _exact_cost(info, counts)
    if exact > info.exact_budget:
        raise SubmissionError(
            f"{name}: the plan costs {float(exact):.6g}, more than the market's budget of {info.budget:g}"
        )


def parse_market_file(info: MarketInfo, path: Path) -> MarketPlan:
    """Read and check one market's file; raise `SubmissionError`."""
    name = path.name
    number, line = _the_line(name, read_text_file(path, max_bytes=MAX_FILE_BYTES, label=name))
    fields = line.split(",")
    sellers = len(info.sellers)
    if len(fields) != sellers:
        raise SubmissionError(
            f"{name}: line {number}: {len(fields)} values, but market {info.name} has {sellers} sellers "
            "(one row count per seller, in seller order)"
        )
    counts = tuple(_count(field, f"{name}: value {index + 1}") for index, field in enumerate(fields))
    _check_counts(name, info, counts)
    return MarketPlan(market=info.name, counts=counts, cost=plan_cost(info, counts))


def parse_plan(task: AcquisitionTask, path: Path) -> AcquisitionPlan:
    """Read and check a submission directory; raise `SubmissionError` with the first broken rule.

    Reads only the submission and the task's public data (already loaded in `task`).
    """
    files = submission_files(path, label=path.name or "submission")
    markets = task.config.markets
    reject_unexpected(files, [f"{market}.csv" for market in markets], f"one <m>.csv per market ({', '.join(markets)})")
    plans = []
    for market in markets:
        file = files.get(f"{market}.csv")
        if file is None:
            raise SubmissionError(f"market {market}: no file; add {market}.csv with one row count per seller")
        plans.append(parse_market_file(task.markets[market], file))
    return AcquisitionPlan(markets=tuple(plans))
