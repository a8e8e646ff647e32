"""Scoring a purchase plan: draw the bought rows, fit the buyer's model, accuracy on the buyer's data.

Reproduces the DAM repository evaluator with the order fixed by the cases README: one legacy
`numpy.random.RandomState(1111)` per submission, consumed market by market (config order), trial by trial,
seller by seller (`rng.choice(N_i, size=n_i, replace=True)`). The per-market accuracy and cost are
accumulated as `value / trials` per trial, the way the recorded reference values were summed.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score
from threadpoolctl import threadpool_limits

from evaluators.acquisition.data import FloatMatrix, MarketData, MarketInfo
from evaluators.acquisition.task import AcquisitionTask, BoolArray
from evaluators.acquisition.validation import AcquisitionPlan, MarketPlan
from evaluators.base import EvaluationResult, ProgressCallback, SplitScore, SubmissionError, chart
from evaluators.splits import score_splits

PRIMARY_METRIC = "score"
SEED = 1111

BoolMatrix = npt.NDArray[np.bool_]
FloatVector = npt.NDArray[np.float64]


def market_metric(metric: str, market: str) -> str:
    """The name of one market's metric, e.g. `accuracy.0`."""
    return f"{metric}.{market}"


@dataclass(frozen=True)
class MarketResult:
    """One market's whole-set values, and per trial which buyer rows the model got right (for the split)."""

    market: str
    accuracy: float
    cost: float
    score: float
    trial_accuracies: tuple[float, ...]
    correct: BoolMatrix


@dataclass(frozen=True)
class MarketView:
    """What the details show of a market: its values on the whole buyer data or on one side of the split."""

    accuracy: float
    score: float
    trial_accuracies: tuple[float, ...]


def draw_rows(rng: np.random.RandomState, data: MarketData, counts: tuple[int, ...]) -> FloatMatrix:
    """One trial's training rows: for each seller in order, `counts[i]` rows drawn with replacement."""
    parts = [rows[rng.choice(len(rows), size=n, replace=True)] for rows, n in zip(data.sellers, counts, strict=True)]
    drawn: FloatMatrix = np.concatenate(parts)
    return drawn


def trial_predictions(train: FloatMatrix, buyer: FloatMatrix, where: str) -> FloatVector:
    """Fit `LogisticRegression(random_state=0)` on all columns but the last; its predictions on the buyer's rows.

    Raises `SubmissionError` when the drawn rows hold one label only (the original crashes there).
    """
    if len(np.unique(train[:, -1])) < 2:
        raise SubmissionError(
            f"{where}: the {len(train)} rows drawn all carry the same label, so the fixed model cannot be "
            "trained; buy more rows, or from more sellers"
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = LogisticRegression(random_state=0).fit(train[:, :-1], train[:, -1])
    predictions: FloatVector = model.predict(buyer[:, :-1])
    return predictions


def trial_accuracy(train: FloatMatrix, buyer: FloatMatrix, where: str) -> float:
    """The accuracy on the buyer's rows of the model fitted on `train` (see `trial_predictions`)."""
    return float(accuracy_score(buyer[:, -1], trial_predictions(train, buyer, where)))


def market_score(alpha: float, info: MarketInfo, accuracy: float, cost: float) -> float:
    """The official DataPerf formula: `alpha * accuracy + (1 - alpha) * (budget - cost) / budget`."""
    return alpha * accuracy + (1 - alpha) * (info.budget - cost) / info.budget


def _score_market(
    task: AcquisitionTask, plan: MarketPlan, rng: np.random.RandomState, progress: tuple[ProgressCallback, int, int]
) -> MarketResult:
    report_progress, done_before, total = progress
    data = task.market_data(plan.market)
    trials = task.config.trials
    accuracy = cost = 0.0
    per_trial: list[float] = []
    correct = np.zeros((trials, len(data.buyer)), dtype=np.bool_)
    for trial in range(trials):
        train = draw_rows(rng, data, plan.counts)
        predictions = trial_predictions(train, data.buyer, f"market {plan.market}, trial {trial + 1}")
        # `accuracy_score` is what `model.score` returns: the recorded reference values hold to the bit.
        value = float(accuracy_score(data.buyer[:, -1], predictions))
        correct[trial] = predictions == data.buyer[:, -1]
        per_trial.append(value)
        accuracy += value / trials
        cost += plan.cost / trials
        report_progress((done_before + trial + 1) / total, f"market {plan.market}: trial {trial + 1} of {trials}")
    info = task.markets[plan.market]
    score = market_score(task.config.alpha, info, accuracy, cost)
    return MarketResult(plan.market, accuracy, cost, score, tuple(per_trial), correct)


def market_view(task: AcquisitionTask, result: MarketResult, rows: BoolArray) -> MarketView:
    """The market's accuracy (accumulated over trials as for the whole set) and score on the buyer `rows`."""
    trials = task.config.trials
    per_trial = tuple(float(np.mean(correct[rows])) for correct in result.correct)
    accuracy = 0.0
    for value in per_trial:
        accuracy += value / trials
    score = market_score(task.config.alpha, task.markets[result.market], accuracy, result.cost)
    return MarketView(accuracy, score, per_trial)


def _whole_view(result: MarketResult) -> MarketView:
    return MarketView(result.accuracy, result.score, result.trial_accuracies)


def _metrics(results: list[MarketResult], views: list[MarketView]) -> tuple[float, dict[str, float]]:
    primary = float(np.mean([view.score for view in views]))
    metrics: dict[str, float] = {}
    for result, view in zip(results, views, strict=True):
        metrics[market_metric("accuracy", result.market)] = view.accuracy
        metrics[market_metric("cost", result.market)] = result.cost
        metrics[market_metric("score", result.market)] = view.score
    return primary, metrics


def _view_charts(names: list[str], views: list[MarketView], suffix: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The accuracy charts, which depend on the buyer rows: per market, and per trial (one series a market)."""
    per_market = chart(
        "bar", f"Accuracy per market (mean over trials){suffix}", names, [v.accuracy for v in views], y_label="accuracy"
    )
    per_trial = [
        chart(
            "line",
            f"Accuracy per trial{suffix}",
            [str(index + 1) for index in range(len(view.trial_accuracies))],
            view.trial_accuracies,
            x_label="trial",
            series=name,
        )
        for name, view in zip(names, views, strict=True)
    ]
    return per_market, per_trial


def _market_rows(
    task: AcquisitionTask, plan: AcquisitionPlan, results: list[MarketResult], views: list[MarketView]
) -> list[dict[str, Any]]:
    return [
        {
            "market": result.market,
            "accuracy": view.accuracy,
            "cost": result.cost,
            "budget": task.markets[result.market].budget,
            "score": view.score,
            "rows_bought": list(market_plan.counts),
            "trial_accuracies": list(view.trial_accuracies),
        }
        for result, view, market_plan in zip(results, views, plan.markets, strict=True)
    ]


def _details(
    task: AcquisitionTask, plan: AcquisitionPlan, results: list[MarketResult], public: list[MarketView] | None
) -> dict[str, Any]:
    """Today's details without a split; with one (`public` given), the accuracies shown are the public side's
    and the whole-set ones are sealed, since both together would give the private side away."""
    names = [result.market for result in results]
    whole = [_whole_view(result) for result in results]
    shown = whole if public is None else public
    per_market, per_trial = _view_charts(names, shown, "" if public is None else ", public part")
    budgets = [task.markets[name].budget for name in names]
    charts = [
        per_market,
        chart("bar", "Cost and budget per market", names, [r.cost for r in results], y_label="price", series="cost"),
        chart("bar", "Cost and budget per market", names, budgets, y_label="price", series="budget"),
    ]
    for market_plan in plan.markets:
        sellers = [f"seller {index}" for index in range(len(market_plan.counts))]
        charts.append(
            chart(
                "bar", "Rows bought per seller", sellers, market_plan.counts, y_label="rows", series=market_plan.market
            )
        )
    charts += per_trial
    details = {
        "charts": charts,
        "markets": _market_rows(task, plan, results, shown),
        "alpha": task.config.alpha,
        "trials": task.config.trials,
    }
    if public is not None:
        sealed_market, sealed_trial = _view_charts(names, whole, ", whole evaluation set")
        details["sealed_charts"] = [sealed_market, *sealed_trial]
        details["sealed"] = {"markets": _market_rows(task, plan, results, whole)}
    return details


def _splits(
    task: AcquisitionTask, plan: AcquisitionPlan, results: list[MarketResult]
) -> tuple[dict[str, SplitScore], dict[str, Any]]:
    """The public and private scores, over every market's buyer rows in config order, and the details."""
    private = np.concatenate([task.private_rows(result.market) for result in results])
    bounds = np.cumsum([0, *(result.correct.shape[1] for result in results)])

    def compute(mask: list[bool]) -> tuple[float, dict[str, float]]:
        rows = np.array(mask, dtype=np.bool_)
        views = [market_view(task, r, rows[bounds[i] : bounds[i + 1]]) for i, r in enumerate(results)]
        return _metrics(results, views)

    splits = score_splits(private.tolist(), compute)
    public = [market_view(task, result, ~task.private_rows(result.market)) for result in results]
    return splits, _details(task, plan, results, public)


def score_plan(task: AcquisitionTask, plan: AcquisitionPlan, report_progress: ProgressCallback) -> EvaluationResult:
    """Score every market in config order with one shared generator; primary = mean of the market scores.

    With a private split, `splits` holds the same metrics on the public and private buyer rows (the same
    fitted models; the cost does not depend on the rows) and the details show the public side only."""
    rng = np.random.RandomState(SEED)
    total = len(plan.markets) * task.config.trials
    report_progress(0.0, "drawing the purchased rows")
    results: list[MarketResult] = []
    # Hundreds of tiny fits: BLAS threads would add only wake-up costs, never a different result.
    with threadpool_limits(limits=1, user_api="blas"):
        for index, market_plan in enumerate(plan.markets):
            progress = (report_progress, index * task.config.trials, total)
            results.append(_score_market(task, market_plan, rng, progress))
    primary, metrics = _metrics(results, [_whole_view(result) for result in results])
    if not task.config.split.enabled:
        return EvaluationResult(primary=primary, metrics=metrics, details=_details(task, plan, results, None))
    splits, details = _splits(task, plan, results)
    return EvaluationResult(primary=primary, metrics=metrics, details=details, splits=splits)
