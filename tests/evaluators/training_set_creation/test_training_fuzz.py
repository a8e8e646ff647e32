"""training-set-creation: generated malformed submissions never raise anything but SubmissionError."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evaluators import Evaluator, SubmissionError
from evaluators.training_set_creation.task import TrainingTask
from tests.evaluators.training_set_creation.helpers import write_submission

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_FIELDS = st.one_of(
    st.sampled_from(
        [
            "r00001",
            "r00002",
            "r00003",
            "i",
            "ii",
            "x",
            "IV",
            "",
            " ",
            "images/a.png",
            "../a.png",
            "/abs.png",
            "a\\b.png",
            "images//a.png",
            "a.PNG",
            "d0001",
            "nan",
            "1e400",
            '"',
            "\x00",
        ]
    ),
    st.text(max_size=30),
)
_ROWS = st.lists(st.lists(_FIELDS, min_size=0, max_size=4), max_size=12)
_FILE_NAMES = st.sampled_from(["images/a.png", "a.PNG", "b.png", "features.csv", "notes.txt", ".x.png"])
_FILE_BYTES = st.one_of(
    st.binary(max_size=200),
    st.binary(max_size=100).map(lambda tail: _PNG_SIGNATURE + tail),
    st.text(max_size=200).map(lambda text: text.encode("utf-8", "surrogatepass")),
)
_FILES = st.dictionaries(_FILE_NAMES, _FILE_BYTES, max_size=4)


def _validate(evaluator: Evaluator[Any, Any], task: TrainingTask, rows: Any, raw: bytes | None, files: Any) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        directory = write_submission(Path(tmp) / "s", rows if raw is None else None, files)
        if raw is not None:
            (directory / "labels.csv").write_bytes(raw)
        try:
            evaluator.validate(task, directory)
        except SubmissionError as exc:
            assert str(exc).strip()


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=_ROWS, files=_FILES)
def test_structured_junk_in_an_image_task_is_a_submission_error(
    evaluator: Evaluator[Any, Any], roman: TrainingTask, rows: list[list[str]], files: dict[str, bytes]
) -> None:
    _validate(evaluator, roman, rows, None, files)


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=st.binary(max_size=300), files=_FILES)
def test_raw_bytes_in_a_feature_task_are_a_submission_error(
    evaluator: Evaluator[Any, Any], digits: TrainingTask, raw: bytes, files: dict[str, bytes]
) -> None:
    _validate(evaluator, digits, None, raw, files)


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=_ROWS, features=st.lists(st.lists(_FIELDS, max_size=66), max_size=5))
def test_structured_junk_in_features_csv_is_a_submission_error(
    evaluator: Evaluator[Any, Any], digits: TrainingTask, rows: list[list[str]], features: list[list[str]]
) -> None:
    header = ",".join(["item", *digits.pool.feature_names])
    body = "".join(",".join(row) + "\n" for row in features)
    _validate(evaluator, digits, rows, None, {"features.csv": (header + "\n" + body).encode("utf-8", "surrogatepass")})
