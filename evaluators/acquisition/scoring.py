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
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_limits

from evaluators.acquisition.data import FloatMatrix, MarketData, MarketInfo
from evaluators.acquisition.task import AcquisitionTask
from evaluators.acquisition.validation import AcquisitionPlan, MarketPlan
from evaluators.base import EvaluationResult, ProgressCallback, SubmissionError, chart

PRIMARY_METRIC = "score"
SEED = 1111


def market_metric(metric: str, market: str) -> str:
    """The name of one market's metric, e.g. `accuracy.0`."""
    return f"{metric}.{market}"


@dataclass(frozen=True)
class MarketResult:
    market: str
    accuracy: float
    cost: float
    score: float
    trial_accuracies: tuple[float, ...]


def draw_rows(rng: np.random.RandomState, data: MarketData, counts: tuple[int, ...]) -> FloatMatrix:
    """One trial's training rows: for each seller in order, `counts[i]` rows drawn with replacement."""
    parts = [rows[rng.choice(len(rows), size=n, replace=True)] for rows, n in zip(data.sellers, counts, strict=True)]
    drawn: FloatMatrix = np.concatenate(parts)
    return drawn


def trial_accuracy(train: FloatMatrix, buyer: FloatMatrix, where: str) -> float:
    """Fit `LogisticRegression(random_state=0)` on all columns but the last; accuracy on the buyer's rows.

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
    return float(model.score(buyer[:, :-1], buyer[:, -1]))


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
    for trial in range(trials):
        train = draw_rows(rng, data, plan.counts)
        value = trial_accuracy(train, data.buyer, f"market {plan.market}, trial {trial + 1}")
        per_trial.append(value)
        accuracy += value / trials
        cost += plan.cost / trials
        report_progress((done_before + trial + 1) / total, f"market {plan.market}: trial {trial + 1} of {trials}")
    info = task.markets[plan.market]
    score = market_score(task.config.alpha, info, accuracy, cost)
    return MarketResult(plan.market, accuracy, cost, score, tuple(per_trial))


def _details(task: AcquisitionTask, plan: AcquisitionPlan, results: list[MarketResult]) -> dict[str, Any]:
    names = [result.market for result in results]
    budgets = [task.markets[name].budget for name in names]
    charts = [
        chart(
            "bar", "Accuracy per market (mean over trials)", names, [r.accuracy for r in results], y_label="accuracy"
        ),
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
    for result in results:
        trials = [str(index + 1) for index in range(len(result.trial_accuracies))]
        charts.append(
            chart("line", "Accuracy per trial", trials, result.trial_accuracies, x_label="trial", series=result.market)
        )
    markets = [
        {
            "market": result.market,
            "accuracy": result.accuracy,
            "cost": result.cost,
            "budget": budget,
            "score": result.score,
            "rows_bought": list(market_plan.counts),
            "trial_accuracies": list(result.trial_accuracies),
        }
        for result, budget, market_plan in zip(results, budgets, plan.markets, strict=True)
    ]
    return {"charts": charts, "markets": markets, "alpha": task.config.alpha, "trials": task.config.trials}


def score_plan(task: AcquisitionTask, plan: AcquisitionPlan, report_progress: ProgressCallback) -> EvaluationResult:
    """Score every market in config order with one shared generator; primary = mean of the market scores."""
    rng = np.random.RandomState(SEED)
    total = len(plan.markets) * task.config.trials
    report_progress(0.0, "drawing the purchased rows")
    results: list[MarketResult] = []
    # Hundreds of tiny fits: BLAS threads would add only wake-up costs, never a different result.
    with threadpool_limits(limits=1, user_api="blas"):
        for index, market_plan in enumerate(plan.markets):
            progress = (report_progress, index * task.config.trials, total)
            results.append(_score_market(task, market_plan, rng, progress))
    primary = float(np.mean([result.score for result in results]))
    metrics: dict[str, float] = {}
    for result in results:
        metrics[market_metric("accuracy", result.market)] = result.accuracy
        metrics[market_metric("cost", result.market)] = result.cost
        metrics[market_metric("score", result.market)] = result.score
    return EvaluationResult(primary=primary, metrics=metrics, details=_details(task, plan, results))
