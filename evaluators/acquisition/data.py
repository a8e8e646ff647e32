"""Task files of acquisition (the DAM layout), per market `m`.

Public (what a buyer sees): `marketinfo/<m>/price/price.txt` (line i = `Lin,<max_price>` of seller i),
`marketinfo/<m>/price/budget.txt` (one number), `marketinfo/<m>/summary/<seller file>.json` (`row_number`,
`column_number`, `hist`, `label_correlation`), `<seller file>samples.csv` and `marketinfo/<m>/sellerid.txt`.
Hidden: the sellers' data `features/<m>/*.csv` and the buyer's evaluation data
`marketinfo/<m>/data_buyer/20.csv` (no header, comma-separated, features then the 0/1 label).

Seller i is the i-th seller file in sorted file-name order (the original used file-system order). The
public side names the sellers through the summary files (`<seller file>.json`), so a submission can be
checked (row counts, cost) without the hidden files.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import numpy as np
import numpy.typing as npt

from evaluators.base import TaskConfigError

FEATURES_DIR = "features"
MARKETINFO_DIR = "marketinfo"
BUYER_FILE = "data_buyer/20.csv"
PRICE_FILE = "price/price.txt"
BUDGET_FILE = "price/budget.txt"
SUMMARY_DIR = "summary"
SELLER_ID_FILE = "sellerid.txt"
SUMMARY_SUFFIX = ".json"
SAMPLES_SUFFIX = "samples.csv"
_MAX_TEXT_BYTES = 10_000_000
_DECIMAL = re.compile(r"\+?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]{1,3})?")

FloatMatrix = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Price:
    """A seller's linear price: buying n of N rows costs `max_price * n / N`. `exact` is the price as written."""

    max_price: float
    exact: Fraction


@dataclass(frozen=True)
class SellerInfo:
    """What the buyer sees of one seller: its file name, row count and price."""

    file_name: str
    rows: int
    columns: int
    price: Price


@dataclass(frozen=True)
class MarketInfo:
    """The public side of a market: its sellers in seller order and the budget."""

    name: str
    sellers: tuple[SellerInfo, ...]
    budget: float
    exact_budget: Fraction


@dataclass(frozen=True)
class MarketData:
    """The hidden side of a market: each seller's rows (seller order) and the buyer's evaluation rows."""

    sellers: tuple[FloatMatrix, ...]
    buyer: FloatMatrix


def _read_text(path: Path) -> str:
    try:
        if path.stat().st_size > _MAX_TEXT_BYTES:
            raise TaskConfigError(f"{path}: larger than {_MAX_TEXT_BYTES} bytes")
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError as exc:
        raise TaskConfigError(f"{path}: missing task file") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise TaskConfigError(f"{path}: cannot be read: {exc}") from exc


def _number(text: str, where: str) -> tuple[float, Fraction]:
    """A finite non-negative number as float (the original's value) and exactly (for budget checks)."""
    stripped = text.strip()
    if not _DECIMAL.fullmatch(stripped):
        raise TaskConfigError(f"{where}: {stripped!r} is not a non-negative decimal number")
    value = float(stripped)
    if not math.isfinite(value):
        raise TaskConfigError(f"{where}: {stripped!r} is too large")
    return value, Fraction(Decimal(stripped))


def read_prices(path: Path) -> list[Price]:
    """The lines `Lin,<max_price>` of price.txt, in seller order (blank lines ignored)."""
    prices: list[Price] = []
    for number, line in enumerate(_read_text(path).splitlines(), start=1):
        if not line.strip():
            continue
        fields = line.split(",")
        if len(fields) != 2 or fields[0].strip().lower() != "lin":
            raise TaskConfigError(f"{path}: line {number}: expected 'Lin,<max_price>', got {line!r}")
        value, exact = _number(fields[1], f"{path}: line {number}")
        prices.append(Price(max_price=value, exact=exact))
    return prices


def read_budget(path: Path) -> tuple[float, Fraction]:
    """The budget (one positive number)."""
    value, exact = _number(_read_text(path), str(path))
    if exact <= 0:
        raise TaskConfigError(f"{path}: the budget must be positive")
    return value, exact


def _positive_int(document: object, key: str, minimum: int, path: Path) -> int:
    value = document.get(key) if isinstance(document, dict) else None
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise TaskConfigError(f"{path}: {key!r} must be an integer of at least {minimum}, got {value!r}")
    return value


def _summary(path: Path) -> tuple[int, int]:
    """(row_number, column_number) of a seller summary; columns count the features and the label."""
    try:
        document = json.loads(_read_text(path))
    except json.JSONDecodeError as exc:
        raise TaskConfigError(f"{path}: not valid JSON: {exc}") from exc
    return _positive_int(document, "row_number", 1, path), _positive_int(document, "column_number", 2, path)


def read_market_info(task_dir: Path, market: str) -> MarketInfo:
    """The public files of one market; raise `TaskConfigError` if they are missing or inconsistent."""
    info_dir = task_dir / MARKETINFO_DIR / market
    summary_dir = info_dir / SUMMARY_DIR
    if not summary_dir.is_dir():
        raise TaskConfigError(f"{summary_dir}: missing (one <seller file>.json summary per seller)")
    names = sorted(p.name[: -len(SUMMARY_SUFFIX)] for p in summary_dir.glob(f"*.csv{SUMMARY_SUFFIX}"))
    if not names:
        raise TaskConfigError(f"{summary_dir}: no seller summary (<seller file>.csv.json)")
    prices = read_prices(info_dir / PRICE_FILE)
    if len(prices) != len(names):
        raise TaskConfigError(
            f"{info_dir / PRICE_FILE}: {len(prices)} price lines, but {len(names)} sellers have a summary"
        )
    sellers = []
    for name, price in zip(names, prices, strict=True):
        rows, columns = _summary(summary_dir / f"{name}{SUMMARY_SUFFIX}")
        sellers.append(SellerInfo(file_name=name, rows=rows, columns=columns, price=price))
    budget, exact_budget = read_budget(info_dir / BUDGET_FILE)
    return MarketInfo(name=market, sellers=tuple(sellers), budget=budget, exact_budget=exact_budget)


def read_rows(path: Path) -> FloatMatrix:
    """A headerless, comma-separated numeric file as a 2-d float64 array (one row per line)."""
    if not path.is_file():
        raise TaskConfigError(f"{path}: missing task file")
    try:
        rows: FloatMatrix = np.loadtxt(path, delimiter=",", dtype=np.float64, ndmin=2)
    except (OSError, ValueError) as exc:
        raise TaskConfigError(f"{path}: cannot be read as comma-separated numbers: {exc}") from exc
    if rows.shape[0] == 0 or rows.shape[1] < 2:
        raise TaskConfigError(f"{path}: needs at least one row of features and a label")
    if not np.isfinite(rows).all():
        raise TaskConfigError(f"{path}: holds NaN or infinity")
    labels = np.unique(rows[:, -1])
    if not np.isin(labels, (0.0, 1.0)).all():
        raise TaskConfigError(f"{path}: the last column must be the 0/1 label, found {labels[:5].tolist()}")
    return rows


def read_market_data(task_dir: Path, info: MarketInfo) -> MarketData:
    """The hidden files of one market, checked against its public description."""
    features_dir = task_dir / FEATURES_DIR / info.name
    found = sorted(p.name for p in features_dir.glob("*.csv"))
    expected = [seller.file_name for seller in info.sellers]
    if found != expected:
        raise TaskConfigError(
            f"{features_dir}: the seller files {found} do not match the summaries of {MARKETINFO_DIR}/{info.name} "
            f"({expected})"
        )
    sellers = []
    for seller in info.sellers:
        rows = read_rows(features_dir / seller.file_name)
        if rows.shape != (seller.rows, seller.columns):
            raise TaskConfigError(
                f"{features_dir / seller.file_name}: {rows.shape[0]} rows x {rows.shape[1]} columns, but its "
                f"summary says {seller.rows} x {seller.columns}"
            )
        sellers.append(rows)
    buyer_path = task_dir / MARKETINFO_DIR / info.name / BUYER_FILE
    buyer = read_rows(buyer_path)
    widths = {rows.shape[1] for rows in sellers} | {buyer.shape[1]}
    if len(widths) != 1:
        raise TaskConfigError(f"market {info.name}: sellers and buyer have different column counts {sorted(widths)}")
    return MarketData(sellers=tuple(sellers), buyer=buyer)
