"""slice-discovery: every rule a submission can break, one test each, on the public reference task."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from evaluators import SubmissionError
from evaluators.slice_discovery.task import SliceTask
from evaluators.slice_discovery.validation import MAX_SUBMISSION_BYTES, parse_scores

WriteFile = Callable[[str, "str | bytes"], Path]


def _rejects(task: SliceTask, path: Path) -> str:
    with pytest.raises(SubmissionError) as raised:
        parse_scores(task, path)
    return str(raised.value)


def _lines(reference_csv: str) -> list[str]:
    return reference_csv.splitlines()


def _text(lines: list[str]) -> str:
    return "\n".join(lines) + "\n"


def _table(reference_csv: str) -> pa.Table:
    lines = _lines(reference_csv)
    header = lines[0].split(",")
    rows = [line.split(",") for line in lines[1:]]
    columns = {header[0]: pa.array([row[0] for row in rows])}
    for index, name in enumerate(header[1:], start=1):
        columns[name] = pa.array([float(row[index]) for row in rows])
    return pa.table(columns)


def _parquet(write_file: WriteFile, table: pa.Table, name: str = "scores.parquet") -> Path:
    path = write_file(name, b"")
    pq.write_table(table, path)
    return path


# --- accepted inputs ---------------------------------------------------------------------------------------


def test_it_accepts_the_reference_submission(
    reference_task: SliceTask, reference_csv: str, write_file: WriteFile
) -> None:
    parsed = parse_scores(reference_task, write_file("s.csv", reference_csv))
    assert parsed.columns == ("slice_0", "slice_1", "slice_2", "slice_3", "slice_4")
    assert parsed.scores.shape == (1000, 5)
    assert parsed.file_format == "csv"
    assert parsed.scores[0].tolist() == [0.40250146, 0.40397039, 0.65766278, 0.14290069, 0.02696535]


def test_it_aligns_rows_given_in_any_order_to_the_predictions(
    reference_task: SliceTask, reference_csv: str, write_file: WriteFile
) -> None:
    lines = _lines(reference_csv)
    shuffled = [lines[0], *reversed(lines[1:])]
    first = parse_scores(reference_task, write_file("a.csv", reference_csv))
    second = parse_scores(reference_task, write_file("b.csv", _text(shuffled)))
    assert np.array_equal(first.scores, second.scores)


def test_it_accepts_a_byte_order_mark_crlf_line_ends_and_a_trailing_blank_line(
    reference_task: SliceTask, reference_csv: str, write_file: WriteFile
) -> None:
    text = "\r\n".join(_lines(reference_csv)) + "\r\n\r\n"
    parsed = parse_scores(reference_task, write_file("s.csv", b"\xef\xbb\xbf" + text.encode()))
    assert parsed.scores.shape == (1000, 5)


def test_it_accepts_a_parquet_file_with_the_same_table(
    reference_task: SliceTask, reference_csv: str, write_file: WriteFile
) -> None:
    from_csv = parse_scores(reference_task, write_file("s.csv", reference_csv))
    from_parquet = parse_scores(reference_task, _parquet(write_file, _table(reference_csv)))
    assert from_parquet.file_format == "parquet"
    assert from_parquet.columns == from_csv.columns
    assert np.array_equal(from_parquet.scores, from_csv.scores)


def test_it_tells_parquet_from_csv_by_content_not_by_name(
    reference_task: SliceTask, reference_csv: str, write_file: WriteFile
) -> None:
    assert parse_scores(reference_task, _parquet(write_file, _table(reference_csv), "scores.csv")).file_format == (
        "parquet"
    )
    assert parse_scores(reference_task, write_file("scores.parquet", reference_csv)).file_format == "csv"


def test_it_accepts_integer_scores_in_parquet(
    reference_task: SliceTask, reference_csv: str, write_file: WriteFile
) -> None:
    table = _table(reference_csv)
    table = table.set_column(1, "slice_0", pa.array(np.arange(1000) % 2, type=pa.int8()))
    parsed = parse_scores(reference_task, _parquet(write_file, table))
    assert parsed.scores[:4, 0].tolist() == [0.0, 1.0, 0.0, 1.0]


# --- files -------------------------------------------------------------------------------------------------


def test_it_rejects_a_missing_file(reference_task: SliceTask, tmp_path: Path) -> None:
    assert "no such file" in _rejects(reference_task, tmp_path / "absent.csv")


def test_it_rejects_a_directory(reference_task: SliceTask, tmp_path: Path) -> None:
    assert "is a directory" in _rejects(reference_task, tmp_path)


def test_it_rejects_an_oversized_file_before_reading_it(reference_task: SliceTask, tmp_path: Path) -> None:
    huge = tmp_path / "huge.csv"
    with huge.open("wb") as handle:
        handle.truncate(MAX_SUBMISSION_BYTES + 1)
    assert f"more than the limit of {MAX_SUBMISSION_BYTES}" in _rejects(reference_task, huge)


def test_it_rejects_a_file_that_is_not_utf8(reference_task: SliceTask, write_file: WriteFile) -> None:
    assert "not UTF-8 text" in _rejects(reference_task, write_file("s.csv", b"id,a\n\xff,1\n"))


def test_it_rejects_an_empty_file(reference_task: SliceTask, write_file: WriteFile) -> None:
    assert "the file is empty" in _rejects(reference_task, write_file("s.csv", ""))


def test_it_rejects_text_that_is_not_csv(reference_task: SliceTask, write_file: WriteFile) -> None:
    message = _rejects(reference_task, write_file("s.csv", 'id,a,b,c,d,e\n"ex00000,1,2,3,4,5\n'))
    assert "line 2: not valid CSV" in message


# --- header and shape --------------------------------------------------------------------------------------


def test_it_rejects_a_first_column_other_than_id(
    reference_task: SliceTask, reference_csv: str, write_file: WriteFile
) -> None:
    lines = _lines(reference_csv)
    lines[0] = lines[0].replace("id,", "example,", 1)
    assert "the first column must be 'id', found \"example\"" in _rejects(
        reference_task, write_file("s.csv", _text(lines))
    )


def test_it_rejects_too_few_score_columns(reference_task: SliceTask, reference_csv: str, write_file: WriteFile) -> None:
    lines = [line.rsplit(",", 1)[0] for line in _lines(reference_csv)]
    message = _rejects(reference_task, write_file("s.csv", _text(lines)))
    assert "wrong number of columns: 4 score column(s)" in message
    assert "exactly 5" in message


def test_it_rejects_too_many_score_columns(
    reference_task: SliceTask, reference_csv: str, write_file: WriteFile
) -> None:
    lines = [line + ",0.5" for line in _lines(reference_csv)]
    assert "wrong number of columns: 6 score column(s)" in _rejects(reference_task, write_file("s.csv", _text(lines)))


def test_it_rejects_a_line_with_a_missing_field(
    reference_task: SliceTask, reference_csv: str, write_file: WriteFile
) -> None:
    lines = _lines(reference_csv)
    lines[7] = lines[7].rsplit(",", 1)[0]
    message = _rejects(reference_task, write_file("s.csv", _text(lines)))
    assert "line 8 has 5 fields, the header has 6" in message


def test_it_rejects_a_blank_line_before_the_end(
    reference_task: SliceTask, reference_csv: str, write_file: WriteFile
) -> None:
    lines = _lines(reference_csv)
    lines.insert(3, "")
    assert "line 4 is blank" in _rejects(reference_task, write_file("s.csv", _text(lines)))


# --- ids ---------------------------------------------------------------------------------------------------


def test_it_rejects_an_unknown_id(reference_task: SliceTask, reference_csv: str, write_file: WriteFile) -> None:
    lines = _lines(reference_csv)
    lines[5] = "ex99999" + lines[5][len("ex00004") :]
    message = _rejects(reference_task, write_file("s.csv", _text(lines)))
    assert message == 's.csv: line 6: the id "ex99999" is not an example of test_predictions.csv'


def test_it_rejects_a_repeated_id(reference_task: SliceTask, reference_csv: str, write_file: WriteFile) -> None:
    lines = _lines(reference_csv)
    lines[5] = lines[2]
    message = _rejects(reference_task, write_file("s.csv", _text(lines)))
    assert 'line 6: the id "ex00001" is repeated (first on line 3)' in message


def test_it_rejects_a_missing_id(reference_task: SliceTask, reference_csv: str, write_file: WriteFile) -> None:
    lines = _lines(reference_csv)
    del lines[10]
    message = _rejects(reference_task, write_file("s.csv", _text(lines)))
    assert '1 id(s) of test_predictions.csv have no row, e.g. "ex00009"' in message


# --- scores ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("high", "is not a number"),
        ("", "is not a number"),
        ("nan", "is not finite"),
        ("NaN", "is not finite"),
        ("inf", "is not finite"),
        ("-Infinity", "is not finite"),
        ("1e999", "is not finite"),
    ],
)
def test_it_rejects_a_score_that_is_not_a_finite_number(
    reference_task: SliceTask, reference_csv: str, write_file: WriteFile, value: str, problem: str
) -> None:
    lines = _lines(reference_csv)
    fields = lines[4].split(",")
    fields[3] = value
    lines[4] = ",".join(fields)
    message = _rejects(reference_task, write_file("s.csv", _text(lines)))
    assert f'line 5, column "slice_2": "{value}" {problem}' in message


# --- parquet -----------------------------------------------------------------------------------------------


def test_it_rejects_a_broken_parquet_file(reference_task: SliceTask, write_file: WriteFile) -> None:
    message = _rejects(reference_task, write_file("s.parquet", b"PAR1" + b"\x00" * 64 + b"PAR1"))
    assert "starts like a parquet file but cannot be read as one" in message


def test_it_rejects_parquet_with_the_wrong_column_count(
    reference_task: SliceTask, reference_csv: str, write_file: WriteFile
) -> None:
    table = _table(reference_csv).remove_column(5)
    assert "wrong number of columns: 4 score column(s)" in _rejects(reference_task, _parquet(write_file, table))


def test_it_rejects_parquet_ids_that_are_not_strings(
    reference_task: SliceTask, reference_csv: str, write_file: WriteFile
) -> None:
    table = _table(reference_csv).set_column(0, "id", pa.array(np.zeros(1000)))
    assert "column 'id' must hold strings, not double" in _rejects(reference_task, _parquet(write_file, table))


def test_it_rejects_a_parquet_score_column_that_is_not_numeric(
    reference_task: SliceTask, reference_csv: str, write_file: WriteFile
) -> None:
    table = _table(reference_csv).set_column(2, "slice_1", pa.array(["0.5"] * 1000))
    assert 'score column "slice_1" must be numeric, not string' in _rejects(reference_task, _parquet(write_file, table))


def test_it_rejects_a_null_parquet_score(reference_task: SliceTask, reference_csv: str, write_file: WriteFile) -> None:
    values = [0.5] * 1000
    values[7] = None  # type: ignore[call-overload]  # a null is what the test is about
    table = _table(reference_csv).set_column(3, "slice_2", pa.array(values, type=pa.float64()))
    assert 'row 8, column "slice_2": the score is null' in _rejects(reference_task, _parquet(write_file, table))


def test_it_rejects_a_null_parquet_id(reference_task: SliceTask, reference_csv: str, write_file: WriteFile) -> None:
    ids: list[str | None] = [f"ex{index:05d}" for index in range(1000)]
    ids[2] = None
    table = _table(reference_csv).set_column(0, "id", pa.array(ids, type=pa.string()))
    assert "row 3: the id is null" in _rejects(reference_task, _parquet(write_file, table))


def test_it_rejects_a_nan_parquet_score(reference_task: SliceTask, reference_csv: str, write_file: WriteFile) -> None:
    values = np.full(1000, 0.5)
    values[11] = np.nan
    table = _table(reference_csv).set_column(5, "slice_4", pa.array(values))
    assert 'row 12, column "slice_4": nan is not finite' in _rejects(reference_task, _parquet(write_file, table))


def test_it_rejects_parquet_with_more_rows_than_examples_before_reading_them(
    reference_task: SliceTask, reference_csv: str, write_file: WriteFile
) -> None:
    table = _table(reference_csv)
    doubled = pa.concat_tables([table, table])
    assert "2000 rows, more than the 1000 examples" in _rejects(reference_task, _parquet(write_file, doubled))


def test_it_rejects_a_repeated_parquet_id(reference_task: SliceTask, reference_csv: str, write_file: WriteFile) -> None:
    table = _table(reference_csv)
    ids = table.column("id").to_pylist()
    ids[9] = ids[0]
    table = table.set_column(0, "id", pa.array(ids))
    assert 'row 10: the id "ex00000" is repeated (first on row 1)' in _rejects(
        reference_task, _parquet(write_file, table)
    )
