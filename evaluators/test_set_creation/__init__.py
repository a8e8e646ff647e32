"""test-set-creation: participants pick pool items the fixed model suite gets wrong, and label them.

`evaluator.py` is the registered `CollectiveEvaluator`; `task.py` holds the config and the loaded task,
`data.py` reads the task files, `suite.py` fits the model suite and predicts the pool, `validation.py`
checks submissions, `scoring.py` computes (shared) credit, `baselines.py` and `synthetic.py` make the demo
task and baselines. README.md is the spec.
"""

from __future__ import annotations
