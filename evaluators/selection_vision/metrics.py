"""The names of the metrics selection-vision reports, apart from the scoring code.

The evaluator declares its metrics (`primary_metric`, `metric_specs`) whenever the platform asks, including
in processes that only validate uploads; importing `scoring.py` for the names would load scikit-learn and
scipy (over 100 MB) there.
"""

from __future__ import annotations

PRIMARY_METRIC = "mean_f1"
METRICS = ("f1", "accuracy", "precision", "recall")


def concept_metric(metric: str, concept: str) -> str:
    """The name of one concept's metric, e.g. `f1.Cupcake`."""
    return f"{metric}.{concept}"
