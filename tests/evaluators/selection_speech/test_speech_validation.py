"""selection-speech: every rule a submission can break, one test each, on the public reference task."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from evaluators import SubmissionError
from evaluators.selection_speech.task import SpeechTask
from evaluators.selection_speech.validation import MAX_SUBMISSION_BYTES, parse_selection

WriteSubmission = Callable[[Any], Path]


@pytest.fixture
def selection(reference_selection: dict[str, Any]) -> dict[str, Any]:
    """A fresh, valid copy of the reference submission (25 entries, the whole budget) to break."""
    return copy.deepcopy(reference_selection)


def _rejects(task: SpeechTask, path: Path) -> str:
    with pytest.raises(SubmissionError) as raised:
        parse_selection(task, path)
    return str(raised.value)


def test_it_accepts_the_reference_submission(
    reference_task: SpeechTask, selection: dict[str, Any], write_submission: WriteSubmission
) -> None:
    parsed = parse_selection(reference_task, write_submission(selection))
    assert parsed.n_entries == 25
    assert [word for word, _ in parsed.targets] == ["episode", "fifty", "job", "restaurant", "route"]


def test_it_keeps_the_key_order_of_the_json_text(
    reference_task: SpeechTask, selection: dict[str, Any], write_submission: WriteSubmission
) -> None:
    selection["targets"] = dict(reversed(list(selection["targets"].items())))
    parsed = parse_selection(reference_task, write_submission(selection))
    assert [word for word, _ in parsed.targets] == ["route", "restaurant", "job", "fifty", "episode"]


def test_it_accepts_a_utf8_byte_order_mark(
    reference_task: SpeechTask, selection: dict[str, Any], write_submission: WriteSubmission
) -> None:
    assert parse_selection(reference_task, write_submission(b"\xef\xbb\xbf" + json.dumps(selection).encode()))


def test_it_rejects_a_missing_file(reference_task: SpeechTask, tmp_path: Path) -> None:
    assert "no such file" in _rejects(reference_task, tmp_path / "absent.json")


def test_it_rejects_a_directory(reference_task: SpeechTask, tmp_path: Path) -> None:
    assert "is a directory; a single file is expected" in _rejects(reference_task, tmp_path)


def test_it_rejects_an_oversized_file_before_reading_it(reference_task: SpeechTask, tmp_path: Path) -> None:
    huge = tmp_path / "huge.json"
    with huge.open("wb") as handle:
        handle.truncate(MAX_SUBMISSION_BYTES + 1)  # sparse: nothing is written, nothing is read
    message = _rejects(reference_task, huge)
    assert f"{MAX_SUBMISSION_BYTES + 1} bytes" in message
    assert f"limit of {MAX_SUBMISSION_BYTES}" in message


def test_it_rejects_a_file_that_is_not_utf8(reference_task: SpeechTask, write_submission: WriteSubmission) -> None:
    message = _rejects(reference_task, write_submission(b'{"targets": {}, "nontargets": ["\xe9"]}'))
    assert "not UTF-8 text" in message
    assert "0xe9" in message
    assert "byte offset 32" in message


def test_it_rejects_text_that_is_not_json_naming_line_and_column(
    reference_task: SpeechTask, write_submission: WriteSubmission
) -> None:
    message = _rejects(reference_task, write_submission('{\n  "targets": {},\n  "nontargets": [,]\n}'))
    assert "not valid JSON" in message
    assert "line 3, column 18" in message


def test_it_rejects_deeply_nested_json(reference_task: SpeechTask, write_submission: WriteSubmission) -> None:
    message = _rejects(reference_task, write_submission("[" * 200_000 + "]" * 200_000))
    assert "nested too deeply" in message


def test_it_rejects_an_integer_too_long_to_convert(
    reference_task: SpeechTask, write_submission: WriteSubmission
) -> None:
    message = _rejects(reference_task, write_submission('{"targets": {}, "nontargets": [' + "9" * 5000 + "]}"))
    assert "not valid JSON for this benchmark" in message


def test_it_rejects_a_top_level_value_that_is_not_an_object(
    reference_task: SpeechTask, write_submission: WriteSubmission
) -> None:
    message = _rejects(reference_task, write_submission(["fifty/common_voice_en_00000087.wav"]))
    assert "must hold one JSON object" in message
    assert "got a list" in message


def test_it_rejects_a_missing_targets_key(
    reference_task: SpeechTask, selection: dict[str, Any], write_submission: WriteSubmission
) -> None:
    del selection["targets"]
    assert 'has no "targets" key' in _rejects(reference_task, write_submission(selection))


def test_it_rejects_a_missing_nontargets_key(
    reference_task: SpeechTask, selection: dict[str, Any], write_submission: WriteSubmission
) -> None:
    del selection["nontargets"]
    assert 'has no "nontargets" key' in _rejects(reference_task, write_submission(selection))


def test_it_rejects_an_unexpected_top_level_key(
    reference_task: SpeechTask, selection: dict[str, Any], write_submission: WriteSubmission
) -> None:
    selection["comment"] = "my best try"
    message = _rejects(reference_task, write_submission(selection))
    assert 'unexpected top-level key "comment"' in message


def test_it_rejects_a_duplicated_top_level_key(reference_task: SpeechTask, write_submission: WriteSubmission) -> None:
    text = '{"targets": {}, "nontargets": [], "nontargets": ["nt00/common_voice_en_00000410.wav"]}'
    message = _rejects(reference_task, write_submission(text))
    assert 'top-level object: the key "nontargets" appears more than once' in message


def test_it_rejects_a_duplicated_target_key(reference_task: SpeechTask, write_submission: WriteSubmission) -> None:
    text = (
        '{"targets": {"fifty": ["fifty/common_voice_en_00000087.wav"], "fifty": []},'
        ' "nontargets": ["nt00/common_voice_en_00000410.wav"]}'
    )
    assert 'targets: the key "fifty" appears more than once' in _rejects(reference_task, write_submission(text))


def test_it_rejects_targets_that_are_not_an_object(
    reference_task: SpeechTask, selection: dict[str, Any], write_submission: WriteSubmission
) -> None:
    selection["targets"] = ["fifty/common_voice_en_00000087.wav"]
    message = _rejects(reference_task, write_submission(selection))
    assert '"targets" must be an object' in message
    assert "got a list" in message


def test_it_rejects_a_target_value_that_is_not_a_list(
    reference_task: SpeechTask, selection: dict[str, Any], write_submission: WriteSubmission
) -> None:
    selection["targets"]["fifty"] = "fifty/common_voice_en_00000087.wav"
    message = _rejects(reference_task, write_submission(selection))
    assert "targets.fifty must be a list of clip id strings, got a string" in message


def test_it_rejects_a_target_entry_that_is_not_a_string(
    reference_task: SpeechTask, selection: dict[str, Any], write_submission: WriteSubmission
) -> None:
    selection["targets"]["job"][2] = 87
    message = _rejects(reference_task, write_submission(selection))
    assert "targets.job[2] must be a clip id string, got a number 87" in message


def test_it_rejects_nontargets_that_are_not_a_list(
    reference_task: SpeechTask, selection: dict[str, Any], write_submission: WriteSubmission
) -> None:
    selection["nontargets"] = {"nt00": ["nt00/common_voice_en_00000410.wav"]}
    assert "nontargets must be a list of clip id strings, got an object" in _rejects(
        reference_task, write_submission(selection)
    )


def test_it_rejects_a_nontarget_entry_that_is_not_a_string(
    reference_task: SpeechTask, selection: dict[str, Any], write_submission: WriteSubmission
) -> None:
    selection["nontargets"][1] = None
    assert "nontargets[1] must be a clip id string, got null" in _rejects(reference_task, write_submission(selection))


def test_it_rejects_an_unknown_target_key(
    reference_task: SpeechTask, selection: dict[str, Any], write_submission: WriteSubmission
) -> None:
    selection["targets"]["sixty"] = selection["targets"].pop("fifty")
    message = _rejects(reference_task, write_submission(selection))
    assert 'targets: "sixty" is not a target word of this task' in message
    assert "the target words are episode, fifty, job, restaurant, route" in message


def test_it_rejects_a_target_id_outside_the_words_allowed_list(
    reference_task: SpeechTask, selection: dict[str, Any], write_submission: WriteSubmission
) -> None:
    selection["targets"]["fifty"][3] = "fifty/common_voice_en_99999999.wav"
    message = _rejects(reference_task, write_submission(selection))
    assert message == (
        'targets.fifty[3]: "fifty/common_voice_en_99999999.wav" is not in the allowed training set of "fifty"'
    )


def test_it_says_when_a_target_id_belongs_to_another_word(
    reference_task: SpeechTask, selection: dict[str, Any], write_submission: WriteSubmission
) -> None:
    selection["targets"]["fifty"][0] = "job/common_voice_en_00000170.wav"
    message = _rejects(reference_task, write_submission(selection))
    assert 'targets.fifty[0]: "job/common_voice_en_00000170.wav" is not in the allowed training set of "fifty"' in (
        message
    )
    assert 'it is an allowed clip of the target "job"' in message


def test_it_says_when_a_target_id_is_a_nontarget_clip(
    reference_task: SpeechTask, selection: dict[str, Any], write_submission: WriteSubmission
) -> None:
    selection["targets"]["route"][1] = "nt03/common_voice_en_00000461.wav"
    message = _rejects(reference_task, write_submission(selection))
    assert "targets.route[1]" in message
    assert "it is an allowed nontarget clip" in message


def test_it_rejects_a_nontarget_id_that_is_not_allowed(
    reference_task: SpeechTask, selection: dict[str, Any], write_submission: WriteSubmission
) -> None:
    selection["nontargets"][4] = "unk00/common_voice_en_00000601.wav"
    message = _rejects(reference_task, write_submission(selection))
    assert message == 'nontargets[4]: "unk00/common_voice_en_00000601.wav" is not in the allowed nontarget clips'


def test_it_says_when_a_nontarget_id_is_a_target_clip(
    reference_task: SpeechTask, selection: dict[str, Any], write_submission: WriteSubmission
) -> None:
    selection["nontargets"][0] = "episode/common_voice_en_00000001.wav"
    message = _rejects(reference_task, write_submission(selection))
    assert 'it is an allowed clip of the target "episode"' in message


def test_it_shortens_a_long_offending_value(
    reference_task: SpeechTask, selection: dict[str, Any], write_submission: WriteSubmission
) -> None:
    selection["nontargets"][0] = "x" * 10_000
    message = _rejects(reference_task, write_submission(selection))
    assert len(message) < 200
    assert "..." in message


def test_it_rejects_a_selection_over_the_budget(
    reference_task: SpeechTask,
    selection: dict[str, Any],
    reference_allowed: dict[str, Any],
    write_submission: WriteSubmission,
) -> None:
    selection["nontargets"].append(reference_allowed["nontargets"][0])
    message = _rejects(reference_task, write_submission(selection))
    assert "the selection has 26 entries, more than the budget of 25" in message


def test_it_counts_a_repeated_id_against_the_budget(
    reference_task: SpeechTask, selection: dict[str, Any], write_submission: WriteSubmission
) -> None:
    selection["targets"]["job"].append(selection["targets"]["job"][0])
    message = _rejects(reference_task, write_submission(selection))
    assert "26 entries" in message
    assert "a repeated clip id each time" in message


def test_it_rejects_a_selection_without_target_clips(
    reference_task: SpeechTask, selection: dict[str, Any], write_submission: WriteSubmission
) -> None:
    selection["targets"] = {word: [] for word in selection["targets"]}
    assert "the selection has no target clip" in _rejects(reference_task, write_submission(selection))


def test_it_rejects_a_selection_with_an_empty_targets_object(
    reference_task: SpeechTask, selection: dict[str, Any], write_submission: WriteSubmission
) -> None:
    selection["targets"] = {}
    assert "the selection has no target clip" in _rejects(reference_task, write_submission(selection))


def test_it_rejects_a_selection_without_nontarget_clips(
    reference_task: SpeechTask, selection: dict[str, Any], write_submission: WriteSubmission
) -> None:
    selection["nontargets"] = []
    assert "the selection has no nontarget clip" in _rejects(reference_task, write_submission(selection))
