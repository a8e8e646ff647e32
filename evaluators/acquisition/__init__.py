"""acquisition: data acquisition for ML under a budget (DataPerf DAM).

`evaluator.py` is the registered `Evaluator`; `data.py` reads the market files, `task.py` holds the loaded
task, `validation.py` checks purchase plans, `scoring.py` draws the rows and fits the buyer's model,
`synthetic.py` writes synthetic markets and baseline plans for tests and demos.
"""

from __future__ import annotations
