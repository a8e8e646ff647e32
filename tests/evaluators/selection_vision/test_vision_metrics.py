"""selection-vision metrics: the one-confusion-matrix computation equals scikit-learn's four calls, bit for bit."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest
from sklearn.metrics import accuracy_score, f1_score, precision_score, recall_score

from evaluators.selection_vision.scoring import binary_metrics

IntArray = npt.NDArray[np.int64]


def _sklearn(truth: IntArray, predicted: IntArray) -> dict[str, float]:
    """What the evaluator computed before: the four scikit-learn calls of the reference."""
    return {
        "f1": float(f1_score(truth, predicted, pos_label=1, zero_division=0.0)),
        "accuracy": float(accuracy_score(truth, predicted)),
        "precision": float(precision_score(truth, predicted, pos_label=1, zero_division=0.0)),
        "recall": float(recall_score(truth, predicted, pos_label=1, zero_division=0.0)),
    }


def _same_bits(ours: dict[str, float], theirs: dict[str, float]) -> bool:
    return list(ours) == list(theirs) and all(
        np.float64(ours[name]).tobytes() == np.float64(theirs[name]).tobytes() for name in theirs
    )


@pytest.mark.parametrize("seed", range(40))
def test_random_predictions_give_scikit_learn_s_values_bit_for_bit(seed: int) -> None:
    rng = np.random.default_rng(seed)
    size = int(rng.integers(1, 3000))
    truth = (rng.random(size) < rng.random()).astype(np.int64)
    predicted = (rng.random(size) < rng.random()).astype(np.int64)
    assert _same_bits(binary_metrics(truth, predicted), _sklearn(truth, predicted))


@pytest.mark.parametrize(
    ("truth", "predicted"),
    [
        ([0, 0, 0, 0], [0, 0, 0, 0]),  # one class everywhere: no positive at all
        ([1, 1, 1], [1, 1, 1]),  # one class everywhere: all positive
        ([1, 0, 1, 0], [0, 0, 0, 0]),  # no positive predicted: precision and F1 undefined
        ([0, 0, 0], [1, 0, 1]),  # no positive in the truth: recall and F1 undefined
        ([1, 1, 0], [0, 0, 1]),  # all wrong
        ([1], [0]),
        ([0], [0]),
    ],
)
def test_degenerate_inputs_give_scikit_learn_s_values(truth: list[int], predicted: list[int]) -> None:
    truth_array, predicted_array = np.array(truth, dtype=np.int64), np.array(predicted, dtype=np.int64)
    assert _same_bits(binary_metrics(truth_array, predicted_array), _sklearn(truth_array, predicted_array))


def test_an_undefined_metric_is_zero() -> None:
    values = binary_metrics(np.array([1, 0, 1, 0]), np.array([0, 0, 0, 0]))
    assert (values["precision"], values["f1"], values["recall"], values["accuracy"]) == (0.0, 0.0, 0.0, 0.5)


def test_empty_input_is_refused_as_scikit_learn_refuses_it() -> None:
    empty = np.array([], dtype=np.int64)
    with pytest.raises(ValueError, match="empty input"):
        _sklearn(empty, empty)
    with pytest.raises(ValueError, match="non-zero length"):
        binary_metrics(empty, empty)


@pytest.mark.parametrize("predicted", [[0, 2, 1], [0, -1, 1]])
def test_a_label_other_than_0_or_1_is_refused(predicted: list[int]) -> None:
    with pytest.raises(ValueError, match="0 and 1 only"):
        binary_metrics(np.array([0, 1, 1]), np.array(predicted))


def test_arrays_of_different_lengths_are_refused() -> None:
    with pytest.raises(ValueError, match="one non-zero length"):
        binary_metrics(np.array([0, 1, 1]), np.array([0, 1]))
