"""The straightforward schedule, as the reference runs it: the yardstick of the fast path, never used to score.

After one training on the noisy table (its "accuracy before cleaning", not part of the score), at every
step i = 1..train_size the reference rebuilds the training table with the first i listed rows relabelled (a
pyarrow round trip through Python lists, one pandas look-up per listed row), re-seeds and re-creates the
model, and trains it with autograd, `torch.optim.AdamW` and a `DataLoader` (batch 64, no shuffling). This
module does the same with plain torch building blocks (`nn.Linear`, `BCEWithLogitsLoss`, `AdamW`), written
after the description in cases/README.md and DATAPERF.md section 3. It is slow: the tests check that
`training.py` gives the same weights bit for bit, and `bench/debugging_vision.py` times both schedules.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from evaluators.debugging_vision.data import (
    ENCODING_COLUMN,
    FEATURE_DIM,
    FILENAME_COLUMN,
    GT_ID_COLUMN,
    GT_LABEL_COLUMN,
    LABEL_COLUMN,
    ground_truth_file,
)
from evaluators.debugging_vision.task import DebuggingConfig
from evaluators.debugging_vision.training import (
    BATCH_SIZE,
    EPOCHS,
    HIDDEN_UNITS,
    LEARNING_RATE,
    SEED,
    WEIGHT_DECAY,
)


class ReferenceModel(nn.Module):
    """`Linear(2048, 128) -> Linear(128, 1)`, no activation."""

    def __init__(self) -> None:
        super().__init__()
        self.fc1 = nn.Linear(FEATURE_DIM, HIDDEN_UNITS)
        self.fc2 = nn.Linear(HIDDEN_UNITS, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.fc1(x))  # type: ignore[no-any-return]  # nn.Module.__call__ is untyped


class ReferenceClassifier:
    """The reference classifier: seeded model, autograd training, threshold tuned on the training set."""

    def __init__(self) -> None:
        torch.manual_seed(SEED)
        self.model = ReferenceModel()
        self.threshold: float = 0.5

    def fit(self, features: npt.NDArray[np.float32], labels: npt.NDArray[np.float32]) -> None:
        """Train for 20 epochs on (n, 2048) features and (n, 1) labels, then tune the threshold."""
        x_all, y_all = torch.tensor(features), torch.tensor(labels)
        loader = DataLoader(TensorDataset(x_all, y_all), batch_size=BATCH_SIZE, shuffle=False)
        loss_function = nn.BCEWithLogitsLoss()
        optimizer = torch.optim.AdamW(self.model.parameters(), lr=LEARNING_RATE, weight_decay=WEIGHT_DECAY)
        self.model.train(True)
        for _ in range(EPOCHS):
            for x, y in loader:
                optimizer.zero_grad()
                loss = loss_function(self.model(x.float()).reshape(y.shape), y.float())
                loss.backward()
                optimizer.step()
        best_accuracy, best_threshold = 0.0, 0.0
        for threshold in list(np.arange(0.1, 1, 0.05)):
            self.threshold = threshold
            accuracy = self.evaluate(x_all, y_all.numpy())
            if accuracy > best_accuracy:
                best_accuracy, best_threshold = accuracy, threshold
        self.threshold = best_threshold

    def predict(self, features: torch.Tensor | npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        """0 where `sigmoid(output) <= threshold`, 1 where above (a NaN stays NaN), as the reference does."""
        self.model.eval()
        inputs = features if isinstance(features, torch.Tensor) else torch.tensor(features).float()
        with torch.no_grad():
            output = torch.sigmoid(self.model(inputs))
        zeroed = np.where(output <= self.threshold, 0, output)
        predicted: npt.NDArray[np.float32] = np.where(zeroed > self.threshold, 1, zeroed).ravel()
        return predicted

    def evaluate(self, features: torch.Tensor | npt.NDArray[np.float32], labels: npt.NDArray[np.generic]) -> float:
        """`round(mean(prediction == label), 2)` with numpy's rounding of a float64."""
        accuracy: float = round((self.predict(features) == labels.ravel()).mean(), 2)
        return accuracy


def _stack(table: pa.Table, column: str) -> npt.NDArray[np.generic]:
    stacked: npt.NDArray[np.generic] = np.vstack(table.column(column).to_numpy())
    return stacked


def _relabelled(train: pa.Table, fixes: Sequence[int], ground_truth: pd.DataFrame) -> pa.Table:
    """The training table with the listed rows relabelled, rebuilt through Python lists as the reference does."""
    fixed_rows = train.take(list(fixes)).to_pydict()
    rows = train.to_pydict()
    true_labels = [
        ground_truth[ground_truth[GT_ID_COLUMN] == filename][GT_LABEL_COLUMN].to_numpy()[0]
        for filename in fixed_rows[FILENAME_COLUMN]
    ]
    for position, row in enumerate(fixes):
        rows[LABEL_COLUMN][row] = true_labels[position]
    return pa.Table.from_pydict(rows)


def reference_curve(
    task_dir: Path, config: DebuggingConfig, data_id: str, ranking: Sequence[int], *, steps: int | None = None
) -> list[float]:
    """The reference's accuracy curve y[0..steps-1] for a ranking (all `train_size` steps by default).

    Reads the files itself at every call, as the reference does per task; `ranking` is the parsed list of
    row indexes. Single-threaded torch is the caller's business (see `training.reference_numerics`).
    """
    ground_truth = pd.read_csv(task_dir / ground_truth_file(data_id), dtype={GT_ID_COLUMN: str})
    train = pq.read_table(task_dir / config.train_file(data_id))
    test = pq.read_table(task_dir / config.test_file(data_id))
    test_x, test_y = _stack(test, ENCODING_COLUMN), _stack(test, LABEL_COLUMN)
    # The reference first trains on the noisy table ("accuracy before cleaning", printed, not scored).
    before = ReferenceClassifier()
    before.fit(_stack(train, ENCODING_COLUMN).astype(np.float32), _stack(train, LABEL_COLUMN).astype(np.float32))
    before.evaluate(test_x.astype(np.float32), test_y)
    curve = []
    for step in range(1, (steps or config.train_size) + 1):
        relabelled = _relabelled(train, ranking[:step], ground_truth)
        train_x = _stack(relabelled, ENCODING_COLUMN).astype(np.float32)
        train_y = _stack(relabelled, LABEL_COLUMN).astype(np.float32)
        classifier = ReferenceClassifier()
        classifier.fit(train_x, train_y)
        curve.append(classifier.evaluate(test_x.astype(np.float32), test_y))
    return curve


def reference_parameters(features: npt.NDArray[np.float32], labels: npt.NDArray[np.float32]) -> list[torch.Tensor]:
    """The trained weights of the reference classifier (in `model.parameters()` order), for equality tests."""
    classifier = ReferenceClassifier()
    classifier.fit(features, labels.reshape(-1, 1))
    return [param.detach().clone() for param in classifier.model.parameters()]
