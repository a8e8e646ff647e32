"""`features.csv` of a feature task's submission: the feature vectors of the participant's new items.

Header `item,<feature names of the pool, in the pool's order>`; one row per new item: an id (`ID_PATTERN`,
not a pool id, not repeated) and finite decimal numbers of magnitude at most `MAX_FEATURE_ABS`.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from evaluators.base import SubmissionError
from evaluators.inputs import read_text_file, show
from evaluators.training_set_creation.data import ID_PATTERN, MAX_FEATURE_ABS, is_valid_id, parse_feature_block
from evaluators.training_set_creation.images import FeatureArray
from evaluators.training_set_creation.item_csv import Problems
from evaluators.training_set_creation.submission_files import FEATURES_FILE, SubmissionFiles
from evaluators.training_set_creation.task import TrainingTask

MAX_FEATURES_BYTES = 256 * 1024 * 1024


@dataclass(frozen=True, eq=False)
class NewFeatures:
    """The rows of `features.csv`: row i of `features` is the item whose `row_of` is i."""

    features: FeatureArray
    row_of: dict[str, int]
    lines: dict[str, int]


def _records(text: str, max_rows: int) -> list[tuple[int, list[str]]]:
    reader = csv.reader(io.StringIO(text, newline=""), skipinitialspace=True)
    records: list[tuple[int, list[str]]] = []
    try:
        for record in reader:
            records.append((reader.line_num, record))
            if len(records) > max_rows + 1:
                raise SubmissionError(f"{FEATURES_FILE}: more than max_items = {max_rows} rows of new items")
    except csv.Error as exc:
        raise SubmissionError(f"{FEATURES_FILE} line {reader.line_num + 1}: not valid CSV ({exc})") from exc
    return records


def _check_header(task: TrainingTask, records: list[tuple[int, list[str]]]) -> None:
    expected = ["item", *task.pool.feature_names]
    if not records:
        raise SubmissionError(f"{FEATURES_FILE}: the file is empty; the first line must be the header")
    header = [field.strip() for field in records[0][1]]
    if header != expected:
        shown = ",".join(expected[:6]) + (",..." if len(expected) > 6 else "")
        raise SubmissionError(
            f"{FEATURES_FILE} line 1: the header must be item followed by the {len(expected) - 1} feature names "
            f"of the pool in the same order ({shown}), got {show(','.join(header))}"
        )


def _item_problem(task: TrainingTask, item: str, seen: dict[str, int]) -> str | None:
    if not is_valid_id(item):
        return f"item {show(item)} is not a valid id (letters, digits, _ . - ; {ID_PATTERN.pattern}; not *.png)"
    if item in task.pool.row_of:
        return f"item {show(item)} is an id of the pool; give new items ids of their own"
    if item in seen:
        return f"item {show(item)} appears twice (first on line {seen[item]})"
    return None


def _rows(task: TrainingTask, records: list[tuple[int, list[str]]]) -> tuple[dict[str, int], list[list[str]]]:
    width = 1 + len(task.pool.feature_names)
    problems = Problems()
    lines: dict[str, int] = {}
    cells: list[list[str]] = []
    for line, record in records[1:]:
        if len(record) != width:
            problems.add(f"{FEATURES_FILE} line {line}: {len(record)} field(s), the header has {width}")
            continue
        item = record[0].strip()
        problem = _item_problem(task, item, lines)
        if problem is not None:
            problems.add(f"{FEATURES_FILE} line {line}: {problem}")
            continue
        lines[item] = line
        cells.append(record[1:])
    problems.raise_if_any()
    return lines, cells


def read_new_features(task: TrainingTask, files: SubmissionFiles) -> NewFeatures | None:
    """The new items of `features.csv`, or None when the task takes images or the file is absent.

    Raises `SubmissionError` when the task accepts no new items but the file exists, and on any bad row.
    """
    if task.config.input != "features" or files.root is None or not files.exists(FEATURES_FILE):
        return None
    if not task.config.allow_new_items:
        raise SubmissionError(f"{FEATURES_FILE}: this task accepts only pool items; remove the file")
    text = read_text_file(files.root / FEATURES_FILE, max_bytes=MAX_FEATURES_BYTES, label=FEATURES_FILE)
    records = _records(text, task.config.max_items)
    _check_header(task, records)
    lines, cells = _rows(task, records)
    matrix, bad = parse_feature_block(cells)
    if bad is not None:
        row, column = bad
        item = list(lines)[row]
        raise SubmissionError(
            f"{FEATURES_FILE} line {lines[item]}: {task.pool.feature_names[column]} = {show(cells[row][column])} "
            f"is not a finite number of magnitude at most {MAX_FEATURE_ABS:g}"
        )
    return NewFeatures(features=matrix, row_of={item: row for row, item in enumerate(lines)}, lines=lines)
