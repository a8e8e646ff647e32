"""Scoring adversarial test sets: credit for items the model suite gets wrong and humans label as claimed,
shared among the submissions that hold the same claim.

For a submitted item with claimed label c and suite predictions p_1 .. p_M, its truth t is the hidden human label
(pool item) or the label human validation gave it (`validated.csv`, new item; absent: pending):

* accepted = t is known and c == t (an empty validated label, "no label fits", is never accepted);
* raw credit = accepted x |{m : p_m != t}| / M;
* credit = raw credit / k, k = the number of scored submissions holding the same key with the same claim.

Pending items earn nothing yet and are counted. Sums use `math.fsum` (exactly rounded, so neither the row order
nor the submissions' order changes a bit). New items are predicted together, sorted by key, once per scoring
call: an item's predictions do not depend on where it was listed. Only aggregates are reported (README.md,
"What the scores reveal").
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from evaluators.adversarial_test_set.data import IndexArray
from evaluators.adversarial_test_set.task import AdversarialTask
from evaluators.adversarial_test_set.validation import AdversarialItems
from evaluators.base import EvaluationResult, ProgressCallback, chart

PRIMARY_METRIC = "credit"
RAW_CREDIT = "raw_credit"
ITEMS_ACCEPTED = "items_accepted"
ITEMS_FOOLING = "items_fooling"
ITEMS_PENDING = "items_pending"
PENDING = -2
"""The truth of a new item human validation has not decided yet."""

Claim = tuple[str, int]


def predict_new_items(task: AdversarialTask, submissions: Iterable[AdversarialItems]) -> dict[str, IndexArray]:
    """Key -> the suite's predictions (one per model, suite order) of every new item of `submissions`: one batch
    of the distinct items, sorted by key."""
    vectors: dict[str, npt.NDArray[np.float64]] = {}
    for parsed in submissions:
        for item, vector in zip(parsed.new_items, parsed.new_vectors, strict=True):
            vectors.setdefault(item.key, vector)
    keys = sorted(vectors)
    if not keys:
        return {}
    predictions = task.suite().predict(np.stack([vectors[key] for key in keys]))
    return {key: predictions[:, column] for column, key in enumerate(keys)}


def item_predictions(task: AdversarialTask, parsed: AdversarialItems, new: Mapping[str, IndexArray]) -> IndexArray:
    """The suite's predictions of every item, shape (models, items): cached pool predictions, `new` for the rest."""
    pool = task.pool_predictions()
    columns = [pool[:, item.pool_row] if item.pool_row is not None else new[item.key] for item in parsed.items]
    return np.stack(columns, axis=1)


def item_truths(task: AdversarialTask, parsed: AdversarialItems) -> IndexArray:
    """The truth of every item: a label index, `data.NO_LABEL` (validated: no label fits) or `PENDING`."""
    human, validated = task.human_labels(), task.validated_labels()
    truths = [
        int(human[item.pool_row]) if item.pool_row is not None else validated.get(item.key, PENDING)
        for item in parsed.items
    ]
    return np.asarray(truths, dtype=np.int64)


@dataclass(frozen=True, eq=False)
class Outcomes:
    """Per item of one submission (hidden: summed, never reported item by item)."""

    accepted: npt.NDArray[np.bool_]
    pending: npt.NDArray[np.bool_]
    raw_credit: npt.NDArray[np.float64]
    fooling: npt.NDArray[np.bool_]


def item_outcomes(task: AdversarialTask, parsed: AdversarialItems, new: Mapping[str, IndexArray]) -> Outcomes:
    """Acceptance, pending state, raw credit and "most of the suite is wrong" of every item, in file order."""
    truths = item_truths(task, parsed)
    wrong = (item_predictions(task, parsed, new) != truths[np.newaxis, :]).sum(axis=0)
    n_models = len(task.config.suite_names())
    accepted = (truths >= 0) & (parsed.claimed == truths)
    return Outcomes(
        accepted=accepted,
        pending=truths == PENDING,
        raw_credit=np.where(accepted, wrong / n_models, 0.0),
        fooling=accepted & (2 * wrong > n_models),
    )


def claims(parsed: AdversarialItems) -> list[Claim]:
    """(key, claimed label index) of every item, in file order."""
    return [(item.key, item.claimed) for item in parsed.items]


def holders(submissions: Iterable[AdversarialItems]) -> Counter[Claim]:
    """How many submissions hold each (key, claimed label) pair."""
    counts: Counter[Claim] = Counter()
    for parsed in submissions:
        counts.update(set(claims(parsed)))
    return counts


@dataclass(frozen=True)
class Sums:
    """A submission's sums over its items."""

    n_items: int
    n_new: int
    credit: float
    raw_credit: float
    accepted: int
    fooling: int
    pending: int
    shared: int

    def scores(self) -> tuple[float, dict[str, float]]:
        """The primary and the metrics."""
        metrics = {
            RAW_CREDIT: self.raw_credit,
            ITEMS_ACCEPTED: float(self.accepted),
            ITEMS_FOOLING: float(self.fooling),
            ITEMS_PENDING: float(self.pending),
        }
        return self.credit, metrics


def item_sums(parsed: AdversarialItems, outcome: Outcomes, divisors: list[int]) -> Sums:
    """The sums over every item, credit divided by each item's number of holders."""
    raw = outcome.raw_credit.tolist()
    accepted = outcome.accepted.tolist()
    return Sums(
        n_items=len(parsed.items),
        n_new=len(parsed.new_items),
        credit=math.fsum(value / divisor for value, divisor in zip(raw, divisors, strict=True)),
        raw_credit=math.fsum(raw),
        accepted=int(outcome.accepted.sum()),
        fooling=int(outcome.fooling.sum()),
        pending=int(outcome.pending.sum()),
        shared=sum(1 for ok, divisor in zip(accepted, divisors, strict=True) if ok and divisor > 1),
    )


def _charts(sums: Sums) -> list[dict[str, Any]]:
    counts = {
        "submitted": sums.n_items,
        "new items": sums.n_new,
        "awaiting validation": sums.pending,
        "label confirmed": sums.accepted,
        "confirmed, fooling most models": sums.fooling,
        "confirmed, also found by others": sums.shared,
    }
    return [
        chart("bar", "Your items", list(counts), list(counts.values()), y_label="items"),
        chart(
            "bar", "Credit", ["raw credit", "credit after sharing"], [sums.raw_credit, sums.credit], y_label="credit"
        ),
    ]


def _result(task: AdversarialTask, sums: Sums, n_submissions: int) -> EvaluationResult:
    primary, metrics = sums.scores()
    details = {
        "charts": _charts(sums),
        "n_items": sums.n_items,
        "items_new": sums.n_new,
        "items_pending": sums.pending,
        "provisional": sums.pending > 0,
        "items_accepted": sums.accepted,
        "items_fooling": sums.fooling,
        "items_shared": sums.shared,
        "n_submissions_compared": n_submissions,
        "suite": list(task.config.suite_names()),
    }
    return EvaluationResult(primary, metrics, details)


def _prepare(task: AdversarialTask, report_progress: ProgressCallback) -> None:
    report_progress(0.0, "fitting the model suite (once per task) and reading the human and validated labels")
    task.pool_predictions()
    task.human_labels()
    task.validated_labels()


def score_alone(task: AdversarialTask, parsed: AdversarialItems, report_progress: ProgressCallback) -> EvaluationResult:
    """The submission's scores as if it were the only one (no credit is divided)."""
    _prepare(task, report_progress)
    outcome = item_outcomes(task, parsed, predict_new_items(task, [parsed]))
    result = _result(task, item_sums(parsed, outcome, [1] * len(parsed.items)), 1)
    report_progress(1.0, f"credit {result.primary:.4f}")
    return result


def score_together(
    task: AdversarialTask, parsed: Mapping[str, AdversarialItems], report_progress: ProgressCallback
) -> dict[str, EvaluationResult]:
    """Every submission's scores, each item's credit divided among the submissions holding the same claim."""
    _prepare(task, report_progress)
    keys = sorted(parsed)
    new = predict_new_items(task, (parsed[key] for key in keys))
    counts = holders(parsed.values())
    results: dict[str, EvaluationResult] = {}
    for done, key in enumerate(keys, start=1):
        items = parsed[key]
        sums = item_sums(items, item_outcomes(task, items, new), [counts[claim] for claim in claims(items)])
        results[key] = _result(task, sums, len(keys))
        report_progress(done / len(keys), f"{done} of {len(keys)} submissions scored")
    if not keys:
        report_progress(1.0, "no submission to score")
    return results
