"""adversarial-test-set: every validation rule, with its message (training-set-creation's rules, and this
benchmark's: 1 to max_items rows, any labels, one row per item)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from evaluators import SubmissionError
from evaluators.adversarial_test_set.keys import item_key_of_features, item_key_of_png
from evaluators.adversarial_test_set.task import AdversarialTask
from evaluators.adversarial_test_set.validation import AdversarialItems, ItemKind
from evaluators.base import CollectiveEvaluator
from tests.evaluators.adversarial_test_set.helpers import (
    FEATURES_CONFIG,
    ROMAN_CONFIG,
    MakeSubmission,
    copy_task,
    features_csv,
    png,
    reencoded,
)


def rejects(evaluator: CollectiveEvaluator[Any, Any], task: AdversarialTask, path: Path) -> str:
    with pytest.raises(SubmissionError) as raised:
        evaluator.validate(task, path)
    return str(raised.value)


def accepts(evaluator: CollectiveEvaluator[Any, Any], task: AdversarialTask, path: Path) -> AdversarialItems:
    parsed: AdversarialItems = evaluator.validate(task, path)
    return parsed


def pool_rows(task: AdversarialTask, count: int, label: str = "i") -> list[list[str]]:
    return [[item, label] for item in task.pool.ids[:count]]


def test_it_accepts_pool_items_and_new_images_in_file_order(
    evaluator: CollectiveEvaluator[Any, Any], roman: AdversarialTask, make_submission: MakeSubmission
) -> None:
    rows = [*pool_rows(roman, 2, "v"), ["drawn/a.png", "x"], ["b.png", "ii"]]
    parsed = accepts(evaluator, roman, make_submission(rows, {"drawn/a.png": png(1), "b.png": png(2)}))
    assert [item.key for item in parsed.items] == [
        *roman.pool.ids[:2],
        item_key_of_png(png(1)),
        item_key_of_png(png(2)),
    ]
    assert [item.kind for item in parsed.items] == [ItemKind.POOL, ItemKind.POOL, ItemKind.NEW, ItemKind.NEW]
    assert [item.source for item in parsed.items] == [*roman.pool.ids[:2], "drawn/a.png", "b.png"]
    assert [item.line for item in parsed.items] == [2, 3, 4, 5]
    assert parsed.claimed.tolist() == [4, 4, 9, 1]
    assert parsed.new_vectors.shape == (2, 32 * 32)
    assert [item.pool_row for item in parsed.items] == [0, 1, None, None]


def test_it_accepts_a_single_item_with_a_single_label(
    evaluator: CollectiveEvaluator[Any, Any], roman: AdversarialTask, make_submission: MakeSubmission
) -> None:
    assert len(accepts(evaluator, roman, make_submission(pool_rows(roman, 1))).items) == 1


def test_it_accepts_a_lone_labels_file(
    evaluator: CollectiveEvaluator[Any, Any], roman: AdversarialTask, make_submission: MakeSubmission
) -> None:
    directory = make_submission(pool_rows(roman, 3))
    assert len(accepts(evaluator, roman, directory / "labels.csv").items) == 3


def test_it_rejects_more_items_than_max_items(
    evaluator: CollectiveEvaluator[Any, Any], roman: AdversarialTask, make_submission: MakeSubmission
) -> None:
    assert rejects(evaluator, roman, make_submission(pool_rows(roman, 51))) == (
        "labels.csv lists 51 items, more than max_items = 50 (pool items and new items together)"
    )


def test_it_rejects_a_header_only_file(
    evaluator: CollectiveEvaluator[Any, Any], roman: AdversarialTask, make_submission: MakeSubmission
) -> None:
    assert rejects(evaluator, roman, make_submission([])) == "labels.csv: no item is listed after the header"


def test_it_rejects_a_submission_without_labels_csv(
    evaluator: CollectiveEvaluator[Any, Any], roman: AdversarialTask, make_submission: MakeSubmission
) -> None:
    message = rejects(evaluator, roman, make_submission(None, {"images/a.png": png(), "notes.txt": "x"}))
    assert message.startswith('the submission has no labels.csv at its top level (found: "images", "notes.txt")')


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (["p00001", "IV"], 'labels.csv line 2: label "IV" is not a label of this task (labels are case-sensitive); '),
        (["zz99", "i"], 'labels.csv line 2: item "zz99": not an id of the pool'),
        (["x.jpg", "i"], 'item "x.jpg": not an id of the pool (new images must be PNG files whose name ends in .png)'),
        (["../up.png", "i"], 'item "../up.png": the path leaves the submission directory (".." is not allowed)'),
        (["/abs.png", "i"], 'item "/abs.png": absolute paths are not allowed'),
        (["gone.png", "i"], 'labels.csv line 2: item "gone.png": no such file in the submission'),
    ],
)
def test_it_rejects_a_bad_row_naming_the_line_and_the_rule(
    evaluator: CollectiveEvaluator[Any, Any],
    roman: AdversarialTask,
    make_submission: MakeSubmission,
    row: list[str],
    message: str,
) -> None:
    assert message in rejects(evaluator, roman, make_submission([row]))


def test_it_rejects_a_pool_item_listed_twice_naming_both_lines(
    evaluator: CollectiveEvaluator[Any, Any], roman: AdversarialTask, make_submission: MakeSubmission
) -> None:
    rows = [*pool_rows(roman, 3), [roman.pool.ids[0], "x"]]
    assert rejects(evaluator, roman, make_submission(rows)) == (
        f'labels.csv line 5: item "{roman.pool.ids[0]}" is listed twice (first on line 2); list every item once'
    )


def test_it_rejects_two_images_with_identical_bytes_naming_both_lines(
    evaluator: CollectiveEvaluator[Any, Any], roman: AdversarialTask, make_submission: MakeSubmission
) -> None:
    rows = [["a.png", "i"], *pool_rows(roman, 1), ["copies/b.png", "ii"]]
    assert rejects(evaluator, roman, make_submission(rows, {"a.png": png(3), "copies/b.png": png(3)})) == (
        'labels.csv line 4: item "copies/b.png" is the same item as "a.png" on line 2 (identical bytes); list every '
        "item once"
    )


def test_it_rejects_two_images_that_are_identical_once_preprocessed(
    evaluator: CollectiveEvaluator[Any, Any], roman: AdversarialTask, make_submission: MakeSubmission
) -> None:
    rows = [["a.png", "i"], ["b.png", "i"]]
    assert rejects(evaluator, roman, make_submission(rows, {"a.png": png(3), "b.png": reencoded(png(3))})) == (
        'labels.csv line 3: item "b.png" is the same item as "a.png" on line 2 (identical once preprocessed: '
        "grayscale, 32x32); list every item once"
    )


def test_it_rejects_a_new_image_that_is_a_copy_of_a_pool_image(
    evaluator: CollectiveEvaluator[Any, Any],
    roman: AdversarialTask,
    roman_dir: Path,
    make_submission: MakeSubmission,
) -> None:
    copied = roman_dir / "pool" / "images" / f"{roman.pool.ids[4]}.png"
    assert rejects(evaluator, roman, make_submission([["mine.png", "v"]], {"mine.png": copied})) == (
        f'labels.csv line 2: item "mine.png" is the pool item "{roman.pool.ids[4]}" (identical once preprocessed: '
        "grayscale, 32x32); list it by its id"
    )


def test_it_rejects_images_labels_csv_does_not_list(
    evaluator: CollectiveEvaluator[Any, Any], roman: AdversarialTask, make_submission: MakeSubmission
) -> None:
    message = rejects(evaluator, roman, make_submission([["a.png", "i"]], {"a.png": png(1), "left/out.png": png(2)}))
    assert message == "left/out.png: an image file that labels.csv does not list; list it or remove it"


def test_it_reports_every_undecodable_image(
    evaluator: CollectiveEvaluator[Any, Any], roman: AdversarialTask, make_submission: MakeSubmission
) -> None:
    files = {"a.png": b"not a png", "b.png": png(1)[:60], "c.png": png(2)}
    message = rejects(evaluator, roman, make_submission([["a.png", "i"], ["b.png", "i"], ["c.png", "i"]], files))
    assert message.startswith("2 problems:\na.png (labels.csv line 2): not a PNG image")
    assert "b.png (labels.csv line 3): cannot be decoded as PNG" in message
    assert "c.png" not in message


def test_it_rejects_new_images_when_the_task_accepts_only_pool_items(
    evaluator: CollectiveEvaluator[Any, Any], roman_dir: Path, tmp_path: Path, make_submission: MakeSubmission
) -> None:
    config = evaluator.validate_config({**ROMAN_CONFIG, "allow_new_items": False})
    task = evaluator.load_task(copy_task(roman_dir, tmp_path / "task", config), config)
    assert rejects(evaluator, task, make_submission([["a.png", "i"]], {"a.png": png()})) == (
        'labels.csv line 2: item "a.png": this task accepts only items of the pool (by id), not new images'
    )


def test_it_accepts_new_feature_rows_keyed_by_their_values(
    evaluator: CollectiveEvaluator[Any, Any], features: AdversarialTask, make_submission: MakeSubmission
) -> None:
    values = [0.5, 1.0, -0.25, 3.0]
    files = {"features.csv": features_csv([("mine", values)])}
    parsed = accepts(evaluator, features, make_submission([[features.pool.ids[0], "a"], ["mine", "c"]], files))
    assert [item.key for item in parsed.items] == [features.pool.ids[0], item_key_of_features(values)]
    assert parsed.items[1].payload == b"0.5,1.0,-0.25,3.0"
    assert np.array_equal(parsed.new_vectors, [values])


def test_it_rejects_two_identical_feature_rows_naming_both_lines(
    evaluator: CollectiveEvaluator[Any, Any], features: AdversarialTask, make_submission: MakeSubmission
) -> None:
    files = {"features.csv": features_csv([("x", [1, 2, 3, 4]), ("y", [1.0, 2.0, 3.0, 4.0])])}
    assert rejects(evaluator, features, make_submission([["x", "a"], ["y", "b"]], files)) == (
        'labels.csv line 3: item "y" is the same item as "x" on line 2 (identical feature values); list every item once'
    )


def test_it_rejects_a_feature_row_equal_to_a_pool_item(
    evaluator: CollectiveEvaluator[Any, Any], features: AdversarialTask, make_submission: MakeSubmission
) -> None:
    files = {"features.csv": features_csv([("x", features.pool.features[2].tolist())])}
    assert rejects(evaluator, features, make_submission([["x", "a"]], files)) == (
        f'labels.csv line 2: item "x" is the pool item "{features.pool.ids[2]}" (identical feature values); list it '
        "by its id"
    )


def test_it_rejects_a_feature_row_labels_csv_does_not_list(
    evaluator: CollectiveEvaluator[Any, Any], features: AdversarialTask, make_submission: MakeSubmission
) -> None:
    files = {"features.csv": features_csv([("x", [1, 2, 3, 4]), ("y", [4, 3, 2, 1])])}
    assert rejects(evaluator, features, make_submission([["x", "a"]], files)) == (
        'features.csv line 3: item "y" is not listed in labels.csv'
    )


def test_it_rejects_new_feature_rows_when_the_task_accepts_only_pool_items(
    evaluator: CollectiveEvaluator[Any, Any], features_dir: Path, tmp_path: Path, make_submission: MakeSubmission
) -> None:
    config = evaluator.validate_config({**FEATURES_CONFIG, "allow_new_items": False})
    task = evaluator.load_task(copy_task(features_dir, tmp_path / "task", config), config)
    files = {"features.csv": features_csv([("x", [1, 2, 3, 4])])}
    assert rejects(evaluator, task, make_submission([["x", "a"]], files)) == (
        "features.csv: this task accepts only pool items; remove the file"
    )
