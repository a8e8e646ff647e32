"""debugging-vision: the fast trainer issues the same float32 operations as the reference's nn/autograd/AdamW
loop, so every weight and every accuracy is identical bit for bit (the model is too unstable for anything
less: one different rounding moves the test accuracy by tens of points)."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
import torch

from evaluators.debugging_vision.reference import ReferenceClassifier, ReferenceModel, reference_parameters
from evaluators.debugging_vision.scoring import dataset_tensors
from evaluators.debugging_vision.task import DebuggingTask
from evaluators.debugging_vision.training import (
    THRESHOLDS,
    DatasetTensors,
    accuracy_after_training,
    as_tensor,
    best_threshold,
    initial_parameters,
    reference_numerics,
    rounded_accuracy,
    train_parameters,
)


@pytest.fixture(autouse=True)
def _one_thread() -> Iterator[None]:
    with reference_numerics():
        yield


def _features(rows: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.abs(0.2 + 0.1 * rng.standard_normal((rows, 2048))).astype(np.float32)


def _labels(rows: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 2, rows).astype(np.uint8)


@pytest.mark.parametrize("rows", [40, 65, 130], ids=["one-batch", "last-batch-of-one", "three-batches"])
def test_the_weights_equal_the_reference_loop_bit_for_bit(rows: int) -> None:
    features, labels = _features(rows, rows), _labels(rows, rows + 1)
    expected = reference_parameters(features, labels.astype(np.float32))
    actual = train_parameters(as_tensor(features), torch.from_numpy(labels.astype(np.float32).reshape(-1, 1)))
    for want, got in zip(expected, actual, strict=True):
        assert torch.equal(want, got)


def _reference_accuracy(tensors: DatasetTensors, labels: np.ndarray) -> float:
    classifier = ReferenceClassifier()
    classifier.fit(tensors.train_features.numpy(), labels.astype(np.float32).reshape(-1, 1))
    return classifier.evaluate(tensors.test_features.numpy(), tensors.test_labels.astype(np.int64).reshape(-1, 1))


def test_a_curve_point_equals_the_reference_classifier_on_every_label_set(small_task: DebuggingTask) -> None:
    tensors = dataset_tensors(small_task, "01g317")
    noisy, truth = small_task.train["01g317"].labels, small_task.hidden("01g317").truth
    wrong = np.flatnonzero(noisy != truth)
    for count in (0, 3, len(wrong)):
        labels = noisy.copy()
        labels[wrong[:count]] = truth[wrong[:count]]
        assert accuracy_after_training(tensors, labels) == _reference_accuracy(tensors, labels)


def test_the_public_case_gives_the_same_weights_whatever_thread_count_the_caller_set(
    public_task: DebuggingTask,
) -> None:
    """MKL's two-thread products round differently from its one-thread ones on some CPUs (AVX-512: measured
    here), so the scoring trains under `reference_numerics` (one thread), whatever the process had set."""
    tensors = dataset_tensors(public_task, "synC")
    targets = torch.from_numpy(public_task.hidden("synC").truth.astype(np.float32).reshape(-1, 1))
    torch.set_num_threads(1)
    with reference_numerics():
        one = train_parameters(tensors.train_features, targets)
    torch.set_num_threads(2)
    with reference_numerics():
        two = train_parameters(tensors.train_features, targets)
    assert all(torch.equal(a, b) for a, b in zip(one, two, strict=True))


def test_an_accuracy_does_not_depend_on_the_thread_count(small_task: DebuggingTask) -> None:
    tensors = dataset_tensors(small_task, "09j2d")
    labels = small_task.train["09j2d"].labels
    one = accuracy_after_training(tensors, labels)
    torch.set_num_threads(2)
    assert accuracy_after_training(tensors, labels) == one


def test_reference_numerics_restores_the_thread_count() -> None:
    torch.set_num_threads(2)
    with reference_numerics():
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == 2


def test_the_initial_weights_are_seed_42_and_leave_the_global_generator_alone() -> None:
    torch.manual_seed(7)
    before = torch.random.get_rng_state()
    params = initial_parameters()
    assert torch.equal(torch.random.get_rng_state(), before)
    torch.manual_seed(42)
    model = ReferenceModel()
    assert all(torch.equal(a, b) for a, b in zip(model.parameters(), params, strict=True))


def test_the_thresholds_are_the_references_float64_values() -> None:
    assert tuple(np.arange(0.1, 1, 0.05).tolist()) == THRESHOLDS
    assert len(THRESHOLDS) == 18
    assert THRESHOLDS[1] == 0.15000000000000002


def _reference_rule(probability: torch.Tensor, threshold: float, labels: np.ndarray) -> float:
    zeroed = np.where(probability <= threshold, 0, probability)
    predicted = np.where(zeroed > threshold, 1, zeroed).ravel()
    return float(round((predicted == labels).mean(), 2))


def test_a_probability_is_compared_with_the_threshold_in_float32() -> None:
    # float32(0.1) is above the float64 0.1, yet torch compares in float32: the reference predicts 0 there.
    at = np.float32(0.1)
    probability = torch.tensor([[at], [np.nextafter(at, np.float32(1))]], dtype=torch.float32)
    labels = np.array([False, True])
    assert rounded_accuracy(probability, 0.1, labels) == 1.0
    assert _reference_rule(probability, 0.1, labels.astype(np.float32)) == 1.0


def test_a_nan_probability_is_never_a_correct_prediction() -> None:
    probability = torch.tensor([[float("nan")], [0.9], [0.05], [float("nan")]])
    labels = np.array([False, True, False, True])
    assert rounded_accuracy(probability, 0.5, labels) == 0.5
    assert _reference_rule(probability, 0.5, labels.astype(np.float32)) == 0.5


def test_accuracy_is_rounded_as_numpy_rounds_a_float64() -> None:
    # 1 of 40 correct: numpy's round(0.025, 2) is 0.02, Python's round(0.025, 2) is 0.03.
    probability = torch.full((40, 1), 0.9)
    labels = np.zeros(40, dtype=bool)
    labels[0] = True
    assert rounded_accuracy(probability, 0.5, labels) == 0.02


def test_the_first_best_threshold_wins() -> None:
    probability = torch.tensor([[0.12], [0.5], [0.97]])
    labels = np.array([False, True, True])
    # Every threshold from 0.15 to 0.45 is perfect; the first one is kept.
    assert best_threshold(probability, labels) == THRESHOLDS[1]


def test_the_threshold_is_zero_when_no_accuracy_is_above_zero() -> None:
    probability = torch.full((5, 1), 0.99)
    assert best_threshold(probability, np.zeros(5, dtype=bool)) == 0.0
