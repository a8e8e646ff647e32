"""training-set-creation: every rule of labels.csv and of image items, one test each (image task)."""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from evaluators import Evaluator, SubmissionError
from evaluators.training_set_creation import item_csv, submission_files
from evaluators.training_set_creation.task import TrainingTask
from evaluators.training_set_creation.validation import MAX_LABELS_BYTES, TrainingSet
from tests.evaluators.training_set_creation.helpers import MakeSubmission, pool_rows


def png(seed: int = 0, size: tuple[int, int] = (40, 40), mode: str = "L") -> bytes:
    """A small valid PNG of noise."""
    pixels = np.random.default_rng(seed).integers(0, 256, size=(size[1], size[0]), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels, mode="L").convert(mode).save(buffer, format="PNG")
    return buffer.getvalue()


def rejects(evaluator: Evaluator[Any, Any], task: TrainingTask, path: Path) -> str:
    with pytest.raises(SubmissionError) as raised:
        evaluator.validate(task, path)
    return str(raised.value)


def accepts(evaluator: Evaluator[Any, Any], task: TrainingTask, path: Path) -> TrainingSet:
    parsed: TrainingSet = evaluator.validate(task, path)
    return parsed


def test_it_accepts_pool_items_with_their_labels_in_file_order(
    evaluator: Evaluator[Any, Any], roman: TrainingTask, make_submission: MakeSubmission
) -> None:
    rows = pool_rows(roman, 20)[::-1]
    parsed = accepts(evaluator, roman, make_submission(rows))
    assert parsed.items == tuple(item for item, _ in rows)
    assert parsed.n_new == 0
    assert np.array_equal(parsed.features[0], roman.pool.features[roman.pool.row_of[rows[0][0]]])


def test_it_accepts_a_relabelled_pool_item(
    evaluator: Evaluator[Any, Any], roman: TrainingTask, make_submission: MakeSubmission
) -> None:
    rows = pool_rows(roman, 10)
    rows[0][1] = "x" if rows[0][1] != "x" else "i"
    parsed = accepts(evaluator, roman, make_submission(rows))
    assert roman.config.labels[int(parsed.labels[0])] == rows[0][1]


def test_it_accepts_new_images_in_any_folder(
    evaluator: Evaluator[Any, Any], roman: TrainingTask, make_submission: MakeSubmission
) -> None:
    rows = [*pool_rows(roman, 5), ["images/a.png", "i"], ["deep/er/B.PNG", "ii"]]
    parsed = accepts(evaluator, roman, make_submission(rows, {"images/a.png": png(1), "deep/er/B.PNG": png(2)}))
    assert parsed.n_new == 2
    assert parsed.is_new.tolist() == [False] * 5 + [True, True]


def test_it_finds_labels_csv_inside_a_single_top_folder(
    evaluator: Evaluator[Any, Any], roman: TrainingTask, make_submission: MakeSubmission
) -> None:
    inner = make_submission(None)
    (inner / "my-set").mkdir()
    rows = [*pool_rows(roman, 4), ["img/a.png", "v"]]
    (inner / "my-set" / "labels.csv").write_text(
        "item,label\n" + "".join(f"{i},{label}\n" for i, label in rows), encoding="utf-8"
    )
    (inner / "my-set" / "img").mkdir()
    (inner / "my-set" / "img" / "a.png").write_bytes(png(3))
    (inner / "__MACOSX").mkdir()
    (inner / "__MACOSX" / "._x.png").write_bytes(b"AppleDouble")
    assert accepts(evaluator, roman, inner).n_new == 1


def test_it_takes_a_lone_csv_file_of_any_name_as_the_labels(
    evaluator: Evaluator[Any, Any], roman: TrainingTask, make_submission: MakeSubmission
) -> None:
    directory = make_submission(None)
    (directory / "my_training_set.csv").write_text(
        "item,label\n" + "".join(f"{i},{label}\n" for i, label in pool_rows(roman, 6)), encoding="utf-8"
    )
    assert accepts(evaluator, roman, directory).n_items == 6


def test_it_accepts_a_lone_labels_file_path(
    evaluator: Evaluator[Any, Any], roman: TrainingTask, make_submission: MakeSubmission
) -> None:
    directory = make_submission(pool_rows(roman, 6))
    assert accepts(evaluator, roman, directory / "labels.csv").n_items == 6


def test_it_accepts_a_byte_order_mark_spaces_and_quotes(
    evaluator: Evaluator[Any, Any], roman: TrainingTask, make_submission: MakeSubmission
) -> None:
    directory = make_submission(None)
    (item_a, label_a), (item_b, label_b) = pool_rows(roman, 2)
    text = f'\ufeffitem , label\n "{item_a}" , {label_a}\r\n{item_b},"{label_b}"\n'
    (directory / "labels.csv").write_text(text, encoding="utf-8")
    assert accepts(evaluator, roman, directory).items == (item_a, item_b)


def test_it_ignores_hidden_files_and_files_that_are_not_png(
    evaluator: Evaluator[Any, Any], roman: TrainingTask, make_submission: MakeSubmission
) -> None:
    files: dict[str, bytes | str] = {"README.txt": "notes", ".hidden/x.png": png(1), "images/.DS_Store": b"\x00"}
    assert accepts(evaluator, roman, make_submission(pool_rows(roman, 4), files)).n_items == 4


def test_it_rejects_a_submission_without_labels_csv(
    evaluator: Evaluator[Any, Any], roman: TrainingTask, make_submission: MakeSubmission
) -> None:
    message = rejects(evaluator, roman, make_submission(None, {"images/a.png": png(), "notes.txt": "x"}))
    assert "no labels.csv at its top level" in message
    assert '"images"' in message


def test_it_rejects_a_missing_path(evaluator: Evaluator[Any, Any], roman: TrainingTask, tmp_path: Path) -> None:
    assert "no such file or directory" in rejects(evaluator, roman, tmp_path / "absent")


def test_it_rejects_an_oversized_labels_file_before_reading_it(
    evaluator: Evaluator[Any, Any], roman: TrainingTask, make_submission: MakeSubmission
) -> None:
    directory = make_submission(None)
    with (directory / "labels.csv").open("wb") as handle:
        handle.truncate(MAX_LABELS_BYTES + 1)
    assert f"limit of {MAX_LABELS_BYTES}" in rejects(evaluator, roman, directory)


def test_it_rejects_a_labels_file_that_is_not_utf8(
    evaluator: Evaluator[Any, Any], roman: TrainingTask, make_submission: MakeSubmission
) -> None:
    message = rejects(evaluator, roman, make_submission(None, {"labels.csv": b"item,label\n\xe9,i\n"}))
    assert "not UTF-8" in message
    assert "0xe9" in message


def test_it_rejects_an_empty_labels_file(
    evaluator: Evaluator[Any, Any], roman: TrainingTask, make_submission: MakeSubmission
) -> None:
    assert "the file is empty" in rejects(evaluator, roman, make_submission(None, {"labels.csv": ""}))


def test_it_rejects_a_wrong_header(
    evaluator: Evaluator[Any, Any], roman: TrainingTask, make_submission: MakeSubmission
) -> None:
    message = rejects(evaluator, roman, make_submission(None, {"labels.csv": "id,label\nr00001,i\n"}))
    assert "the header must be item,label" in message
    assert '"id,label"' in message


def test_it_rejects_a_header_only_file(
    evaluator: Evaluator[Any, Any], roman: TrainingTask, make_submission: MakeSubmission
) -> None:
    assert "no item is listed" in rejects(evaluator, roman, make_submission([]))


def test_it_rejects_an_empty_line_naming_it(
    evaluator: Evaluator[Any, Any], roman: TrainingTask, make_submission: MakeSubmission
) -> None:
    (item_a, label_a), (item_b, label_b) = pool_rows(roman, 2)
    text = f"item,label\n{item_a},{label_a}\n\n{item_b},{label_b}\n"
    assert "labels.csv line 3: empty line" in rejects(evaluator, roman, make_submission(None, {"labels.csv": text}))


def test_it_rejects_a_row_with_three_fields(
    evaluator: Evaluator[Any, Any], roman: TrainingTask, make_submission: MakeSubmission
) -> None:
    rows = [*pool_rows(roman, 2), ["r00003", "i", "extra"]]
    assert "line 4: 3 field(s), expected 2" in rejects(evaluator, roman, make_submission(rows))


def test_it_rejects_malformed_csv_quoting(
    evaluator: Evaluator[Any, Any], roman: TrainingTask, make_submission: MakeSubmission
) -> None:
    text = 'item,label\n"' + "a" * 200_000 + '",i\n'
    assert "not valid CSV" in rejects(evaluator, roman, make_submission(None, {"labels.csv": text}))


def test_it_rejects_more_items_than_max_items(
    evaluator: Evaluator[Any, Any], roman: TrainingTask, make_submission: MakeSubmission
) -> None:
    message = rejects(evaluator, roman, make_submission(pool_rows(roman, 61)))
    assert "lists 61 items, more than max_items = 60" in message


def test_it_rejects_an_unknown_label_with_a_case_hint(
    evaluator: Evaluator[Any, Any], roman: TrainingTask, make_submission: MakeSubmission
) -> None:
    rows = pool_rows(roman, 3)
    rows[1][1] = "IV"
    message = rejects(evaluator, roman, make_submission(rows))
    assert 'labels.csv line 3: label "IV" is not a label of this task (labels are case-sensitive)' in message
    assert "i, ii, iii" in message


def test_it_rejects_an_item_listed_twice(
    evaluator: Evaluator[Any, Any], roman: TrainingTask, make_submission: MakeSubmission
) -> None:
    rows = [*pool_rows(roman, 3), pool_rows(roman, 1)[0]]
    message = rejects(evaluator, roman, make_submission(rows))
    assert f'line 5: item "{rows[0][0]}" is listed twice (first on line 2)' in message


def test_it_rejects_an_unknown_pool_id(
    evaluator: Evaluator[Any, Any], roman: TrainingTask, make_submission: MakeSubmission
) -> None:
    rows = [*pool_rows(roman, 3), ["r99999", "i"], ["images/x.jpg", "ii"]]
    message = rejects(evaluator, roman, make_submission(rows))
    assert message.startswith("2 problems:")
    assert 'item "r99999": not an id of the pool' in message
    assert 'item "images/x.jpg": not an id of the pool (new images must be PNG files' in message


def test_it_rejects_an_empty_item(
    evaluator: Evaluator[Any, Any], roman: TrainingTask, make_submission: MakeSubmission
) -> None:
    rows = [*pool_rows(roman, 3), ["", "i"]]
    assert "line 5: the item is empty" in rejects(evaluator, roman, make_submission(rows))


@pytest.mark.parametrize(
    ("item", "rule"),
    [
        ("../outside.png", 'leaves the submission directory (".." is not allowed)'),
        ("images/../../x.png", 'leaves the submission directory (".." is not allowed)'),
        ("/etc/x.png", "absolute paths are not allowed"),
        ("C:/x.png", "absolute paths are not allowed"),
        ("images\\x.png", "backslash"),
        ("images//x.png", 'empty or "." part'),
        ("./x.png", 'empty or "." part'),
        ("x\t.png", "control character"),
        ("a/" * 600 + "x.png", "longer than 1024 characters"),
    ],
)
def test_it_rejects_an_unsafe_image_path(
    evaluator: Evaluator[Any, Any], roman: TrainingTask, make_submission: MakeSubmission, item: str, rule: str
) -> None:
    message = rejects(evaluator, roman, make_submission([*pool_rows(roman, 2), [item, "i"]]))
    assert "line 4" in message
    assert rule in message


def test_it_rejects_a_listed_image_that_is_missing_with_a_case_hint(
    evaluator: Evaluator[Any, Any], roman: TrainingTask, make_submission: MakeSubmission
) -> None:
    rows = [*pool_rows(roman, 2), ["images/A.png", "i"], ["images/b.png", "ii"]]
    message = rejects(evaluator, roman, make_submission(rows, {"images/a.png": png(1), "images/B.png": png(2)}))
    assert 'item "images/A.png": no such file in the submission (did you mean "images/a.png"?' in message
    assert 'item "images/b.png": no such file in the submission (did you mean "images/B.png"?' in message


def test_it_rejects_an_image_linked_from_outside_the_submission(
    evaluator: Evaluator[Any, Any], roman: TrainingTask, make_submission: MakeSubmission, tmp_path: Path
) -> None:
    outside = tmp_path / "secret.png"
    outside.write_bytes(png(4))
    directory = make_submission([*pool_rows(roman, 2), ["images/link.png", "i"]])
    (directory / "images").mkdir()
    os.symlink(outside, directory / "images" / "link.png")
    assert "a link to a place outside the submission" in rejects(evaluator, roman, directory)


def test_it_rejects_a_special_file_listed_as_an_image(
    evaluator: Evaluator[Any, Any], roman: TrainingTask, make_submission: MakeSubmission
) -> None:
    directory = make_submission([*pool_rows(roman, 2), ["pipe.png", "i"]])
    os.mkfifo(directory / "pipe.png")
    assert 'item "pipe.png": not a regular file' in rejects(evaluator, roman, directory)


def test_it_rejects_images_in_a_lone_labels_file(
    evaluator: Evaluator[Any, Any], roman: TrainingTask, make_submission: MakeSubmission
) -> None:
    directory = make_submission([*pool_rows(roman, 2), ["images/a.png", "i"]], {"images/a.png": png()})
    assert "a single uploaded file cannot hold images" in rejects(evaluator, roman, directory / "labels.csv")


def test_it_rejects_new_images_when_the_task_accepts_only_pool_items(
    evaluator: Evaluator[Any, Any], roman_dir: Path, make_submission: MakeSubmission, roman: TrainingTask
) -> None:
    config = evaluator.validate_config({**roman.config.as_dict(), "allow_new_items": False})
    closed = evaluator.load_task(roman_dir, config)
    directory = make_submission([*pool_rows(roman, 2), ["images/a.png", "i"]], {"images/a.png": png()})
    assert "accepts only items of the pool" in rejects(evaluator, closed, directory)


def test_it_rejects_image_files_that_labels_csv_does_not_list(
    evaluator: Evaluator[Any, Any], roman: TrainingTask, make_submission: MakeSubmission
) -> None:
    files = {"images/a.png": png(1), "images/forgotten.png": png(2)}
    message = rejects(evaluator, roman, make_submission([*pool_rows(roman, 2), ["images/a.png", "i"]], files))
    assert "images/forgotten.png: an image file that labels.csv does not list" in message


def test_it_reports_every_undecodable_image(
    evaluator: Evaluator[Any, Any], roman: TrainingTask, make_submission: MakeSubmission
) -> None:
    good = png(5)
    files = {"a.png": b"not an image", "b.png": good[: len(good) // 2], "c.png": good, "d.png": b""}
    rows = [*pool_rows(roman, 2), ["a.png", "i"], ["b.png", "i"], ["c.png", "ii"], ["d.png", "v"]]
    message = rejects(evaluator, roman, make_submission(rows, files))
    assert message.startswith("3 problems:")
    assert "a.png (labels.csv line 4): not a PNG image" in message
    assert "b.png (labels.csv line 5): cannot be decoded as PNG" in message
    assert "d.png (labels.csv line 7): the file is empty" in message
    assert "c.png" not in message


def test_it_caps_the_reported_problems_and_counts_the_rest(
    evaluator: Evaluator[Any, Any], roman: TrainingTask, make_submission: MakeSubmission
) -> None:
    rows = [[f"missing_{n}", "i"] for n in range(25)]
    message = rejects(evaluator, roman, make_submission(rows))
    assert message.startswith("25 problems:")
    assert message.count("not an id of the pool") == item_csv.MAX_REPORTED
    assert message.endswith("... and 5 more")


def test_it_rejects_a_set_with_a_single_label(
    evaluator: Evaluator[Any, Any], roman: TrainingTask, make_submission: MakeSubmission
) -> None:
    rows = [[item, "iii"] for item, _ in pool_rows(roman, 5)]
    assert 'every item has the label "iii"; the fixed models need items of at least two labels' in rejects(
        evaluator, roman, make_submission(rows)
    )


def test_it_rejects_a_directory_with_too_many_files(
    evaluator: Evaluator[Any, Any],
    roman: TrainingTask,
    make_submission: MakeSubmission,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(submission_files, "MAX_FILES", 3)
    files = {f"junk/{n}.txt": "x" for n in range(4)}
    assert "more than 3 files" in rejects(evaluator, roman, make_submission(pool_rows(roman, 2), files))
