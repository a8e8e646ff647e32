"""budget-cleaning: both submission layouts, and every rule a submission can break, one test each."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from evaluators import SubmissionError
from evaluators.budget_cleaning.task import CleaningTask
from evaluators.budget_cleaning.validation import MAX_SUBMISSION_BYTES, parse_selection

WriteFile = Callable[[str, "str | bytes"], Path]


def _rejects(task: CleaningTask, path: Path) -> str:
    with pytest.raises(SubmissionError) as raised:
        parse_selection(task, path)
    return str(raised.value)


def _list(ids: list[str]) -> str:
    return "\n".join(["id", *ids]) + "\n"


def _mask(selected: set[str], header: str = "id,clean", true: str = "true", false: str = "false") -> str:
    lines = [header] + [f"{row},{true if str(row) in selected else false}" for row in range(300)]
    return "\n".join(lines) + "\n"


# --- accepted inputs ---------------------------------------------------------------------------------------


def test_it_accepts_the_reference_submission(
    reference_task: CleaningTask, reference_ids: list[str], write_file: WriteFile
) -> None:
    parsed = parse_selection(reference_task, write_file("s.csv", _list(reference_ids)))
    assert len(parsed.rows) == 60
    assert parsed.file_format == "list"
    assert parsed.rows[:3] == (4, 10, 19)


def test_it_accepts_a_header_alone_as_an_empty_selection(reference_task: CleaningTask, write_file: WriteFile) -> None:
    assert parse_selection(reference_task, write_file("s.csv", "id\n")).rows == ()
    assert parse_selection(reference_task, write_file("s.csv", "id")).rows == ()


def test_it_accepts_ids_in_any_order(reference_task: CleaningTask, write_file: WriteFile) -> None:
    assert parse_selection(reference_task, write_file("s.csv", _list(["19", "4", "10"]))).rows == (4, 10, 19)


def test_it_accepts_a_byte_order_mark_crlf_blanks_around_ids_and_trailing_blank_lines(
    reference_task: CleaningTask, write_file: WriteFile
) -> None:
    content = b"\xef\xbb\xbfid\r\n 4\r\n10 \r\n\r\n\r\n"
    assert parse_selection(reference_task, write_file("s.csv", content)).rows == (4, 10)


@pytest.mark.parametrize(
    ("header", "true", "false"),
    [
        ("id,clean", "true", "false"),
        (",idx_selected", "True", "False"),
        ("id,idx_selected", "1", "0"),
        ("id,clean", "TRUE", "0"),
    ],
)
def test_it_accepts_a_boolean_mask_with_the_same_meaning_as_the_list(
    reference_task: CleaningTask, reference_ids: list[str], write_file: WriteFile, header: str, true: str, false: str
) -> None:
    as_list = parse_selection(reference_task, write_file("l.csv", _list(reference_ids)))
    as_mask = parse_selection(reference_task, write_file("m.csv", _mask(set(reference_ids), header, true, false)))
    assert as_mask.rows == as_list.rows
    assert as_mask.file_format == "mask"


def test_it_accepts_a_mask_in_any_row_order(reference_task: CleaningTask, write_file: WriteFile) -> None:
    lines = _mask({"7"}).splitlines()
    text = "\n".join([lines[0], *reversed(lines[1:])])
    assert parse_selection(reference_task, write_file("m.csv", text)).rows == (7,)


# --- files -------------------------------------------------------------------------------------------------


def test_it_rejects_a_missing_file(reference_task: CleaningTask, tmp_path: Path) -> None:
    assert "no such file" in _rejects(reference_task, tmp_path / "absent.csv")


def test_it_rejects_a_directory(reference_task: CleaningTask, tmp_path: Path) -> None:
    assert "is a directory" in _rejects(reference_task, tmp_path)


def test_it_rejects_an_oversized_file_before_reading_it(reference_task: CleaningTask, tmp_path: Path) -> None:
    huge = tmp_path / "huge.csv"
    with huge.open("wb") as handle:
        handle.truncate(MAX_SUBMISSION_BYTES + 1)
    assert f"more than the limit of {MAX_SUBMISSION_BYTES}" in _rejects(reference_task, huge)


def test_it_rejects_a_file_that_is_not_utf8(reference_task: CleaningTask, write_file: WriteFile) -> None:
    assert "not UTF-8 text" in _rejects(reference_task, write_file("s.csv", b"id\n\xe94\n"))


def test_it_rejects_an_empty_file(reference_task: CleaningTask, write_file: WriteFile) -> None:
    assert "the file is empty" in _rejects(reference_task, write_file("s.csv", ""))


def test_it_rejects_text_that_is_not_csv(reference_task: CleaningTask, write_file: WriteFile) -> None:
    assert "line 2: not valid CSV" in _rejects(reference_task, write_file("s.csv", 'id\n"4\n'))


@pytest.mark.parametrize("header", ["ids", "row", "id,clean,extra", "id,selected", "clean,id", "4"])
def test_it_rejects_an_unknown_header(reference_task: CleaningTask, write_file: WriteFile, header: str) -> None:
    message = _rejects(reference_task, write_file("s.csv", f"{header}\n4\n"))
    assert "line 1: the header" in message
    assert "is neither 'id'" in message


def test_it_rejects_a_blank_line_before_the_end(reference_task: CleaningTask, write_file: WriteFile) -> None:
    assert "line 3 is blank" in _rejects(reference_task, write_file("s.csv", "id\n4\n\n10\n"))


# --- selection list ----------------------------------------------------------------------------------------


def test_it_rejects_a_list_line_with_two_fields(reference_task: CleaningTask, write_file: WriteFile) -> None:
    assert "line 3 has 2 fields, expected 1" in _rejects(reference_task, write_file("s.csv", "id\n4\n10,19\n"))


def test_it_rejects_an_unknown_id(reference_task: CleaningTask, write_file: WriteFile) -> None:
    message = _rejects(reference_task, write_file("s.csv", "id\n4\n300\n"))
    assert message == 's.csv: line 3: "300" is not a training row id of X_train_dirty.csv'


def test_it_matches_ids_as_written_in_the_table(reference_task: CleaningTask, write_file: WriteFile) -> None:
    assert '"4.0" is not a training row id' in _rejects(reference_task, write_file("s.csv", "id\n4.0\n"))


def test_it_rejects_a_repeated_id(reference_task: CleaningTask, write_file: WriteFile) -> None:
    message = _rejects(reference_task, write_file("s.csv", "id\n4\n10\n4\n"))
    assert 'line 4: the id "4" is repeated (first on line 2)' in message


def test_it_rejects_a_selection_over_the_budget(reference_task: CleaningTask, write_file: WriteFile) -> None:
    message = _rejects(reference_task, write_file("s.csv", _list([str(row) for row in range(121)])))
    assert "121 rows selected, more than the budget of 120 (int(budget 0.4 x 300 training rows))" in message


def test_it_accepts_a_selection_of_exactly_the_budget(reference_task: CleaningTask, write_file: WriteFile) -> None:
    assert len(parse_selection(reference_task, write_file("s.csv", _list([str(r) for r in range(120)]))).rows) == 120


# --- boolean mask ------------------------------------------------------------------------------------------


def test_it_rejects_a_mask_value_that_is_not_a_boolean(reference_task: CleaningTask, write_file: WriteFile) -> None:
    text = _mask({"4"}).replace("\n10,false\n", "\n10,maybe\n")
    assert 'line 12: "maybe" is not a boolean (true/false or 1/0)' in _rejects(
        reference_task, write_file("m.csv", text)
    )


def test_it_rejects_a_mask_without_every_row(reference_task: CleaningTask, write_file: WriteFile) -> None:
    text = _mask({"4"}).replace("\n17,false\n", "\n")
    message = _rejects(reference_task, write_file("m.csv", text))
    assert '1 training row(s) have no line, e.g. "17"' in message


def test_it_rejects_a_mask_with_a_repeated_row(reference_task: CleaningTask, write_file: WriteFile) -> None:
    text = _mask({"4"}).replace("\n17,false\n", "\n4,true\n")
    assert 'line 19: the id "4" is repeated (first on line 6)' in _rejects(reference_task, write_file("m.csv", text))


def test_it_rejects_a_mask_with_an_unknown_id(reference_task: CleaningTask, write_file: WriteFile) -> None:
    text = _mask({"4"}) + "300,false\n"
    assert '"300" is not a training row id' in _rejects(reference_task, write_file("m.csv", text))


def test_it_rejects_a_mask_line_with_one_field(reference_task: CleaningTask, write_file: WriteFile) -> None:
    text = _mask({"4"}).replace("\n17,false\n", "\n17\n")
    assert "line 19 has 1 fields, expected 2" in _rejects(reference_task, write_file("m.csv", text))


def test_it_rejects_a_mask_over_the_budget(reference_task: CleaningTask, write_file: WriteFile) -> None:
    text = _mask({str(row) for row in range(121)})
    assert "121 rows selected, more than the budget of 120" in _rejects(reference_task, write_file("m.csv", text))
