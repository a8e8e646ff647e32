"""selection-vision: every rule a submission directory can break, one test each, on the public reference task."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from evaluators import SubmissionError
from evaluators.selection_vision.artifact import MAX_ENTRIES
from evaluators.selection_vision.task import VisionTask
from evaluators.selection_vision.validation import max_file_bytes, parse_selection
from tests.evaluators.selection_vision.helpers import WriteDir, to_csv


def _rejects(task: VisionTask, path: Path) -> str:
    with pytest.raises(SubmissionError) as raised:
        parse_selection(task, path)
    return str(raised.value)


def _as_json(rows: list[list[str]]) -> dict[str, int]:
    return {image_id: int(label) for image_id, label in rows}


# --- accepted -------------------------------------------------------------------------------------------------


def test_it_accepts_the_reference_submission(
    vision_task: VisionTask, write_dir: WriteDir, valid_files: dict[str, Any]
) -> None:
    parsed = parse_selection(vision_task, write_dir(valid_files))
    assert [part.concept for part in parsed.concepts] == ["Cupcake", "Hawk", "Sushi"]
    assert [len(part.rows) for part in parsed.concepts] == [200, 200, 200]
    assert [part.n_positive for part in parsed.concepts] == [100, 100, 100]


def test_it_accepts_formats_mixed_across_concepts(
    vision_task: VisionTask, write_dir: WriteDir, valid_files: dict[str, Any]
) -> None:
    valid_files["Hawk.json"] = _as_json(valid_files.pop("Hawk.csv"))
    parsed = parse_selection(vision_task, write_dir(valid_files))
    assert [part.file_name for part in parsed.concepts] == ["Cupcake.csv", "Hawk.json", "Sushi.csv"]


def test_it_looks_through_one_folder_wrapping_everything(
    vision_task: VisionTask, write_dir: WriteDir, valid_files: dict[str, Any]
) -> None:
    wrapped = {f"balanced200/{name}": rows for name, rows in valid_files.items()}
    assert len(parse_selection(vision_task, write_dir(wrapped)).concepts) == 3


def test_it_ignores_archiver_noise(vision_task: VisionTask, write_dir: WriteDir, valid_files: dict[str, Any]) -> None:
    noise = {".DS_Store": b"\x00\x01", "__MACOSX/._Hawk.csv": b"\x00", "Thumbs.db": b"\xff", "._Hawk.csv": b"\x00"}
    assert len(parse_selection(vision_task, write_dir({**valid_files, **noise})).concepts) == 3


def test_it_accepts_crlf_lines_a_byte_order_mark_blank_lines_and_reordered_extra_columns(
    vision_task: VisionTask, write_dir: WriteDir, valid_files: dict[str, Any]
) -> None:
    rows = valid_files["Hawk.csv"]
    text = "\r\n".join(["Confidence,Note,ImageID", *(f"{label},x,{image_id}" for image_id, label in rows), "", ""])
    valid_files["Hawk.csv"] = b"\xef\xbb\xbf" + text.encode()
    parsed = parse_selection(vision_task, write_dir(valid_files))
    assert len(parsed.concepts[1].rows) == 200
    assert parsed.concepts[1].n_positive == 100


# --- the directory --------------------------------------------------------------------------------------------


def test_it_rejects_a_missing_directory(vision_task: VisionTask, tmp_path: Path) -> None:
    assert "no such directory" in _rejects(vision_task, tmp_path / "absent")


def test_it_rejects_a_single_file(vision_task: VisionTask, tmp_path: Path) -> None:
    single = tmp_path / "Hawk.csv"
    single.write_text("ImageID,Confidence\n", encoding="utf-8")
    assert "expects a directory" in _rejects(vision_task, single)


def test_it_rejects_a_concept_without_a_file(
    vision_task: VisionTask, write_dir: WriteDir, valid_files: dict[str, Any]
) -> None:
    del valid_files["Sushi.csv"]
    message = _rejects(vision_task, write_dir(valid_files))
    assert "concept Sushi: no file" in message
    assert "Sushi.csv" in message


def test_it_rejects_a_concept_with_both_files(
    vision_task: VisionTask, write_dir: WriteDir, valid_files: dict[str, Any]
) -> None:
    valid_files["Hawk.json"] = _as_json(valid_files["Hawk.csv"])
    assert "both Hawk.csv and Hawk.json are present" in _rejects(vision_task, write_dir(valid_files))


def test_it_rejects_an_unexpected_file_hinting_at_the_case(
    vision_task: VisionTask, write_dir: WriteDir, valid_files: dict[str, Any]
) -> None:
    valid_files["hawk.csv"] = valid_files.pop("Hawk.csv")
    message = _rejects(vision_task, write_dir(valid_files))
    assert 'unexpected file "hawk.csv"' in message
    assert 'did you mean "Hawk.csv"' in message


def test_it_rejects_an_unrelated_file(
    vision_task: VisionTask, write_dir: WriteDir, valid_files: dict[str, Any]
) -> None:
    message = _rejects(vision_task, write_dir({**valid_files, "notes.txt": "how I did it"}))
    assert 'unexpected file "notes.txt"' in message
    assert "(Cupcake, Hawk, Sushi)" in message


def test_it_rejects_a_sub_folder(vision_task: VisionTask, write_dir: WriteDir, valid_files: dict[str, Any]) -> None:
    message = _rejects(vision_task, write_dir({**valid_files, "old/Hawk.csv": "x"}))
    assert 'unexpected folder "old"' in message


def test_it_rejects_a_directory_with_too_many_entries(vision_task: VisionTask, tmp_path: Path) -> None:
    for index in range(MAX_ENTRIES + 1):
        (tmp_path / f"f{index}").touch()
    assert f"more than {MAX_ENTRIES} entries" in _rejects(vision_task, tmp_path)


# --- the files --------------------------------------------------------------------------------------------------


def test_it_rejects_an_oversized_file_before_reading_it(
    vision_task: VisionTask, write_dir: WriteDir, valid_files: dict[str, Any]
) -> None:
    directory = write_dir(valid_files)
    limit = max_file_bytes(vision_task)
    with (directory / "Hawk.csv").open("wb") as handle:
        handle.truncate(limit + 1)  # sparse: nothing is written, nothing is read
    message = _rejects(vision_task, directory)
    assert f"{limit + 1} bytes" in message
    assert f"limit of {limit}" in message


def test_it_rejects_a_file_that_is_not_utf8(
    vision_task: VisionTask, write_dir: WriteDir, valid_files: dict[str, Any]
) -> None:
    valid_files["Hawk.csv"] = b"ImageID,Confidence\n\xe9,1\n"
    message = _rejects(vision_task, write_dir(valid_files))
    assert "Hawk.csv: not UTF-8 text" in message
    assert "0xe9" in message


def test_it_rejects_an_empty_csv(vision_task: VisionTask, write_dir: WriteDir, valid_files: dict[str, Any]) -> None:
    valid_files["Hawk.csv"] = ""
    assert "Hawk.csv: the file is empty" in _rejects(vision_task, write_dir(valid_files))


@pytest.mark.parametrize(
    "header", ["ImageID,Label", "Id,Confidence", "ImageID, Confidence", "ImageID,Confidence,ImageID"]
)
def test_it_rejects_a_csv_header_without_both_columns_once(
    vision_task: VisionTask, write_dir: WriteDir, valid_files: dict[str, Any], header: str
) -> None:
    valid_files["Hawk.csv"] = to_csv(valid_files["Hawk.csv"], header=header)
    message = _rejects(vision_task, write_dir(valid_files))
    assert "Hawk.csv: line 1: the header must name the columns ImageID and Confidence once each" in message


def test_it_rejects_a_row_with_another_number_of_fields(
    vision_task: VisionTask, write_dir: WriteDir, valid_files: dict[str, Any]
) -> None:
    valid_files["Hawk.csv"][4].append("extra")
    assert "Hawk.csv: line 6: 3 fields, the header has 2" in _rejects(vision_task, write_dir(valid_files))


@pytest.mark.parametrize("label", ["2", "1.0", " 1", "yes", ""])
def test_it_rejects_a_csv_label_other_than_0_or_1(
    vision_task: VisionTask, write_dir: WriteDir, valid_files: dict[str, Any], label: str
) -> None:
    valid_files["Hawk.csv"][0][1] = label
    message = _rejects(vision_task, write_dir(valid_files))
    assert f"Hawk.csv: line 2: Confidence {json.dumps(label)} is not a label; only 0 and 1 are allowed" in message


@pytest.mark.parametrize("image_id", ["0000000000000000", "not-an-id", "", "4662B7F3D9DE7BFF"])
def test_it_rejects_a_csv_image_id_outside_the_pool(
    vision_task: VisionTask, write_dir: WriteDir, valid_files: dict[str, Any], image_id: str
) -> None:
    valid_files["Hawk.csv"][2][0] = image_id
    message = _rejects(vision_task, write_dir(valid_files))
    assert f"Hawk.csv: line 4: ImageID {json.dumps(image_id)} is not in the candidate pool" in message


def test_the_pool_holds_the_lower_case_spelling_of_the_upper_case_id(vision_task: VisionTask) -> None:
    assert vision_task.index.row_of("4662b7f3d9de7bff") is not None


def test_it_rejects_more_csv_rows_than_the_limit_counting_repeats(
    vision_task: VisionTask, write_dir: WriteDir, valid_files: dict[str, Any]
) -> None:
    valid_files["Hawk.csv"] = valid_files["Hawk.csv"] * 5 + [valid_files["Hawk.csv"][0]]  # 1001 rows
    message = _rejects(vision_task, write_dir(valid_files))
    assert "Hawk.csv: line 1002: more than max_per_concept = 1000 rows" in message
    assert "repeated rows too" in message


def test_it_accepts_exactly_the_limit_of_csv_rows(
    vision_task: VisionTask, write_dir: WriteDir, valid_files: dict[str, Any]
) -> None:
    valid_files["Hawk.csv"] = valid_files["Hawk.csv"] * 5
    assert len(parse_selection(vision_task, write_dir(valid_files)).concepts[1].rows) == 1000


@pytest.mark.parametrize("label", ["0", "1"])
def test_it_rejects_a_csv_with_one_label_only(
    vision_task: VisionTask, write_dir: WriteDir, valid_files: dict[str, Any], label: str
) -> None:
    valid_files["Hawk.csv"] = [row for row in valid_files["Hawk.csv"] if row[1] == label]
    message = _rejects(vision_task, write_dir(valid_files))
    assert "Hawk.csv: no row labelled" in message
    assert "needs both labels" in message


def test_it_rejects_a_header_only_csv(
    vision_task: VisionTask, write_dir: WriteDir, valid_files: dict[str, Any]
) -> None:
    valid_files["Hawk.csv"] = "ImageID,Confidence\n"
    assert "Hawk.csv: no row labelled 1 (positive)" in _rejects(vision_task, write_dir(valid_files))


def test_it_rejects_malformed_csv(vision_task: VisionTask, write_dir: WriteDir, valid_files: dict[str, Any]) -> None:
    valid_files["Hawk.csv"] = "ImageID,Confidence\n" + '"' + "x" * 200_000 + '",1\n'
    assert "Hawk.csv: line 2: not valid CSV" in _rejects(vision_task, write_dir(valid_files))


# --- JSON -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("content", "kind"), [("[]", "a list"), ('"x"', "a string"), ("1", "a number")])
def test_it_rejects_json_that_is_not_an_object(
    vision_task: VisionTask, write_dir: WriteDir, valid_files: dict[str, Any], content: str, kind: str
) -> None:
    del valid_files["Hawk.csv"]
    message = _rejects(vision_task, write_dir({**valid_files, "Hawk.json": content}))
    assert "Hawk.json: must hold one JSON object" in message
    assert f"got {kind}" in message


def test_it_rejects_invalid_json_naming_line_and_column(
    vision_task: VisionTask, write_dir: WriteDir, valid_files: dict[str, Any]
) -> None:
    del valid_files["Hawk.csv"]
    message = _rejects(vision_task, write_dir({**valid_files, "Hawk.json": '{"a": 1,\n "b" 0}'}))
    assert "Hawk.json: not valid JSON" in message
    assert "line 2, column 6" in message


@pytest.mark.parametrize("value", [True, 1.0, "1", 2, None, [1]])
def test_it_rejects_a_json_label_other_than_the_number_0_or_1(
    vision_task: VisionTask, write_dir: WriteDir, valid_files: dict[str, Any], value: Any
) -> None:
    labels = _as_json(valid_files.pop("Hawk.csv"))
    first = next(iter(labels))
    labels[first] = value
    message = _rejects(vision_task, write_dir({**valid_files, "Hawk.json": labels}))
    assert f'Hawk.json: key "{first}": the label must be the number 0 or 1' in message


def test_it_rejects_a_json_image_id_outside_the_pool(
    vision_task: VisionTask, write_dir: WriteDir, valid_files: dict[str, Any]
) -> None:
    labels = {"ffffffffffffffff": 1, **_as_json(valid_files.pop("Hawk.csv"))}
    message = _rejects(vision_task, write_dir({**valid_files, "Hawk.json": labels}))
    assert 'Hawk.json: ImageID "ffffffffffffffff" is not in the candidate pool' in message


def test_it_rejects_more_json_keys_than_the_limit(
    vision_task: VisionTask, write_dir: WriteDir, valid_files: dict[str, Any]
) -> None:
    del valid_files["Hawk.csv"]
    ids = [vision_task.index.keys[row] for row in range(1001)]
    labels = {f"{int(key):016x}": index % 2 for index, key in enumerate(ids)}
    message = _rejects(vision_task, write_dir({**valid_files, "Hawk.json": labels}))
    assert "Hawk.json: 1001 ImageIDs, more than max_per_concept = 1000" in message


def test_a_repeated_json_key_counts_once_towards_the_limit(
    vision_task: VisionTask, write_dir: WriteDir, valid_files: dict[str, Any]
) -> None:
    labels = _as_json(valid_files.pop("Hawk.csv"))
    pairs = [f'"{image_id}": {label}' for image_id, label in labels.items()]
    text = "{" + ", ".join(pairs * 6) + "}"  # 1200 pairs, 200 distinct keys
    parsed = parse_selection(vision_task, write_dir({**valid_files, "Hawk.json": text}))
    assert len(parsed.concepts[1].rows) == 200


def test_it_rejects_a_json_object_with_one_label_only(
    vision_task: VisionTask, write_dir: WriteDir, valid_files: dict[str, Any]
) -> None:
    labels = dict.fromkeys(_as_json(valid_files.pop("Hawk.csv")), 1)
    assert "Hawk.json: no row labelled 0 (negative)" in _rejects(
        vision_task, write_dir({**valid_files, "Hawk.json": labels})
    )


def test_it_rejects_deeply_nested_json(
    vision_task: VisionTask, write_dir: WriteDir, valid_files: dict[str, Any]
) -> None:
    del valid_files["Hawk.csv"]
    message = _rejects(vision_task, write_dir({**valid_files, "Hawk.json": "[" * 100_000}))
    assert "Hawk.json" in message


def test_it_follows_a_symbolic_link_to_a_file(
    vision_task: VisionTask, write_dir: WriteDir, valid_files: dict[str, Any], tmp_path: Path
) -> None:
    target = tmp_path / "stored-upload"
    target.write_text(to_csv(valid_files.pop("Hawk.csv")), encoding="utf-8")
    directory = write_dir(valid_files)
    os.symlink(target, directory / "Hawk.csv")
    assert np.array_equal(parse_selection(vision_task, directory).concepts[1].labels[:2], [1, 1])


def test_a_json_key_with_a_lone_surrogate_gets_a_message_that_encodes_as_utf8(
    vision_task: VisionTask, write_dir: WriteDir, valid_files: dict[str, Any]
) -> None:
    del valid_files["Hawk.csv"]
    message = _rejects(vision_task, write_dir({**valid_files, "Hawk.json": '{"\\ud800": 1}'}))
    assert "is not in the candidate pool" in message
    message.encode("utf-8")


def test_an_undecodable_file_name_gets_a_message_that_encodes_as_utf8(
    vision_task: VisionTask, write_dir: WriteDir, valid_files: dict[str, Any]
) -> None:
    directory = write_dir(valid_files)
    with open(os.path.join(os.fsencode(directory), b"\xff.csv"), "wb") as handle:
        handle.write(b"x")
    message = _rejects(vision_task, directory)
    assert "unexpected file" in message
    message.encode("utf-8")
