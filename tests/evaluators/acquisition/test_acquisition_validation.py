"""acquisition: every rule a purchase plan can break, one test each, on the public reference task."""

from __future__ import annotations

from pathlib import Path

import pytest

from evaluators import SubmissionError
from evaluators.acquisition.task import AcquisitionTask
from evaluators.acquisition.validation import MAX_FILE_BYTES, parse_plan, plan_cost
from tests.evaluators.acquisition.helpers import WriteDir, line

TEN_EACH = [10] * 20


def _rejects(task: AcquisitionTask, path: Path) -> str:
    with pytest.raises(SubmissionError) as raised:
        parse_plan(task, path)
    return str(raised.value)


def test_it_accepts_the_reference_submission(
    market_task: AcquisitionTask, write_dir: WriteDir, plan_files: dict[str, str | bytes]
) -> None:
    plan = parse_plan(market_task, write_dir(plan_files))
    assert [market.market for market in plan.markets] == ["0", "1"]
    assert plan.markets[0].counts == tuple(TEN_EACH)


@pytest.mark.parametrize("text", [" 10, 10 ,+10," + ",".join(["10"] * 17) + "\n", "\n" + line(TEN_EACH) + "\r\n\n"])
def test_it_tolerates_spaces_a_plus_sign_and_blank_lines(
    market_task: AcquisitionTask, write_dir: WriteDir, plan_files: dict[str, str | bytes], text: str
) -> None:
    plan = parse_plan(market_task, write_dir({**plan_files, "0.csv": text}))
    assert plan.markets[0].counts == tuple(TEN_EACH)


def test_the_cost_is_the_original_sum_of_linear_prices(market_task: AcquisitionTask) -> None:
    info = market_task.markets["0"]
    counts = tuple(range(20))
    expected = sum(seller.price.max_price * (n / seller.rows) for seller, n in zip(info.sellers, counts, strict=True))
    assert plan_cost(info, counts) == expected


def test_it_rejects_a_missing_directory(market_task: AcquisitionTask, tmp_path: Path) -> None:
    assert "no such directory" in _rejects(market_task, tmp_path / "absent")


def test_it_rejects_a_single_file(market_task: AcquisitionTask, tmp_path: Path) -> None:
    single = tmp_path / "0.csv"
    single.write_text(line(TEN_EACH), encoding="utf-8")
    assert "expects a directory" in _rejects(market_task, single)


def test_it_rejects_a_missing_market_file(
    market_task: AcquisitionTask, write_dir: WriteDir, plan_files: dict[str, str | bytes]
) -> None:
    del plan_files["1.csv"]
    assert "market 1: no file; add 1.csv" in _rejects(market_task, write_dir(plan_files))


def test_it_rejects_a_file_of_an_unknown_market(
    market_task: AcquisitionTask, write_dir: WriteDir, plan_files: dict[str, str | bytes]
) -> None:
    message = _rejects(market_task, write_dir({**plan_files, "2.csv": line(TEN_EACH)}))
    assert 'unexpected file "2.csv"' in message
    assert "one <m>.csv per market (0, 1)" in message


def test_it_rejects_an_empty_file(
    market_task: AcquisitionTask, write_dir: WriteDir, plan_files: dict[str, str | bytes]
) -> None:
    assert "0.csv: the file is empty" in _rejects(market_task, write_dir({**plan_files, "0.csv": "\n\n"}))


def test_it_rejects_a_second_line(
    market_task: AcquisitionTask, write_dir: WriteDir, plan_files: dict[str, str | bytes]
) -> None:
    text = line(TEN_EACH) + "\n" + line(TEN_EACH) + "\n"
    assert "0.csv: line 2: a second line" in _rejects(market_task, write_dir({**plan_files, "0.csv": text}))


@pytest.mark.parametrize("count", [19, 21])
def test_it_rejects_another_number_of_values_than_sellers(
    market_task: AcquisitionTask, write_dir: WriteDir, plan_files: dict[str, str | bytes], count: int
) -> None:
    message = _rejects(market_task, write_dir({**plan_files, "0.csv": line([1] * count)}))
    assert f"0.csv: line 1: {count} values, but market 0 has 20 sellers" in message


def test_it_rejects_an_empty_value(
    market_task: AcquisitionTask, write_dir: WriteDir, plan_files: dict[str, str | bytes]
) -> None:
    text = line(TEN_EACH[:19]) + ","
    assert "0.csv: value 20: empty" in _rejects(market_task, write_dir({**plan_files, "0.csv": text}))


@pytest.mark.parametrize("value", ["1.5", "ten", "1e3", "0x10", "1" * 31])
def test_it_rejects_a_value_that_is_not_an_integer(
    market_task: AcquisitionTask, write_dir: WriteDir, plan_files: dict[str, str | bytes], value: str
) -> None:
    text = ",".join([value, *(["10"] * 19)])
    message = _rejects(market_task, write_dir({**plan_files, "0.csv": text}))
    assert "0.csv: value 1:" in message
    assert "is not a non-negative integer" in message


def test_it_rejects_a_negative_count(
    market_task: AcquisitionTask, write_dir: WriteDir, plan_files: dict[str, str | bytes]
) -> None:
    text = ",".join(["10", "-3", *(["10"] * 18)])
    assert '0.csv: value 2: "-3" is negative' in _rejects(market_task, write_dir({**plan_files, "0.csv": text}))


def test_it_rejects_more_rows_than_the_seller_has(
    market_task: AcquisitionTask, write_dir: WriteDir, plan_files: dict[str, str | bytes]
) -> None:
    seller = market_task.markets["0"].sellers[3]
    counts = [0] * 20
    counts[3] = seller.rows + 1
    message = _rejects(market_task, write_dir({**plan_files, "0.csv": line(counts)}))
    assert f"0.csv: value 4 asks {seller.rows + 1} rows of seller 3 (seller_03.csv), which has {seller.rows}" in message


def test_it_rejects_a_market_where_nothing_is_bought(
    market_task: AcquisitionTask, write_dir: WriteDir, plan_files: dict[str, str | bytes]
) -> None:
    assert "1.csv: nothing is bought" in _rejects(market_task, write_dir({**plan_files, "1.csv": line([0] * 20)}))


def test_it_accepts_a_plan_that_spends_exactly_the_budget(
    market_task: AcquisitionTask, write_dir: WriteDir, plan_files: dict[str, str | bytes]
) -> None:
    info = market_task.markets["0"]
    assert (info.budget, info.sellers[18].price.max_price) == (150.0, 150.0)
    counts = [0] * 20
    counts[18] = info.sellers[18].rows  # all of seller 18: 150
    assert parse_plan(market_task, write_dir({**plan_files, "0.csv": line(counts)})).markets[0].cost == 150.0


def test_it_rejects_a_plan_over_the_budget(
    market_task: AcquisitionTask, write_dir: WriteDir, plan_files: dict[str, str | bytes]
) -> None:
    info = market_task.markets["0"]
    counts = [0] * 20
    counts[18] = info.sellers[18].rows
    counts[0] = 1
    message = _rejects(market_task, write_dir({**plan_files, "0.csv": line(counts)}))
    assert "0.csv: the plan costs 150.0" in message
    assert "more than the market's budget of 150" in message


def test_it_rejects_an_oversized_file_before_reading_it(
    market_task: AcquisitionTask, write_dir: WriteDir, plan_files: dict[str, str | bytes]
) -> None:
    directory = write_dir(plan_files)
    with (directory / "0.csv").open("wb") as handle:
        handle.truncate(MAX_FILE_BYTES + 1)
    assert f"limit of {MAX_FILE_BYTES}" in _rejects(market_task, directory)


def test_it_rejects_a_file_that_is_not_utf8(
    market_task: AcquisitionTask, write_dir: WriteDir, plan_files: dict[str, str | bytes]
) -> None:
    assert "0.csv: not UTF-8 text" in _rejects(market_task, write_dir({**plan_files, "0.csv": b"10,\xff"}))
