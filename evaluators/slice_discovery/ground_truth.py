"""Growing the ground truth: organizers add newly discovered useful slices (the DataPerf paper's process).

`slice_from_submission` turns one predicted slice of a submission into a set of example ids;
`add_ground_truth_slice` writes such a set as a new column of the hidden `test_slices.csv`;
`config_with_file_slices` gives the task config that declares every slice of the file. The platform calls
them from an admin action, stores the new file as the task's data (a new data version) and rescores every
submission.
Nothing here imports the platform: the functions work on a task directory.
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from evaluators.base import TaskConfigError
from evaluators.slice_discovery.data import (
    ID_COLUMN,
    PREDICTIONS_FILE,
    SLICES_FILE,
    load_ground_truth,
    load_predictions,
    slice_name_problem,
)
from evaluators.slice_discovery.task import MAX_PRED_SLICES, SliceConfig, SliceTask
from evaluators.slice_discovery.validation import PARQUET_MAGIC, parse_scores

_SHOWN_IDS = 3


def _check_new_slice(path: Path, name: str, member_ids: Collection[str]) -> tuple[list[str], list[str]]:
    """The current header and ids of test_slices.csv, after checking that the new slice may be added."""
    problem = slice_name_problem(name)
    if problem:
        raise TaskConfigError(problem)
    truth = load_ground_truth(path)
    if name in truth.names:
        raise TaskConfigError(f"{path}: a slice named {name!r} exists already")
    if isinstance(member_ids, str | bytes):
        raise TaskConfigError("member_ids must be a collection of ids, not a single string")
    members = set(member_ids)
    if not members:
        raise TaskConfigError("the new slice has no member: a slice needs at least one example")
    known = set(truth.ids)
    unknown = sorted(members - known)
    if unknown:
        raise TaskConfigError(
            f"{len(unknown)} member id(s) are not examples of {SLICES_FILE}, e.g. {unknown[:_SHOWN_IDS]}"
        )
    if len(members) == len(known):
        raise TaskConfigError("the new slice holds every example: it would match any predicted slice perfectly")
    column = np.fromiter((example_id in members for example_id in truth.ids), dtype=np.bool_, count=len(truth.ids))
    for index, existing in enumerate(truth.names):
        if np.array_equal(truth.members[:, index], column):
            raise TaskConfigError(f"the new slice has exactly the members of the slice {existing!r}")
    return [ID_COLUMN, *truth.names, name], list(truth.ids)


def _csv_text(path: Path, header: list[str], members: set[str]) -> str:
    """The file's rows with one more 0/1 field each; existing fields are copied as they were written."""
    source = csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"), newline=""))
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for index, row in enumerate(row for row in source if row):
        if index:
            writer.writerow([*row, "1" if row[0] in members else "0"])
    return out.getvalue()


def _replace_atomically(path: Path, text: str) -> None:
    """Write `text` to a new file beside `path`, flush it to disk, then rename it over `path` (atomic on POSIX):
    a reader sees the old file or the new one, never half of one."""
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def add_ground_truth_slice(task_dir: Path, *, name: str, member_ids: Collection[str]) -> Path:
    """Add the slice `name` with members `member_ids` as a new last column of `<task_dir>/test_slices.csv`.

    Returns the path of the rewritten file. Raises `TaskConfigError` (and leaves the file untouched) when the
    name is unusable or taken, when a member id is not an example of the file, when the slice is empty,
    holds every example, or equals an existing slice. The write is atomic (a new file renamed over the old);
    callers serialise concurrent additions to one task (two at once would each keep only their own column).
    Afterwards the platform stores the file as new task data, sets `config.slices` from the file
    (`config_with_file_slices`) and rescores the task.
    """
    path = Path(task_dir) / SLICES_FILE
    header, _ = _check_new_slice(path, name, member_ids)
    try:
        _replace_atomically(path, _csv_text(path, header, set(member_ids)))
    except OSError as exc:
        raise TaskConfigError(f"{path}: cannot be rewritten: {exc}") from exc
    return path


def slice_from_submission(
    task_dir: Path, submission_path: Path, column: str | int, threshold: float = 0.5, *, complement: bool = False
) -> set[str]:
    """The ids of the examples in one predicted slice of a submission (CSV or parquet, any valid one).

    `column` is a score column's name or 0-based position among the score columns. Members are the examples
    whose score is above `threshold` (the scorer's hard prediction at 0.5), or, with `complement`, at most
    `threshold` (the complement slice m + j). The submission is checked as the evaluator checks it, except
    that any number of score columns is accepted. Raises `SubmissionError` on an invalid file and
    `TaskConfigError` on an unknown column.
    """
    directory = Path(task_dir)
    predictions = load_predictions(directory / PREDICTIONS_FILE)
    n_columns = _score_column_count(submission_path)
    task = SliceTask(task_dir=directory, config=SliceConfig(n_pred_slices=n_columns), predictions=predictions)
    parsed = parse_scores(task, submission_path)
    index = _column_index(parsed.columns, column)
    scores = parsed.scores[:, index]
    selected = scores <= threshold if complement else scores > threshold
    return {predictions.ids[int(row)] for row in np.flatnonzero(selected)}


def _score_column_count(submission_path: Path) -> int:
    """How many score columns the submission declares (so that any count parses); 1 when unreadable, so that
    `parse_scores` reports the real fault."""
    try:
        with Path(submission_path).open("rb") as handle:
            head = handle.read(64 * 1024)
    except OSError:
        return 1
    if head.startswith(PARQUET_MAGIC):
        try:
            names = pq.read_schema(submission_path).names
        except (OSError, ValueError, pa.ArrowException):
            return 1  # parse_scores reports the fault
        return max(1, min(len(names) - 1, MAX_PRED_SLICES))
    first_line = head.decode("utf-8-sig", errors="replace").splitlines()[:1]
    fields = next(csv.reader(first_line), []) if first_line else []
    return max(1, min(len(fields) - 1, MAX_PRED_SLICES))


def _column_index(columns: tuple[str, ...], column: str | int) -> int:
    if isinstance(column, bool) or not isinstance(column, str | int):
        raise TaskConfigError(f"column must be a score column name or position, got {column!r}")
    if isinstance(column, int):
        if not 0 <= column < len(columns):
            raise TaskConfigError(f"column {column} is out of range: the submission has {len(columns)} score columns")
        return column
    if column not in columns:
        raise TaskConfigError(f"the submission has no score column {column!r}; its columns are {list(columns)}")
    return columns.index(column)


def config_with_file_slices(config: Mapping[str, Any], task_dir: Path) -> dict[str, Any]:
    """The task config with `slices` set to the header of `<task_dir>/test_slices.csv` (call it after
    `add_ground_truth_slice`, so that the new slice's metrics are declared). Raises `TaskConfigError`."""
    names = load_ground_truth(Path(task_dir) / SLICES_FILE).names
    return SliceConfig.from_mapping({**SliceConfig.from_mapping(config).as_dict(), "slices": list(names)}).as_dict()
