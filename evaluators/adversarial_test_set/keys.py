"""Item keys: what makes two submitted items the same item, for sharing credit and for human validation.

A pool item's key is its pool id. A new item's key is `new:` followed by the SHA-256 (64 lower-case hex digits)
of its canonical bytes: the PNG file's bytes as submitted, or, for a feature vector, the UTF-8 of its values
joined by "," with each value written as `repr(float(v))` (`features_text`). The platform stores new items
under these keys, and `validated.csv` gives their human labels by key.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np

from evaluators.adversarial_test_set.data import NEW_KEY_PREFIX
from evaluators.training_set_creation.materialise import features_text


def item_key_of_png(data: bytes) -> str:
    """The key of a new image item: `new:` + SHA-256 of the PNG file's bytes."""
    return NEW_KEY_PREFIX + hashlib.sha256(data).hexdigest()


def features_payload(values: Sequence[float] | np.ndarray) -> bytes:
    """The canonical bytes of a new feature item: the UTF-8 of `features_text(values)`."""
    return features_text(values).encode("utf-8")


def item_key_of_features(values: Sequence[float] | np.ndarray) -> str:
    """The key of a new feature item: `new:` + SHA-256 of `features_payload(values)`."""
    return NEW_KEY_PREFIX + hashlib.sha256(features_payload(values)).hexdigest()


def vector_digest(vector: np.ndarray) -> bytes:
    """A digest of a preprocessed float64 vector: equal digests mean the models see the same item."""
    return hashlib.sha256(np.ascontiguousarray(vector, dtype=np.float64).tobytes()).digest()
