"""What the CSV and the parquet readers of a slice-discovery submission share: the header rule and the table
that rows land in, chunk by chunk.

A submission is read in bounded chunks and never held whole: each chunk's ids are looked up at once
(`ExampleIds.rows_of_keys`), checked against the ids seen so far, and its scores are written straight to
their row of the result (the predictions' order). What is kept besides the result is one integer per
example: where its id was first seen, to name both places of a repeated id.

A table made with `keep_scores=False` (for `Evaluator.check`) runs the same checks and stores no score: the
n x m float64 result is most of a validation's memory (80 MiB for 500,000 examples and 20 slices).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from evaluators.base import SubmissionError
from evaluators.inputs import show
from evaluators.slice_discovery.data import ID_COLUMN, PREDICTIONS_FILE
from evaluators.slice_discovery.ids import NOT_FOUND, Keys, RowArray
from evaluators.slice_discovery.task import SliceTask

SHOWN_MISSING = 3

FloatMatrix = npt.NDArray[np.float64]
Places = npt.NDArray[np.int64]
Rows = npt.NDArray[np.integer[Any]]


def check_header(task: SliceTask, names: Sequence[str], label: str) -> tuple[str, ...]:
    """The score column names, after checking that `id` comes first and the score columns are as many as
    the task's `n_pred_slices`; raise `SubmissionError` otherwise."""
    expected = task.config.n_pred_slices
    if not names or names[0].strip() != ID_COLUMN:
        first = show(names[0]) if names else "nothing"
        raise SubmissionError(f"{label}: the first column must be {ID_COLUMN!r}, found {first}")
    found = len(names) - 1
    if found != expected:
        raise SubmissionError(
            f"{label}: wrong number of columns: {found} score column(s) after {ID_COLUMN!r}, this task needs "
            f"exactly {expected} (one per predicted slice, n_pred_slices)"
        )
    return tuple(names[1:])


class ScoreTable:
    """The scores of a submission being read, in the predictions' row order, and the ids seen so far.

    `word` names a place in messages ("line" for CSV, "row" for parquet). With `keep_scores=False`, `put` and
    `put_column` drop the scores (the readers have checked them already) and `kept_scores` may not be called.
    Not thread-safe; one per read.
    """

    def __init__(self, task: SliceTask, n_columns: int, label: str, word: str, *, keep_scores: bool = True) -> None:
        self.task = task
        self.label = label
        self.word = word
        self._scores: FloatMatrix | None = (
            np.empty((task.n_examples, n_columns), dtype=np.float64) if keep_scores else None
        )
        # The place (line or row number, from 1) where each example's id was first seen; 0 = not yet. 32 bits
        # suffice: a file within the size limit has fewer lines, and a parquet file is refused with more rows
        # than examples.
        self.first_place = np.zeros(task.n_examples, dtype=np.int32)

    def claim(self, keys: Keys, places: Places) -> tuple[RowArray, int | None]:
        """Look up a chunk's ids and mark them seen. Returns their rows and the index in the chunk of the first
        id that is unknown or repeated (seen in an earlier chunk or earlier in this one), or None."""
        rows = self.task.predictions.ids.rows_of_keys(keys)
        bad = rows == NOT_FOUND
        known = np.flatnonzero(~bad)
        known_rows = rows[known]
        bad[known[self.first_place[known_rows] != 0]] = True
        _, first_in_chunk = np.unique(known_rows, return_index=True)
        repeated_here = np.ones(len(known), dtype=np.bool_)
        repeated_here[first_in_chunk] = False
        bad[known[repeated_here]] = True
        # Only first sightings are recorded, so a repeat's message names where the id came first.
        new = known[~repeated_here]
        new = new[self.first_place[rows[new]] == 0]
        self.first_place[rows[new]] = places[new]
        return rows, (int(np.argmax(bad)) if bad.any() else None)

    def put(self, rows: Rows, scores: FloatMatrix) -> None:
        """Store checked scores: `scores[i]` (one value per column) is example `rows[i]`'s row."""
        if self._scores is not None:
            self._scores[rows] = scores

    def put_column(self, rows: Rows, column: int, values: FloatMatrix) -> None:
        """Store one column's checked scores: `values[i]` is example `rows[i]`'s score in `column`."""
        if self._scores is not None:
            self._scores[rows, column] = values

    def kept_scores(self) -> FloatMatrix:
        """Every score stored, in the predictions' row order (a table that keeps its scores only)."""
        if self._scores is None:
            raise RuntimeError("this table was made to check scores, not to keep them")
        return self._scores

    def id_fault(self, example_id: str, row: int, place: int) -> str:
        """The message for an unknown (`row` = NOT_FOUND) or repeated id found at `place`."""
        where = f"{self.label}: {self.word} {place}"
        if row == NOT_FOUND:
            return f"{where}: the id {show(example_id)} is not an example of {PREDICTIONS_FILE}"
        first = int(self.first_place[row])
        return f"{where}: the id {show(example_id)} is repeated (first on {self.word} {first})"

    def check_complete(self) -> None:
        """Raise `SubmissionError` naming up to three examples without a row, if any."""
        unseen = np.flatnonzero(self.first_place == 0)
        if len(unseen):
            ids = self.task.predictions.ids
            shown = ", ".join(show(ids[int(row)]) for row in unseen[:SHOWN_MISSING])
            raise SubmissionError(
                f"{self.label}: {len(unseen)} id(s) of {PREDICTIONS_FILE} have no row, e.g. {shown}; every "
                "example needs a score in every column"
            )
