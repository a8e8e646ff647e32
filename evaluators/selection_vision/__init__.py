"""selection-vision: training-set selection for binary image concepts (DataPerf vision selection).

`evaluator.py` is the registered `Evaluator`; `data.py` reads the task files, `cache.py` optionally
memory-maps the pool, `task.py` holds the loaded task, `artifact.py` lists directory artifacts,
`validation.py` checks submissions, `scoring.py` fits the reference model, `synthetic.py` writes synthetic
tasks and baseline selections for tests and demos.
"""

from __future__ import annotations
