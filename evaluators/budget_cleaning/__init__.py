"""budget-cleaning: choose which dirty training rows to clean within a budget (DCBench budgetclean).

`evaluator.py` is the registered `Evaluator`; `data.py` reads the task files as DCBench does, `task.py`
holds the loaded task and caches the fixed dirty and clean models, `model.py` is the fixed pipeline,
`validation.py` checks submissions, `scoring.py` trains on a submission's table, `synthetic.py` writes
synthetic tasks and baseline submissions for tests and demos.
"""

from __future__ import annotations
