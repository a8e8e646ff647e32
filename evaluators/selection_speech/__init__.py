"""selection-speech: training-set selection for keyword spotting (DataPerf speech).

`evaluator.py` is the registered `Evaluator`; `data.py` reads the task files, `task.py` holds the loaded
task, `validation.py` checks submissions, `scoring.py` fits the reference models, `synthetic.py` writes
synthetic tasks and baseline selections for tests and demos.
"""

from __future__ import annotations
