"""Scoring test sets: credit for items the model suite gets wrong and the human label confirms, shared among
the submissions that found the same item.

For a submitted item with claimed label c, hidden human label h and suite predictions p_1 .. p_M:

* accepted = (c == h);
* raw credit = accepted x (number of models m with p_m != h) / M, so 1 when every model is wrong;
* credit = raw credit / k, where k is the number of scored submissions holding the same item with the same
  claimed label (a submission holding it with another label earns nothing for it and divides nothing).

A submission's scores are sums over its items (`math.fsum`, so neither the row order nor the order of the
submissions changes a bit). Alone (`score_alone`, the `evaluate` of the contract) every k is 1.
Only aggregates are reported (see README.md, "What the scores reveal"): never which items were accepted.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from evaluators.base import EvaluationResult, ProgressCallback, chart
from evaluators.test_set_creation.task import TestSetTask
from evaluators.test_set_creation.validation import TestItems

PRIMARY_METRIC = "credit"
RAW_CREDIT = "raw_credit"
ITEMS_ACCEPTED = "items_accepted"
ITEMS_FOOLING = "items_fooling"

Pair = tuple[int, int]


@dataclass(frozen=True, eq=False)
class Outcomes:
    """Per item of one submission (hidden: used for sums, never reported item by item)."""

    accepted: npt.NDArray[np.bool_]
    raw_credit: npt.NDArray[np.float64]
    fooling: npt.NDArray[np.bool_]


def item_outcomes(task: TestSetTask, items: TestItems) -> Outcomes:
    """Acceptance, raw credit and "a majority of the suite is wrong" of every item, in file order."""
    human = task.human_labels()[items.rows]
    wrong = task.predictions()[:, items.rows] != human[np.newaxis, :]
    n_models = wrong.shape[0]
    accepted = items.claimed == human
    wrong_count = wrong.sum(axis=0)
    return Outcomes(
        accepted=accepted,
        raw_credit=np.where(accepted, wrong_count / n_models, 0.0),
        fooling=accepted & (2 * wrong_count > n_models),
    )


def holders(parsed: Mapping[str, TestItems]) -> Counter[Pair]:
    """How many submissions hold each (pool row, claimed label) pair."""
    counts: Counter[Pair] = Counter()
    for items in parsed.values():
        counts.update(set(items.pairs()))
    return counts


def _result(task: TestSetTask, items: TestItems, divisors: list[int], n_submissions: int) -> EvaluationResult:
    outcome = item_outcomes(task, items)
    raw = outcome.raw_credit.tolist()
    credit = math.fsum(value / divisor for value, divisor in zip(raw, divisors, strict=True))
    raw_credit = math.fsum(raw)
    accepted = int(outcome.accepted.sum())
    fooling = int(outcome.fooling.sum())
    shared = int(sum(1 for ok, divisor in zip(outcome.accepted.tolist(), divisors, strict=True) if ok and divisor > 1))
    metrics = {RAW_CREDIT: raw_credit, ITEMS_ACCEPTED: float(accepted), ITEMS_FOOLING: float(fooling)}
    return EvaluationResult(
        primary=credit,
        metrics=metrics,
        details=_details(len(items.rows), accepted, fooling, raw_credit, credit, shared, n_submissions),
    )


def _details(
    n_items: int, accepted: int, fooling: int, raw_credit: float, credit: float, shared: int, n_submissions: int
) -> dict[str, Any]:
    counts = {
        "submitted": n_items,
        "label confirmed": accepted,
        "confirmed, fooling most models": fooling,
        "confirmed, also found by others": shared,
    }
    charts = [
        chart("bar", "Your items", list(counts), list(counts.values()), y_label="items"),
        chart("bar", "Credit", ["raw credit", "credit after sharing"], [raw_credit, credit], y_label="credit"),
    ]
    return {
        "charts": charts,
        "n_items": n_items,
        "items_accepted": accepted,
        "items_fooling": fooling,
        "items_shared": shared,
        "n_submissions_compared": n_submissions,
    }


def score_alone(task: TestSetTask, items: TestItems, report_progress: ProgressCallback) -> EvaluationResult:
    """The submission's scores as if it were the only one (no credit is divided)."""
    report_progress(0.0, "fitting the model suite (once per task) and reading the human labels")
    task.predictions()
    result = _result(task, items, [1] * len(items.rows), 1)
    report_progress(1.0, f"credit {result.primary:.4f}")
    return result


def score_together(
    task: TestSetTask, parsed: Mapping[str, TestItems], report_progress: ProgressCallback
) -> dict[str, EvaluationResult]:
    """Every submission's scores, each item's credit divided among the submissions holding the same claim."""
    report_progress(0.0, "fitting the model suite (once per task) and reading the human labels")
    task.predictions()
    counts = holders(parsed)
    results: dict[str, EvaluationResult] = {}
    keys = sorted(parsed)
    for done, key in enumerate(keys, start=1):
        items = parsed[key]
        results[key] = _result(task, items, [counts[pair] for pair in items.pairs()], len(keys))
        report_progress(done / len(keys), f"{done} of {len(keys)} submissions scored")
    if not keys:
        report_progress(1.0, "no submission to score")
    return results
