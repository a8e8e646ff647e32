"""training-set-creation: participants hand in a labelled training set; fixed models are trained on it.

`evaluator.py` is the registered `Evaluator`; `task.py` holds the config and the loaded task, `data.py`
reads the task's item tables, `images.py` is the one image preprocessing path; `item_csv.py` (shared with
test-set-creation), `submission_files.py`, `features_file.py` and `validation.py` check submissions;
`models.py` and `scoring.py` fit the fixed models; `render.py`, `baselines.py` and `synthetic.py` make the
demo tasks and baselines. README.md is the specification.
"""

from __future__ import annotations
