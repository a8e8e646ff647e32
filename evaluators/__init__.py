"""DataPerf evaluators: a Django-free library that scores submissions exactly as the platform does.

Use `get_evaluator(slug)` to obtain an evaluator and drive it through the contract of `evaluators.base`;
`python -m evaluators --help` is the offline command line.
"""

from __future__ import annotations

from evaluators.base import (
    DataFileRule,
    EvaluationResult,
    Evaluator,
    EvaluatorError,
    MetricSpec,
    ProgressCallback,
    SubmissionError,
    TaskConfigError,
    no_progress,
)
from evaluators.registry import (
    RegistryError,
    UnknownEvaluatorError,
    available_slugs,
    check_registry,
    configure,
    get_evaluator,
)
from evaluators.runtime import pin_openblas_kernel

# The modules above do not import numpy, so this still runs before it is loaded in a fresh process: the
# reference scores need OpenBLAS's Haswell kernels (see runtime.py). Keep numpy out of these imports.
pin_openblas_kernel()

__all__ = [
    "DataFileRule",
    "EvaluationResult",
    "Evaluator",
    "EvaluatorError",
    "MetricSpec",
    "ProgressCallback",
    "RegistryError",
    "SubmissionError",
    "TaskConfigError",
    "UnknownEvaluatorError",
    "available_slugs",
    "check_registry",
    "configure",
    "get_evaluator",
    "no_progress",
]
