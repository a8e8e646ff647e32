"""valuation: predict what unlabelled data B would add to labelled data A (DataPerf "data valuation").

No original scorer exists; README.md documents the design. `evaluator.py` is the registered `Evaluator`;
`data.py` reads the tables, `model.py` is the fixed model, `task.py` holds the loaded task, `validation.py`
checks predictions, `scoring.py` compares them with the actual accuracies, `synthetic.py` writes demo tasks
(from scikit-learn's bundled breast-cancer data) and baseline predictions.
"""

from __future__ import annotations
