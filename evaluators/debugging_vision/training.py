"""The fixed model of the reference (`app/classifier.py` of DS3Lab/dataperf-vision-debugging), bit for bit.

The reference trains `Linear(2048, 128) -> Linear(128, 1)` (no activation) from `torch.manual_seed(42)` for
20 epochs over batches of 64 rows in dataset order (the last batch is partial), with `BCEWithLogitsLoss`
(mean) and `AdamW(lr=0.01, weight_decay=0.9)` (the single-tensor CPU implementation), then picks the
decision threshold among `numpy.arange(0.1, 1, 0.05)` that maximises the training accuracy rounded to 2
decimals (first maximum wins; 0 if none is above 0), and reports `round(test accuracy, 2)`.

The scores swing by tens of points when one float32 rounding differs (the model is unstable at this learning
rate and weight decay), so this module does not approximate the reference: it issues the very tensor
operations that autograd and `torch.optim.AdamW` issue, in the same order and on the same shapes, without
their per-call overhead and allocations. `tests/evaluators/debugging_vision/test_debugging_training.py`
checks equality of every parameter, bit for bit, against the plain nn/autograd/optim implementation in
`reference.py`. The initial weights are drawn once under seed 42 and copied for every training: the same
numbers as re-seeding before each one, since training itself draws no random number.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import torch

from evaluators.debugging_vision.data import FEATURE_DIM, FloatArray, LabelArray

HIDDEN_UNITS = 128
SEED = 42
EPOCHS = 20
BATCH_SIZE = 64
LEARNING_RATE = 0.01
WEIGHT_DECAY = 0.9
BETA1, BETA2 = 0.9, 0.999
EPSILON = 1e-8
# The reference's candidate list, np.float64 values such as 0.15000000000000002. torch compares a float32
# tensor with a Python scalar in float32, so `probability > t` is what the reference's two np.where calls do.
THRESHOLDS: tuple[float, ...] = tuple(float(t) for t in np.arange(0.1, 1, 0.05))

Parameters = tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]
"""fc1.weight (128, 2048), fc1.bias (128,), fc2.weight (1, 128), fc2.bias (1,): `model.parameters()` order."""


@functools.cache
def initial_parameters() -> Parameters:
    """The weights `torch.manual_seed(42); LinearModel()` gives (drawn once; the global RNG is left alone)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(SEED)
        fc1 = torch.nn.Linear(FEATURE_DIM, HIDDEN_UNITS)
        fc2 = torch.nn.Linear(HIDDEN_UNITS, 1)
    return (
        fc1.weight.detach().clone(),
        fc1.bias.detach().clone(),
        fc2.weight.detach().clone(),
        fc2.bias.detach().clone(),
    )


@contextmanager
def reference_numerics() -> Iterator[None]:
    """Run the block with one intra-op thread and IEEE float32 matmuls, as the reference values were made.

    Both settings are process-wide in torch: they are restored on exit, so a caller's choice survives.
    (One thread because MKL's two-thread products round differently on some CPUs, AVX-512 ones among them;
    it also keeps a worker to one core.)
    """
    threads = torch.get_num_threads()
    precision = torch.get_float32_matmul_precision()
    torch.set_num_threads(1)
    if precision != "highest":
        torch.set_float32_matmul_precision("highest")
    try:
        yield
    finally:
        torch.set_num_threads(threads)
        if precision != "highest":
            torch.set_float32_matmul_precision(precision)


def as_tensor(array: FloatArray) -> torch.Tensor:
    """A float32 copy in torch's own (64-byte aligned) memory, as `torch.tensor(array)` gives the reference."""
    return torch.tensor(np.ascontiguousarray(array, dtype=np.float32))


@dataclass(frozen=True)
class DatasetTensors:
    """The features of one dataset as tensors (built once per task) and the test labels."""

    train_features: torch.Tensor
    test_features: torch.Tensor
    test_labels: LabelArray


class _AdamW:
    """The single-tensor AdamW step of torch.optim (decoupled weight decay, no amsgrad).

    Each operation is issued once for the four parameters through torch's `_foreach_*` functions: on the CPU
    they apply the same per-tensor kernel to each tensor in turn (the same bits as one call per tensor, which
    the training tests check) and save three Python-to-C++ calls of four, most of what the three small
    parameters cost.
    """

    def __init__(self, params: Parameters) -> None:
        self.params = list(params)
        self.exp_avg = [torch.zeros_like(p) for p in params]
        self.exp_avg_sq = [torch.zeros_like(p) for p in params]
        self.steps = 0

    def step(self, grads: Parameters) -> None:
        # torch keeps the step count in a float32 tensor and reads it back with .item(): a float here.
        self.steps += 1
        step = float(self.steps)
        bias_correction1 = 1 - BETA1**step
        bias_correction2 = 1 - BETA2**step
        step_size = LEARNING_RATE / bias_correction1
        bias_correction2_sqrt = bias_correction2**0.5
        gradients = list(grads)
        torch._foreach_mul_(self.params, 1 - LEARNING_RATE * WEIGHT_DECAY)
        torch._foreach_lerp_(self.exp_avg, gradients, 1 - BETA1)
        torch._foreach_mul_(self.exp_avg_sq, BETA2)
        torch._foreach_addcmul_(self.exp_avg_sq, gradients, gradients, value=1 - BETA2)
        denom = torch._foreach_sqrt(self.exp_avg_sq)
        torch._foreach_div_(denom, bias_correction2_sqrt)
        torch._foreach_add_(denom, EPSILON)
        torch._foreach_addcdiv_(self.params, self.exp_avg, denom, value=-step_size)


def _gradients(params: Parameters, x: torch.Tensor, y: torch.Tensor, grad_w1: torch.Tensor) -> Parameters:
    """The gradients autograd computes for one batch, with autograd's own operations.

    `F.linear` is `addmm(bias, input, weight.t())`; BCEWithLogits (mean) backward is
    `(sigmoid(logits) - target) * 1 / numel`; addmm's backward is `grad.t().mm(input)` for a transposed
    weight, `grad.mm(weight)` for the input and a sum over the batch for the bias. The multiplication by
    the incoming gradient 1.0 is exact and left out.
    """
    w1, b1, w2, b2 = params
    hidden = torch.addmm(b1, x, w1.t())
    logits = torch.addmm(b2, hidden, w2.t())
    grad_logits = logits.sigmoid() - y
    grad_logits.div_(logits.numel())
    grad_w2 = grad_logits.t().mm(hidden)
    grad_b2 = grad_logits.sum(0)
    grad_hidden = grad_logits.mm(w2)
    torch.mm(grad_hidden.t(), x, out=grad_w1)
    return grad_w1, grad_hidden.sum(0), grad_w2, grad_b2


def train_parameters(features: torch.Tensor, labels: torch.Tensor) -> Parameters:
    """Train the fixed model on (n, 2048) float32 features and (n, 1) float32 0/1 labels; return its weights."""
    params: Parameters = tuple(p.clone() for p in initial_parameters())  # type: ignore[assignment]  # 4 items
    optimizer = _AdamW(params)
    grad_w1 = torch.empty_like(params[0])
    batches = [
        (features[start : start + BATCH_SIZE], labels[start : start + BATCH_SIZE])
        for start in range(0, len(features), BATCH_SIZE)
    ]
    for _ in range(EPOCHS):
        for x, y in batches:
            optimizer.step(_gradients(params, x, y, grad_w1))
    return params


def probabilities(params: Parameters, features: torch.Tensor) -> torch.Tensor:
    """`sigmoid(model(features))` for the whole set at once, shape (n, 1), as the reference predicts."""
    w1, b1, w2, b2 = params
    return torch.addmm(b2, torch.addmm(b1, features, w1.t()), w2.t()).sigmoid()


def rounded_accuracy(probability: torch.Tensor, threshold: float, labels: npt.NDArray[np.bool_]) -> np.float64:
    """`round(mean(prediction == label), 2)` with the reference's prediction rule and numpy rounding.

    The reference predicts 0 where `p <= t`, 1 where `p > t` and leaves a NaN probability as it is (never
    equal to a label). `round` of a numpy float64 is numpy's rounding (`rint(x * 100) / 100`), not Python's.
    """
    return rounded_mean(correct_predictions(probability, threshold, labels))


def correct_predictions(
    probability: torch.Tensor, threshold: float, labels: npt.NDArray[np.bool_]
) -> npt.NDArray[np.bool_]:
    """Whether each prediction (the reference's rule, see `rounded_accuracy`) equals its label."""
    above = (probability > threshold).numpy().ravel()
    at_or_below = (probability <= threshold).numpy().ravel()
    correct: npt.NDArray[np.bool_] = (above & labels) | (at_or_below & ~labels)
    return correct


def rounded_mean(correct: npt.NDArray[np.bool_]) -> np.float64:
    """`round(mean(correct), 2)` with numpy's rounding: the reference's accuracy of these predictions."""
    mean = np.float64(np.mean(correct))
    return round(mean, 2)


def best_threshold(probability: torch.Tensor, labels: npt.NDArray[np.bool_]) -> float:
    """The first threshold with the highest rounded training accuracy; 0 if none is above 0 (as the reference)."""
    best_accuracy: np.float64 | int = 0
    best = 0.0
    for threshold in THRESHOLDS:
        accuracy = rounded_accuracy(probability, threshold, labels)
        if accuracy > best_accuracy:
            best_accuracy, best = accuracy, threshold
    return best


def correctness_after_training(tensors: DatasetTensors, labels: LabelArray) -> npt.NDArray[np.bool_]:
    """Train on `labels` (0/1 per training row) and return whether each test image is predicted right."""
    targets = torch.from_numpy(labels.astype(np.float32).reshape(-1, 1))
    params = train_parameters(tensors.train_features, targets)
    threshold = best_threshold(probabilities(params, tensors.train_features), labels.astype(bool))
    return correct_predictions(
        probabilities(params, tensors.test_features), threshold, tensors.test_labels.astype(bool)
    )


def accuracy_after_training(tensors: DatasetTensors, labels: LabelArray) -> np.float64:
    """Train on `labels` (0/1 per training row) and return the rounded test accuracy: one point of the curve."""
    return rounded_mean(correctness_after_training(tensors, labels))
