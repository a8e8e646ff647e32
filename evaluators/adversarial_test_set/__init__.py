"""adversarial-test-set: the test-set side of the data ratchet. Participants hand in pool items and new items
they made, each with a claimed label; confirmed items that fool the model suite earn credit, shared among the
submissions holding the same claim.

`evaluator.py` is the registered `CollectiveEvaluator`; `config.py` and `task.py` hold the config and the loaded
task, `data.py` reads the task's files, `keys.py` names items, `suite.py` fits the model suite (training-set-
creation's fixed models), `validation.py` checks submissions (with training-set-creation's rules), `scoring.py`
computes (shared) credit; `items.py` holds the plain functions the platform calls, re-exported here;
`baselines.py` and `synthetic.py` make the demo task and baselines. README.md is the specification.
"""

from __future__ import annotations

from evaluators.adversarial_test_set.items import (
    ItemVerdict,
    feature_names,
    item_verdicts,
    new_item_payload,
    pool_image_path,
    predict_items,
    suite_names,
    vector_of_payload,
)
from evaluators.adversarial_test_set.keys import item_key_of_features, item_key_of_png

__all__ = [
    "ItemVerdict",
    "feature_names",
    "item_key_of_features",
    "item_key_of_png",
    "item_verdicts",
    "new_item_payload",
    "pool_image_path",
    "predict_items",
    "suite_names",
    "vector_of_payload",
]
