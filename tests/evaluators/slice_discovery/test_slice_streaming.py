"""slice-discovery: submissions are read in chunks, and faults that straddle chunks are named as precisely as
when the file was read whole; validating a CSV file loads neither pyarrow nor scikit-learn."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from evaluators import SubmissionError
from evaluators.slice_discovery import parquet_scores, validation
from evaluators.slice_discovery.task import SliceTask
from evaluators.slice_discovery.validation import parse_scores
from tests.evaluators.slice_discovery.conftest import CASE, REPO_ROOT

WriteFile = Callable[[str, "str | bytes"], Path]
CHUNK = 7


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Chunks of 7 rows, so that the 1000-row reference submission spans 143 of them."""
    monkeypatch.setattr(validation, "CHUNK_ROWS", CHUNK)
    monkeypatch.setattr(parquet_scores, "BATCH_ROWS", CHUNK)


def _rejects(task: SliceTask, path: Path) -> str:
    with pytest.raises(SubmissionError) as raised:
        parse_scores(task, path)
    return str(raised.value)


def _text(lines: list[str]) -> str:
    return "\n".join(lines) + "\n"


def _table(lines: list[str]) -> pa.Table:
    header = lines[0].split(",")
    rows = [line.split(",") for line in lines[1:]]
    columns = {header[0]: pa.array([row[0] for row in rows])}
    for index, name in enumerate(header[1:], start=1):
        columns[name] = pa.array([float(row[index]) for row in rows])
    return pa.table(columns)


def _parquet(write_file: WriteFile, table: pa.Table) -> Path:
    path = write_file("scores.parquet", b"")
    pq.write_table(table, path, row_group_size=100)
    return path


def test_small_chunks_give_the_same_scores_as_one_chunk(
    reference_task: SliceTask, reference_csv: str, write_file: WriteFile, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = reference_csv.splitlines()
    shuffled = [lines[0], *reversed(lines[1:])]
    chunked = parse_scores(reference_task, write_file("a.csv", _text(shuffled)))
    from_parquet = parse_scores(reference_task, _parquet(write_file, _table(shuffled)))
    monkeypatch.setattr(validation, "CHUNK_ROWS", 1_000_000)
    whole = parse_scores(reference_task, write_file("b.csv", _text(shuffled)))
    assert np.array_equal(chunked.scores, whole.scores)
    assert np.array_equal(from_parquet.scores, whole.scores)


def test_a_csv_id_repeated_in_a_later_chunk_names_both_lines(
    reference_task: SliceTask, reference_csv: str, write_file: WriteFile
) -> None:
    lines = reference_csv.splitlines()
    lines[900] = lines[2]  # line 901 repeats the id of line 3, many chunks earlier
    message = _rejects(reference_task, write_file("s.csv", _text(lines)))
    assert message == 's.csv: line 901: the id "ex00001" is repeated (first on line 3)'


def test_a_csv_id_repeated_in_the_same_chunk_names_both_lines(
    reference_task: SliceTask, reference_csv: str, write_file: WriteFile
) -> None:
    lines = reference_csv.splitlines()
    lines[10] = lines[9]  # lines 10 and 11: the same chunk of 7 (lines 9 to 15)
    assert 'line 11: the id "ex00008" is repeated (first on line 10)' in _rejects(
        reference_task, write_file("s.csv", _text(lines))
    )


def test_a_bad_score_in_the_last_chunk_is_named_with_its_line(
    reference_task: SliceTask, reference_csv: str, write_file: WriteFile
) -> None:
    lines = reference_csv.splitlines()
    fields = lines[-1].split(",")
    fields[2] = "oops"
    lines[-1] = ",".join(fields)
    message = _rejects(reference_task, write_file("s.csv", _text(lines)))
    assert message == 's.csv: line 1001, column "slice_1": "oops" is not a number'


def test_an_id_fault_comes_before_a_later_line_of_the_same_chunk_with_too_few_fields(
    reference_task: SliceTask, reference_csv: str, write_file: WriteFile
) -> None:
    lines = reference_csv.splitlines()
    lines[8] = "nobody" + lines[8][len("ex00007") :]  # line 9, the first of a chunk
    lines[10] = lines[10].rsplit(",", 1)[0]  # line 11, in the same chunk, still pending
    assert 'line 9: the id "nobody" is not an example' in _rejects(reference_task, write_file("s.csv", _text(lines)))


def test_a_shape_fault_comes_before_a_bad_score_on_an_earlier_line(
    reference_task: SliceTask, reference_csv: str, write_file: WriteFile
) -> None:
    lines = reference_csv.splitlines()
    fields = lines[3].split(",")
    fields[1] = "x"
    lines[3] = ",".join(fields)  # line 4: a bad score, reported only once every line has its shape
    lines[500] = lines[500] + ",0.5"  # line 501: too many fields
    assert "line 501 has 7 fields, the header has 6" in _rejects(reference_task, write_file("s.csv", _text(lines)))


def test_a_parquet_id_repeated_in_a_later_batch_names_both_rows(
    reference_task: SliceTask, reference_csv: str, write_file: WriteFile
) -> None:
    table = _table(reference_csv.splitlines())
    ids = table.column("id").to_pylist()
    ids[950] = ids[3]
    table = table.set_column(0, "id", pa.array(ids))
    assert 'row 951: the id "ex00003" is repeated (first on row 4)' in _rejects(
        reference_task, _parquet(write_file, table)
    )


def test_a_nan_in_the_last_parquet_batch_is_named_with_its_row(
    reference_task: SliceTask, reference_csv: str, write_file: WriteFile
) -> None:
    table = _table(reference_csv.splitlines())
    values = table.column("slice_3").to_numpy().copy()
    values[998] = np.nan
    table = table.set_column(4, "slice_3", pa.array(values))
    assert 'row 999, column "slice_3": nan is not finite' in _rejects(reference_task, _parquet(write_file, table))


def test_a_null_score_comes_before_a_nan_earlier_in_the_same_column(
    reference_task: SliceTask, reference_csv: str, write_file: WriteFile
) -> None:
    table = _table(reference_csv.splitlines())
    values: list[float | None] = table.column("slice_0").to_pylist()
    values[5] = float("nan")
    values[700] = None
    table = table.set_column(1, "slice_0", pa.array(values, type=pa.float64()))
    assert 'row 701, column "slice_0": the score is null' in _rejects(reference_task, _parquet(write_file, table))


def test_validating_a_csv_file_loads_neither_pyarrow_nor_scikit_learn(tmp_path: Path) -> None:
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from evaluators import get_evaluator\n"
        "evaluator = get_evaluator('slice-discovery')\n"
        f"task = evaluator.load_task(Path({str(CASE / 'task')!r}), {{'n_pred_slices': 5}})\n"
        f"evaluator.validate(task, Path({str(CASE / 'submissions' / 'submission.csv')!r}))\n"
        "print(sorted({name.split('.')[0] for name in sys.modules} & {'pyarrow', 'sklearn', 'scipy', 'pandas'}))\n"
    )
    environment = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=tmp_path, env=environment
    )
    assert done.stdout.strip() == "[]"
