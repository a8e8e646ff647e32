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
from evaluators.splits import score_splits
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


@dataclass(frozen=True)
class Sums:
    """A submission's sums over some of its items (all of them, or those on one side of the split)."""

    credit: float
    raw_credit: float
    accepted: int
    fooling: int
    shared: int

    def scores(self) -> tuple[float, dict[str, float]]:
        """The primary and the metrics."""
        metrics = {
            RAW_CREDIT: self.raw_credit,
            ITEMS_ACCEPTED: float(self.accepted),
            ITEMS_FOOLING: float(self.fooling),
        }
        return self.credit, metrics


def item_sums(outcome: Outcomes, divisors: list[int], select: npt.NDArray[np.bool_] | None = None) -> Sums:
    """The sums over the items where `select` is True (all items when None), with `math.fsum` in file order."""
    accepted, fooling, raw_values = outcome.accepted, outcome.fooling, outcome.raw_credit
    kept = divisors
    if select is not None:
        accepted, fooling, raw_values = accepted[select], fooling[select], raw_values[select]
        kept = [divisor for divisor, flag in zip(divisors, select.tolist(), strict=True) if flag]
    raw = raw_values.tolist()
    return Sums(
        credit=math.fsum(value / divisor for value, divisor in zip(raw, kept, strict=True)),
        raw_credit=math.fsum(raw),
        accepted=int(accepted.sum()),
        fooling=int(fooling.sum()),
        shared=int(sum(1 for ok, divisor in zip(accepted.tolist(), kept, strict=True) if ok and divisor > 1)),
    )


def _result(task: TestSetTask, items: TestItems, divisors: list[int], n_submissions: int) -> EvaluationResult:
    outcome = item_outcomes(task, items)
    whole = item_sums(outcome, divisors)
    primary, metrics = whole.scores()
    if not task.config.split.enabled:
        return EvaluationResult(primary, metrics, _details(len(items.rows), whole, n_submissions))
    private_rows = task.private_mask()
    on_private = private_rows[items.rows]
    public, private = item_sums(outcome, divisors, ~on_private), item_sums(outcome, divisors, on_private)
    # The public side's item count is left out: varying one's items would reveal which are private.
    details = _details(len(items.rows), public, n_submissions, show_submitted=False)
    details["sealed_charts"] = [
        *_charts(whole, len(items.rows), " (all items)"),
        *_charts(private, int(on_private.sum()), " (private part)"),
    ]
    details["sealed"] = {
        "n_items_public": int((~on_private).sum()),
        "n_items_private": int(on_private.sum()),
        "whole": _counts(whole),
        "private": _counts(private),
    }
    splits = score_splits(
        private_rows.tolist(),
        lambda mask: item_sums(outcome, divisors, np.asarray(mask, dtype=bool)[items.rows]).scores(),
    )
    return EvaluationResult(primary, metrics, details, splits)


def _counts(sums: Sums) -> dict[str, Any]:
    return {
        "items_accepted": sums.accepted,
        "items_fooling": sums.fooling,
        "items_shared": sums.shared,
        "raw_credit": sums.raw_credit,
        "credit": sums.credit,
    }


def _charts(sums: Sums, n_items: int | None, scope: str = "") -> list[dict[str, Any]]:
    """The "Your items" and "Credit" charts; the "submitted" bar only when `n_items` is given."""
    counts = {} if n_items is None else {"submitted": n_items}
    counts |= {
        "label confirmed": sums.accepted,
        "confirmed, fooling most models": sums.fooling,
        "confirmed, also found by others": sums.shared,
    }
    return [
        chart("bar", f"Your items{scope}", list(counts), list(counts.values()), y_label="items"),
        chart(
            "bar",
            f"Credit{scope}",
            ["raw credit", "credit after sharing"],
            [sums.raw_credit, sums.credit],
            y_label="credit",
        ),
    ]


def _details(n_items: int, sums: Sums, n_submissions: int, *, show_submitted: bool = True) -> dict[str, Any]:
    """The visible details: `sums` over every item without a split, over the public items with one."""
    return {
        "charts": _charts(sums, n_items if show_submitted else None),
        "n_items": n_items,
        "items_accepted": sums.accepted,
        "items_fooling": sums.fooling,
        "items_shared": sums.shared,
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
