"""The loaded acquisition task: config, every market's public description, lazily the hidden market data."""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from evaluators.acquisition.data import MarketData, MarketInfo, read_market_data, read_market_info
from evaluators.base import TaskConfigError
from evaluators.splits import SplitConfig, partition, split_and_rest, split_problems

MODELS = ("lr",)
DEFAULT_TRIALS = 10
MAX_TRIALS = 1000
DEFAULT_ALPHA = 0.98
MAX_MARKETS = 100
# A market names a directory and a submission file (<m>.csv).
MARKET_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
_CONFIG_KEYS = frozenset({"markets", "model", "trials", "alpha"})
BUYER_UNIT = "buyer evaluation row"

BoolArray = npt.NDArray[np.bool_]


def _markets(value: object) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or len(value) > MAX_MARKETS:
        raise TaskConfigError(f"config.markets must be a list of 1 to {MAX_MARKETS} market names, got {value!r}")
    names: list[str] = []
    for item in value:
        # YAML reads `markets: [0, 1]` as integers; the directories are the same names.
        name = str(item) if isinstance(item, int) and not isinstance(item, bool) and item >= 0 else item
        if not isinstance(name, str) or not MARKET_PATTERN.fullmatch(name):
            raise TaskConfigError(
                f"config.markets: {item!r} is not a usable market name (letters, digits, '_' and '-'; it names "
                "directories and files)"
            )
        if name.casefold() in {known.casefold() for known in names}:
            raise TaskConfigError(f"config.markets: {name!r} is listed twice")
        names.append(name)
    return tuple(names)


def _trials(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_TRIALS:
        raise TaskConfigError(f"config.trials must be an integer from 1 to {MAX_TRIALS} (DAM: 10), got {value!r}")
    return value


def _alpha(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1 or math.isnan(value):
        raise TaskConfigError(f"config.alpha must be a number from 0 to 1 (DataPerf: 0.98), got {value!r}")
    return float(value)


@dataclass(frozen=True)
class AcquisitionConfig:
    """A validated config: markets (in scoring order), the model (`lr`), trials, alpha and the split."""

    markets: tuple[str, ...]
    model: str = "lr"
    trials: int = DEFAULT_TRIALS
    alpha: float = DEFAULT_ALPHA
    split: SplitConfig = field(default_factory=SplitConfig)

    @classmethod
    def from_mapping(cls, config: Mapping[str, Any]) -> AcquisitionConfig:
        """Validate a raw config; raise `TaskConfigError` naming the key and the rule."""
        if not isinstance(config, Mapping):
            raise TaskConfigError(f"the config must be a mapping, got {type(config).__name__}")
        split, config = split_and_rest(config)
        unexpected = sorted(str(key) for key in config if key not in _CONFIG_KEYS)
        if unexpected:
            raise TaskConfigError(
                f"unexpected config key(s) {', '.join(unexpected)}; allowed: markets, model, trials, alpha, "
                "private_fraction, split_seed"
            )
        model = config.get("model", "lr")
        if model not in MODELS:
            raise TaskConfigError(f"config.model must be one of {', '.join(MODELS)}, got {model!r}")
        return cls(
            markets=_markets(config.get("markets")),
            model=str(model),
            trials=_trials(config.get("trials", DEFAULT_TRIALS)),
            alpha=_alpha(config.get("alpha", DEFAULT_ALPHA)),
            split=split,
        )

    def as_dict(self) -> dict[str, Any]:
        """The normalised config, as stored by the platform (the split keys only when there is a split)."""
        plain = {"markets": list(self.markets), "model": self.model, "trials": self.trials, "alpha": self.alpha}
        return plain | self.split.as_dict()


def buyer_units(market: str, buyer: npt.NDArray[np.float64]) -> tuple[list[str], list[str]]:
    """The split units of a market: its buyer rows, with ids `<market>/<row index in 20.csv>` and their labels
    as strata (so each side keeps the market's class balance)."""
    ids = [f"{market}/{row}" for row in range(len(buyer))]
    return ids, [f"{label:g}" for label in buyer[:, -1]]


class AcquisitionTask:
    """Everything `validate` and `evaluate` need, loaded once and shared read-only by many submissions.

    `markets` holds the public side (sellers, row counts, prices, budget); `market_data(name)` reads the
    hidden side (seller rows, buyer rows) on first use, so that validation works on a public-only copy.
    """

    def __init__(self, *, task_dir: Path, config: AcquisitionConfig, markets: dict[str, MarketInfo]) -> None:
        self.task_dir = task_dir
        self.config = config
        self.markets = markets
        self._data: dict[str, MarketData] = {}
        self._private: dict[str, BoolArray] = {}
        self._lock = threading.Lock()

    def market_data(self, market: str) -> MarketData:
        """The hidden rows of `market`, read once (thread-safe); `TaskConfigError` if unusable."""
        with self._lock:
            found = self._data.get(market)
            if found is None:
                found = read_market_data(self.task_dir, self.markets[market])
                self._data[market] = found
            return found

    def private_rows(self, market: str) -> BoolArray:
        """Which buyer rows of `market` are private (all False without a split), computed once from the hidden
        buyer data; a read-only array, shared by every submission."""
        data = self.market_data(market)
        with self._lock:
            found = self._private.get(market)
            if found is None:
                ids, strata = buyer_units(market, data.buyer)
                found = np.array(partition(ids, split=self.config.split, strata=strata), dtype=np.bool_)
                found.setflags(write=False)
                self._private[market] = found
            return found

    def problems(self) -> list[str]:
        """What an organizer must fix, with every file present (see `Evaluator.check_task`)."""
        found: list[str] = []
        for market in self.config.markets:
            try:
                data = self.market_data(market)
            except TaskConfigError as exc:
                found.append(str(exc))
                continue
            if len({float(label) for label in data.buyer[:, -1]}) < 2:
                found.append(f"market {market}: the buyer's data holds one label only; accuracy means little")
            labels = {float(label) for rows in data.sellers for label in rows[:, -1]}
            if len(labels) < 2:
                found.append(f"market {market}: every seller row has the same label; no model can be trained")
            ids, strata = buyer_units(market, data.buyer)
            for problem in split_problems(ids, split=self.config.split, strata=strata, unit=BUYER_UNIT):
                found.append(f"market {market}: {problem}")
        return found


def load_acquisition_task(task_dir: Path, config: AcquisitionConfig) -> AcquisitionTask:
    """Load the public side of every market; raise `TaskConfigError` on missing or malformed files."""
    markets = {market: read_market_info(task_dir, market) for market in config.markets}
    return AcquisitionTask(task_dir=task_dir, config=config, markets=markets)
