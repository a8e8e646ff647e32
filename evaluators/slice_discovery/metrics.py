"""The names of the metrics slice-discovery reports, apart from the scoring code.

The evaluator declares its metrics (`primary_metric`, `metric_specs`) whenever the platform asks, including
in processes that only validate uploads; importing `scoring.py` for the names would load scikit-learn and
scipy (about 130 MB) there.
"""

from __future__ import annotations

PRIMARY_METRIC = "mean_average_precision"
PER_SLICE_METRICS = (
    "average_precision",
    "precision_at_10",
    "precision_at_25",
    "precision",
    "recall",
    "f1",
    "pred_slice_idx",
)


def slice_metric(metric: str, slice_name: str) -> str:
    """The reported name of a per-slice metric, e.g. `average_precision.A`."""
    return f"{metric}.{slice_name}"
