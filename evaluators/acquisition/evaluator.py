"""The data-acquisition evaluator (DataPerf DAM; reference: `src/evaluator_submission.py` of
facebookresearch/Data_Acquisition_for_ML_Benchmark).

In every market a buyer with a budget may buy rows from about 20 sellers, seeing only their summaries,
five sample rows and linear prices. A submission says how many rows to buy from each seller; the rows are
drawn at random (10 trials), a fixed logistic regression is trained on them, and the score mixes its
accuracy on the buyer's data with the unspent budget.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

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
)
from evaluators.acquisition.scoring import PRIMARY_METRIC, market_metric, score_plan
from evaluators.acquisition.task import AcquisitionConfig, AcquisitionTask, load_acquisition_task
from evaluators.acquisition.validation import AcquisitionPlan, parse_plan
from evaluators.base import (
    DataFileRule,
    EvaluationResult,
    Evaluator,
    MetricSpec,
    ProgressCallback,
    no_progress,
)

_MARKET = f"{MARKETINFO_DIR}/*"


class AcquisitionEvaluator(Evaluator[AcquisitionTask, AcquisitionPlan]):
    """Data acquisition under a budget: one `<m>.csv` per market with the rows to buy from each seller."""

    slug: ClassVar[str] = "acquisition"
    title: ClassVar[str] = "Data acquisition (DAM: buying training data under a budget)"
    # Bump on any change that can move a score: this code, the scikit-learn pin, the OpenBLAS kernel.
    version: ClassVar[str] = "1.0.0"
    submission_format: ClassVar[str] = (
        "a directory (zip / tar.gz) with <m>.csv for every market: one line of comma-separated non-negative "
        "integers, the rows to buy from each seller in seller order (sellers sorted by file name), costing "
        "at most the market's budget"
    )
    submission_is_directory: ClassVar[bool] = True
    demo_module: ClassVar[str | None] = "evaluators.acquisition.synthetic"
    data_files: ClassVar[tuple[DataFileRule, ...]] = (
        # Hidden rules first: the platform takes the first rule whose pattern matches.
        DataFileRule(f"{FEATURES_DIR}/*/*.csv", hidden=True, description="the sellers' data, one file per seller"),
        DataFileRule(f"{_MARKET}/{BUYER_FILE}", hidden=True, description="the buyer's evaluation data"),
        DataFileRule(f"{_MARKET}/{PRICE_FILE}", hidden=False, description="one line Lin,<max_price> per seller"),
        DataFileRule(f"{_MARKET}/{BUDGET_FILE}", hidden=False, description="the buyer's budget"),
        DataFileRule(
            f"{_MARKET}/{SUMMARY_DIR}/*.csv{SUMMARY_SUFFIX}",
            hidden=False,
            description="each seller's summary: row and column counts, histograms, label correlations",
        ),
        DataFileRule(
            f"{_MARKET}/{SUMMARY_DIR}/*.csv{SAMPLES_SUFFIX}",
            hidden=False,
            description="5 sample rows of each seller (space-separated)",
            required=False,
        ),
        DataFileRule(f"{_MARKET}/{SELLER_ID_FILE}", hidden=False, description="the seller ids", required=False),
    )

    def validate_config(self, config: Mapping[str, Any]) -> dict[str, Any]:
        """`markets` is required; `model` (lr), `trials` (10) and `alpha` (0.98) have the DataPerf defaults."""
        return AcquisitionConfig.from_mapping(config).as_dict()

    def primary_metric(self, config: Mapping[str, Any]) -> MetricSpec:
        """Mean over markets of `alpha * accuracy + (1 - alpha) * (budget - cost) / budget`, shown x100."""
        return MetricSpec(PRIMARY_METRIC, "Score (accuracy and unspent budget), mean over markets", display_scale=100)

    def metric_specs(self, config: Mapping[str, Any]) -> list[MetricSpec]:
        """Per market: accuracy (a leaderboard column), cost (lower is better) and the market's score."""
        specs: list[MetricSpec] = []
        for market in AcquisitionConfig.from_mapping(config).markets:
            specs += [
                MetricSpec(
                    market_metric("accuracy", market),
                    f"Accuracy, market {market}",
                    display_scale=100,
                    leaderboard_column=True,
                ),
                MetricSpec(market_metric("cost", market), f"Cost, market {market}", higher_is_better=False),
                MetricSpec(market_metric("score", market), f"Score, market {market}", display_scale=100),
            ]
        return specs

    def load_task(self, task_dir: Path, config: Mapping[str, Any]) -> AcquisitionTask:
        """Read every market's public files; the sellers' and buyer's data are read on first use."""
        return load_acquisition_task(Path(task_dir), AcquisitionConfig.from_mapping(config))

    def check_task(self, task: AcquisitionTask) -> list[str]:
        """Hidden files must match the public summaries; sellers and buyer need both labels."""
        return task.problems()

    def validate(self, task: AcquisitionTask, submission_path: Path) -> AcquisitionPlan:
        """List the directory and check every market file (see `validation.py`)."""
        return parse_plan(task, Path(submission_path))

    def evaluate(
        self, task: AcquisitionTask, parsed: AcquisitionPlan, report_progress: ProgressCallback = no_progress
    ) -> EvaluationResult:
        """`trials` fits per market; progress is reported after each fit."""
        return score_plan(task, parsed, report_progress)

    def canonical(self, task: AcquisitionTask, parsed: AcquisitionPlan) -> object:
        """`{market: {seller file name: rows bought}}`, every seller present (0 when nothing is bought)."""
        return {
            plan.market: {
                seller.file_name: count
                for seller, count in zip(task.markets[plan.market].sellers, plan.counts, strict=True)
            }
            for plan in parsed.markets
        }
