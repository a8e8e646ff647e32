"""test-set-creation: generated malformed submissions never raise anything but SubmissionError."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from evaluators import Evaluator, SubmissionError
from evaluators.test_set_creation.task import TestSetTask
from tests.evaluators.test_set_creation.helpers import csv_text

_FIELDS = st.one_of(
    st.sampled_from(["pool_00000", "pool_00001", "pool_00399", "train_00000", "cat", "dog", "Cat", "", '"', "\x00"]),
    st.text(max_size=20),
)
_ROWS = st.lists(st.lists(_FIELDS, max_size=3), max_size=9)


def _validate(evaluator: Evaluator[Any, Any], task: TestSetTask, content: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "submission.csv"
        path.write_bytes(content)
        try:
            evaluator.validate(task, path)
        except SubmissionError as exc:
            assert str(exc).strip()


@settings(max_examples=500, deadline=None)
@given(content=st.binary(max_size=400))
def test_raw_bytes_are_a_submission_error(evaluator: Evaluator[Any, Any], task: TestSetTask, content: bytes) -> None:
    _validate(evaluator, task, content)


@settings(max_examples=500, deadline=None)
@given(rows=_ROWS, header=st.sampled_from([("item", "label"), ("item",), ("id", "label")]))
def test_structured_junk_is_a_submission_error(
    evaluator: Evaluator[Any, Any], task: TestSetTask, rows: list[list[str]], header: tuple[str, ...]
) -> None:
    _validate(evaluator, task, csv_text(rows, header).encode("utf-8", "surrogatepass"))
