"""selection-vision: generated malformed submissions never raise anything but `SubmissionError`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evaluators import SubmissionError
from evaluators.selection_vision.task import VisionTask
from evaluators.selection_vision.validation import VisionSelection, parse_selection
from tests.evaluators.selection_vision.helpers import replace_contents

GOOD_IDS = ["32867294173976a9", "205909699f67d696", "4662b7f3d9de7bff"]
CSV_TOKENS = st.sampled_from(
    ["ImageID", "Confidence", ",", "\n", "\r\n", '"', "0", "1", "2", " ", "-1", "1.0", "\x00", "é", "", *GOOD_IDS]
)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=20), inner, max_size=4),
    max_leaves=8,
)
NAMES = st.sampled_from(
    ["Hawk.csv", "Hawk.json", "hawk.csv", "Sushi.csv", "Cupcake.json", "x.txt", ".DS_Store", "dir/Hawk.csv", "a/b/c"]
)
FUZZ = settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One submission directory, refilled for every generated example."""
    return tmp_path_factory.mktemp("vision_fuzz")


def _validate(task: VisionTask, directory: Path, files: dict[str, bytes]) -> VisionSelection | None:
    """Write the files as a submission directory and validate it; None when it is (rightly) rejected."""
    replace_contents(directory, files)
    try:
        return parse_selection(task, directory)
    except SubmissionError as exc:
        assert str(exc).strip()
        str(exc).encode("utf-8")  # the platform stores and prints messages as UTF-8
        return None


def _with_reference(name: str, content: bytes, reference: dict[str, bytes]) -> dict[str, bytes]:
    files = {key: value for key, value in reference.items() if not key.startswith(name.split(".")[0])}
    files[name] = content
    return files


@FUZZ
@given(content=st.binary(max_size=2000), as_json=st.booleans())
def test_random_bytes_in_a_concept_file_are_a_submission_error(
    vision_task: VisionTask, scratch: Path, minimal_bytes: dict[str, bytes], content: bytes, as_json: bool
) -> None:
    name = "Hawk.json" if as_json else "Hawk.csv"
    _validate(vision_task, scratch, _with_reference(name, content, minimal_bytes))


@FUZZ
@given(tokens=st.lists(CSV_TOKENS, max_size=60))
def test_csv_like_text_is_accepted_or_a_submission_error(
    vision_task: VisionTask, scratch: Path, minimal_bytes: dict[str, bytes], tokens: list[str]
) -> None:
    content = "".join(tokens).encode("utf-8")
    parsed = _validate(vision_task, scratch, _with_reference("Hawk.csv", content, minimal_bytes))
    if parsed is not None:
        assert set(parsed.concepts[1].labels.tolist()) == {0, 1}


@FUZZ
@given(document=JSON_VALUES | st.dictionaries(st.sampled_from([*GOOD_IDS, "\ud800"]), JSON_VALUES, max_size=3))
def test_json_documents_are_accepted_or_a_submission_error(
    vision_task: VisionTask, scratch: Path, minimal_bytes: dict[str, bytes], document: Any
) -> None:
    content = json.dumps(document).encode("utf-8")
    _validate(vision_task, scratch, _with_reference("Hawk.json", content, minimal_bytes))


@FUZZ
@given(names=st.lists(NAMES, max_size=5), content=st.binary(max_size=50))
def test_directory_layouts_are_accepted_or_a_submission_error(
    vision_task: VisionTask, scratch: Path, minimal_bytes: dict[str, bytes], names: list[str], content: bytes
) -> None:
    files = dict(minimal_bytes)
    for name in names:
        files[name] = content
    _validate(vision_task, scratch, files)
