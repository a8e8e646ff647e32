"""valuation: every rule a prediction file can break, one test each."""

from __future__ import annotations

from pathlib import Path

import pytest

from evaluators import SubmissionError
from evaluators.valuation.task import ValuationTask
from evaluators.valuation.validation import MAX_SUBMISSION_BYTES, parse_predictions
from tests.evaluators.valuation.helpers import PAIRS, WriteFile, predictions_csv

EVEN = dict.fromkeys(PAIRS, 0.9)


def _rejects(task: ValuationTask, path: Path) -> str:
    with pytest.raises(SubmissionError) as raised:
        parse_predictions(task, path)
    return str(raised.value)


def test_it_accepts_one_prediction_per_pair_in_any_order(pairs_task: ValuationTask, write_file: WriteFile) -> None:
    values = {pair: index / 10 for index, pair in enumerate(reversed(PAIRS))}
    parsed = parse_predictions(pairs_task, write_file(predictions_csv(values)))
    assert list(parsed.values) == PAIRS  # the config's order
    assert parsed.values == values


def test_it_tolerates_spaces_crlf_blank_lines_a_byte_order_mark_and_exponents(
    pairs_task: ValuationTask, write_file: WriteFile
) -> None:
    rows = [" pair , predicted_accuracy "] + [f" {pair} , 9e-1 " for pair in PAIRS]
    text = "\ufeff" + "\r\n\r\n".join(rows) + "\r\n"
    assert parse_predictions(pairs_task, write_file(text)).values == dict.fromkeys(PAIRS, 0.9)


@pytest.mark.parametrize("value", ["0", "1", "1.0", ".5", "0.000"])
def test_it_accepts_the_bounds_and_plain_decimals(pairs_task: ValuationTask, write_file: WriteFile, value: str) -> None:
    text = predictions_csv(EVEN).replace("clean,0.9", f"clean,{value}")
    assert parse_predictions(pairs_task, write_file(text)).values["clean"] == float(value)


def test_it_rejects_a_missing_file(pairs_task: ValuationTask, tmp_path: Path) -> None:
    assert "no such file" in _rejects(pairs_task, tmp_path / "absent.csv")


def test_it_rejects_a_directory(pairs_task: ValuationTask, tmp_path: Path) -> None:
    assert "is a directory" in _rejects(pairs_task, tmp_path)


def test_it_rejects_an_oversized_file_before_reading_it(pairs_task: ValuationTask, tmp_path: Path) -> None:
    huge = tmp_path / "huge.csv"
    with huge.open("wb") as handle:
        handle.truncate(MAX_SUBMISSION_BYTES + 1)
    assert f"limit of {MAX_SUBMISSION_BYTES}" in _rejects(pairs_task, huge)


def test_it_rejects_a_file_that_is_not_utf8(pairs_task: ValuationTask, write_file: WriteFile) -> None:
    assert "not UTF-8 text" in _rejects(pairs_task, write_file(b"pair,predicted_accuracy\n\xff,1\n"))


def test_it_rejects_an_empty_file(pairs_task: ValuationTask, write_file: WriteFile) -> None:
    assert "the file is empty" in _rejects(pairs_task, write_file("\n \n"))


@pytest.mark.parametrize("header", ["pair,accuracy", "predicted_accuracy,pair", "pair", "pair,predicted_accuracy,x"])
def test_it_rejects_another_header(pairs_task: ValuationTask, write_file: WriteFile, header: str) -> None:
    text = predictions_csv(EVEN).replace("pair,predicted_accuracy", header, 1)
    assert "line 1: the header must be pair,predicted_accuracy" in _rejects(pairs_task, write_file(text))


def test_it_rejects_a_row_with_another_number_of_fields(pairs_task: ValuationTask, write_file: WriteFile) -> None:
    text = predictions_csv(EVEN).replace("shifted,0.9", "shifted,0.9,0.8")
    assert "line 4: 3 fields; expected 2" in _rejects(pairs_task, write_file(text))


def test_it_rejects_an_unknown_pair(pairs_task: ValuationTask, write_file: WriteFile) -> None:
    text = predictions_csv({**EVEN, "extra": 0.5})
    assert 'line 8: "extra" is not a pair of this task' in _rejects(pairs_task, write_file(text))


def test_it_rejects_a_repeated_pair(pairs_task: ValuationTask, write_file: WriteFile) -> None:
    text = predictions_csv(EVEN) + "clean,0.5\n"
    assert 'line 8: pair "clean" appears a second time' in _rejects(pairs_task, write_file(text))


def test_it_rejects_a_missing_pair(pairs_task: ValuationTask, write_file: WriteFile) -> None:
    values = {pair: value for pair, value in EVEN.items() if pair != "shifted"}
    assert 'no prediction for pair "shifted"' in _rejects(pairs_task, write_file(predictions_csv(values)))


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "1_0", "0.9.1", "", "ninety", "0x1", "1e999999"])
def test_it_rejects_a_value_that_is_not_a_decimal_number(
    pairs_task: ValuationTask, write_file: WriteFile, value: str
) -> None:
    text = predictions_csv(EVEN).replace("clean,0.9", f"clean,{value}")
    assert "line 2:" in (message := _rejects(pairs_task, write_file(text)))
    assert "is not a decimal number" in message


@pytest.mark.parametrize("value", ["85", "-0.1", "1.0000001", "1e3"])
def test_it_rejects_a_value_outside_0_and_1(pairs_task: ValuationTask, write_file: WriteFile, value: str) -> None:
    text = predictions_csv(EVEN).replace("clean,0.9", f"clean,{value}")
    message = _rejects(pairs_task, write_file(text))
    assert f'line 2: "{value}" is outside [0, 1]' in message
    assert "0.85, not 85" in message


def test_it_rejects_malformed_csv(pairs_task: ValuationTask, write_file: WriteFile) -> None:
    text = predictions_csv(EVEN) + '"' + "x" * 200_000 + '",1\n'
    assert "not valid CSV" in _rejects(pairs_task, write_file(text))
