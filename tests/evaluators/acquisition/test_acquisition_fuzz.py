"""acquisition: generated malformed plans never raise anything but `SubmissionError`."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evaluators import SubmissionError
from evaluators.acquisition.task import AcquisitionTask
from evaluators.acquisition.validation import AcquisitionPlan, parse_plan
from tests.evaluators.selection_vision.helpers import replace_contents

TOKENS = st.sampled_from(["0", "1", "10", "-1", "+", ",", " ", "\n", "\r", "1.5", "x", "999999", "\x00", "é", "10,"])
NAMES = st.sampled_from(["0.csv", "1.csv", "2.csv", "0.CSV", ".hidden", "w/0.csv", "w/1.csv", "notes.txt"])
FUZZ = settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
VALID = {"0.csv": b",".join([b"10"] * 20), "1.csv": b",".join([b"10"] * 20)}


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("acquisition_fuzz")


def _validate(task: AcquisitionTask, directory: Path, files: dict[str, bytes]) -> AcquisitionPlan | None:
    replace_contents(directory, files)
    try:
        return parse_plan(task, directory)
    except SubmissionError as exc:
        assert str(exc).strip()
        str(exc).encode("utf-8")  # the platform stores and prints messages as UTF-8
        return None


@FUZZ
@given(content=st.binary(max_size=300))
def test_random_bytes_in_a_market_file_are_a_submission_error(
    market_task: AcquisitionTask, scratch: Path, content: bytes
) -> None:
    assert _validate(market_task, scratch, {**VALID, "0.csv": content}) is None or content.strip()


@FUZZ
@given(tokens=st.lists(TOKENS, max_size=80))
def test_number_like_lines_are_accepted_or_a_submission_error(
    market_task: AcquisitionTask, scratch: Path, tokens: list[str]
) -> None:
    plan = _validate(market_task, scratch, {**VALID, "1.csv": "".join(tokens).encode("utf-8")})
    if plan is not None:
        market = plan.markets[1]
        assert len(market.counts) == 20
        assert any(market.counts)
        assert market.cost <= market_task.markets["1"].budget


@FUZZ
@given(names=st.lists(NAMES, max_size=4), content=st.binary(max_size=40))
def test_directory_layouts_are_accepted_or_a_submission_error(
    market_task: AcquisitionTask, scratch: Path, names: list[str], content: bytes
) -> None:
    files = dict(VALID)
    for name in names:
        files[name] = content
    _validate(market_task, scratch, files)
