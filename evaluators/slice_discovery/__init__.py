"""slice-discovery: find the subsets of a test set on which a fixed model underperforms (DCBench).

`evaluator.py` is the registered `Evaluator`; `data.py` reads the task files, `task.py` holds the loaded
task, `validation.py` checks submissions (CSV or parquet), `scoring.py` matches predicted slices to the
ground truth, `ground_truth.py` adds newly discovered slices to the ground truth, `synthetic.py` writes
synthetic tasks and baseline submissions for tests and demos.
"""

from __future__ import annotations
