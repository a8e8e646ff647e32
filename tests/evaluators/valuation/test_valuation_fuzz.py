"""valuation: generated malformed prediction files never raise anything but `SubmissionError`."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evaluators import SubmissionError
from evaluators.valuation.task import ValuationTask
from evaluators.valuation.validation import Predictions, parse_predictions
from tests.evaluators.valuation.helpers import PAIRS

TOKENS = st.sampled_from(
    ["pair", "predicted_accuracy", ",", "\n", "\r\n", '"', " ", "0.5", "1", "-1", "nan", "1e9", "\x00", *PAIRS]
)
FUZZ = settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("valuation_fuzz") / "predictions.csv"


def _validate(task: ValuationTask, path: Path, content: bytes) -> Predictions | None:
    path.write_bytes(content)
    try:
        return parse_predictions(task, path)
    except SubmissionError as exc:
        assert str(exc).strip()
        str(exc).encode("utf-8")  # the platform stores and prints messages as UTF-8
        return None


@FUZZ
@given(content=st.binary(max_size=500))
def test_random_bytes_are_a_submission_error(pairs_task: ValuationTask, scratch: Path, content: bytes) -> None:
    assert _validate(pairs_task, scratch, content) is None


@FUZZ
@given(tokens=st.lists(TOKENS, max_size=80))
def test_csv_like_text_is_accepted_or_a_submission_error(
    pairs_task: ValuationTask, scratch: Path, tokens: list[str]
) -> None:
    parsed = _validate(pairs_task, scratch, "".join(tokens).encode("utf-8"))
    if parsed is not None:
        assert list(parsed.values) == PAIRS
        assert all(0.0 <= value <= 1.0 for value in parsed.values.values())


@FUZZ
@given(values=st.dictionaries(st.sampled_from([*PAIRS, "other"]), st.floats() | st.text(max_size=8), max_size=8))
def test_generated_rows_are_accepted_or_a_submission_error(
    pairs_task: ValuationTask, scratch: Path, values: dict[str, float | str]
) -> None:
    text = "pair,predicted_accuracy\n" + "".join(f"{pair},{value}\n" for pair, value in values.items())
    _validate(pairs_task, scratch, text.encode("utf-8", "surrogatepass"))
