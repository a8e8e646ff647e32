"""selection-vision public/private splits: config keys, the partition of each concept's test images
(stratified by label, deterministic), each side's score against an independent computation, sealed details,
the CLI."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from evaluators import EvaluationResult, Evaluator, TaskConfigError
from evaluators.cli import main
from evaluators.selection_vision.data import held_out_path
from evaluators.selection_vision.synthetic import write_baselines
from evaluators.selection_vision.task import VisionTask
from evaluators.splits import PRIVATE, PUBLIC, SplitConfig, partition

CONCEPTS = ["Cupcake", "Hawk", "Sushi"]
CONFIG: dict[str, Any] = {"concepts": CONCEPTS, "max_per_concept": 1000}
SPLIT: dict[str, Any] = {**CONFIG, "private_fraction": 0.4, "split_seed": 5}
# The small task's examples-random-negatives score before splits existed: a split must not move it by one bit.
BASELINE_PRIMARY = 0.799943986416706


@pytest.fixture(scope="module")
def baseline(small_vision_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_baselines(small_vision_dir, tmp_path_factory.mktemp("vision_splits"))["examples-random-negatives"]


def _load(evaluator: Evaluator[Any, Any], directory: Path, config: dict[str, Any]) -> VisionTask:
    task: VisionTask = evaluator.load_task(directory, evaluator.validate_config(config))
    return task


def _score(evaluator: Evaluator[Any, Any], task: VisionTask, submission: Path) -> EvaluationResult:
    return evaluator.evaluate(task, evaluator.validate(task, submission))


@pytest.fixture(scope="module")
def unsplit(vision_evaluator: Evaluator[Any, Any], small_vision_dir: Path, baseline: Path) -> EvaluationResult:
    return _score(vision_evaluator, _load(vision_evaluator, small_vision_dir, CONFIG), baseline)


@pytest.fixture(scope="module")
def split_task(vision_evaluator: Evaluator[Any, Any], small_vision_dir: Path) -> VisionTask:
    return _load(vision_evaluator, small_vision_dir, SPLIT)


@pytest.fixture(scope="module")
def split_result(vision_evaluator: Evaluator[Any, Any], split_task: VisionTask, baseline: Path) -> EvaluationResult:
    return _score(vision_evaluator, split_task, baseline)


def _test_rows(task_dir: Path, concept: str) -> list[tuple[str, str]]:
    """(ImageID, label) of each test row, read independently of the evaluator."""
    table = pq.read_table(held_out_path(task_dir, concept), columns=["ImageID", "Confidence"])
    return list(zip(table.column("ImageID").to_pylist(), table.column("Confidence").to_pylist(), strict=True))


def _private_ids(task_dir: Path, concept: str, split: SplitConfig) -> set[str]:
    rows = sorted(set(_test_rows(task_dir, concept)))
    mask = partition([f"{concept}/{image}" for image, _ in rows], split=split, strata=[label for _, label in rows])
    return {image for (image, _), private in zip(rows, mask, strict=True) if private}


def _restricted_copy(source: Path, destination: Path, keep: dict[str, set[str]]) -> Path:
    """A copy of the task whose test sets hold only the images in `keep[concept]`."""
    shutil.copytree(source, destination)
    for concept, images in keep.items():
        path = held_out_path(destination, concept)
        table = pq.read_table(path)
        pq.write_table(table.filter(pa.array([image in images for image in table.column("ImageID").to_pylist()])), path)
    return destination


def _side_ids(task_dir: Path, side: str) -> dict[str, set[str]]:
    sides = {}
    for concept in CONCEPTS:
        private = _private_ids(task_dir, concept, SplitConfig(0.4, 5))
        everything = {image for image, _ in _test_rows(task_dir, concept)}
        sides[concept] = private if side == PRIVATE else everything - private
    return sides


def test_without_a_split_the_config_and_the_score_are_todays(
    vision_evaluator: Evaluator[Any, Any], small_vision_dir: Path, baseline: Path, unsplit: EvaluationResult
) -> None:
    assert vision_evaluator.validate_config(CONFIG) == CONFIG
    assert vision_evaluator.validate_config({**CONFIG, "private_fraction": 0.0}) == CONFIG
    zero_task = _load(vision_evaluator, small_vision_dir, {**CONFIG, "private_fraction": 0, "split_seed": 9})
    zero = _score(vision_evaluator, zero_task, baseline)
    assert unsplit.primary == BASELINE_PRIMARY
    assert (zero.primary, zero.metrics, zero.details, zero.splits) == (
        unsplit.primary,
        unsplit.metrics,
        unsplit.details,
        {},
    )
    assert not {"sealed", "sealed_charts", "scored_on"} & set(unsplit.details)


def test_a_split_is_stored_in_the_normalised_config(vision_evaluator: Evaluator[Any, Any]) -> None:
    assert vision_evaluator.validate_config(SPLIT) == {**CONFIG, "private_fraction": 0.4, "split_seed": 5}


@pytest.mark.parametrize(
    ("config", "fragment"),
    [
        ({**CONFIG, "private_fraction": 1.0}, "config.private_fraction must be at least 0 and below 1"),
        ({**CONFIG, "private_fraction": True}, "config.private_fraction must be a number"),
        ({**CONFIG, "private_fraction": 0.5, "split_seed": "x"}, "config.split_seed must be an integer"),
        ({**CONFIG, "seed": 1}, "allowed: concepts, max_per_concept, private_fraction, split_seed"),
    ],
)
def test_a_bad_split_config_names_the_key_and_the_rule(
    vision_evaluator: Evaluator[Any, Any], config: dict[str, Any], fragment: str
) -> None:
    with pytest.raises(TaskConfigError) as caught:
        vision_evaluator.validate_config(config)
    assert fragment in str(caught.value)


def test_the_whole_set_values_do_not_change_with_a_split(
    split_result: EvaluationResult, unsplit: EvaluationResult
) -> None:
    assert split_result.primary == unsplit.primary
    assert split_result.metrics == unsplit.metrics
    assert set(split_result.splits) == {PUBLIC, PRIVATE}
    for side in split_result.splits.values():
        assert set(side.metrics) == set(unsplit.metrics)


@pytest.mark.parametrize("side", [PUBLIC, PRIVATE])
def test_each_side_scores_like_test_sets_holding_only_its_images(
    vision_evaluator: Evaluator[Any, Any],
    small_vision_dir: Path,
    baseline: Path,
    split_result: EvaluationResult,
    tmp_path: Path,
    side: str,
) -> None:
    alone = _restricted_copy(small_vision_dir, tmp_path / side, _side_ids(small_vision_dir, side))
    expected = _score(vision_evaluator, _load(vision_evaluator, alone, CONFIG), baseline)
    assert split_result.splits[side].primary == expected.primary
    assert split_result.splits[side].metrics == expected.metrics
    assert split_result.splits[side].primary != split_result.primary


def test_the_partition_puts_both_labels_of_every_concept_on_both_sides(split_task: VisionTask) -> None:
    for concept in CONCEPTS:
        labels = split_task.test_set(concept).labels.tolist()
        private = split_task.private_rows(concept)
        for side in (True, False):
            assert {label for label, flag in zip(labels, private, strict=True) if flag is side} == {0, 1}
        assert 0.3 < sum(private) / len(private) < 0.5


def test_the_partition_ignores_the_order_of_the_test_rows(
    vision_evaluator: Evaluator[Any, Any], small_vision_dir: Path, split_task: VisionTask, tmp_path: Path
) -> None:
    shutil.copytree(small_vision_dir, tmp_path / "reversed")
    for concept in CONCEPTS:
        path = held_out_path(tmp_path / "reversed", concept)
        table = pq.read_table(path)
        pq.write_table(table.take(pa.array(range(table.num_rows - 1, -1, -1))), path)
    reordered = _load(vision_evaluator, tmp_path / "reversed", SPLIT)
    another_seed = _load(vision_evaluator, small_vision_dir, {**SPLIT, "split_seed": 6})

    def private_ids(task: VisionTask, directory: Path, concept: str) -> set[str]:
        rows = _test_rows(directory, concept)
        return {image for (image, _), flag in zip(rows, task.private_rows(concept), strict=True) if flag}

    for concept in CONCEPTS:
        expected = _private_ids(small_vision_dir, concept, SplitConfig(0.4, 5))
        assert private_ids(split_task, small_vision_dir, concept) == expected
        assert private_ids(reordered, tmp_path / "reversed", concept) == expected
        assert private_ids(another_seed, small_vision_dir, concept) != expected


def test_an_image_listed_twice_is_one_unit_on_one_side(
    vision_evaluator: Evaluator[Any, Any], small_vision_dir: Path, tmp_path: Path
) -> None:
    shutil.copytree(small_vision_dir, tmp_path / "twice")
    path = held_out_path(tmp_path / "twice", "Hawk")
    table = pq.read_table(path)
    pq.write_table(pa.concat_tables([table, table.slice(0, 10)]), path)
    task = _load(vision_evaluator, tmp_path / "twice", SPLIT)
    sides: dict[str, set[bool]] = {}
    for (image, _), flag in zip(_test_rows(tmp_path / "twice", "Hawk"), task.private_rows("Hawk"), strict=True):
        sides.setdefault(image, set()).add(flag)
    assert all(len(flags) == 1 for flags in sides.values())


def test_visible_details_are_public_and_name_no_test_image(
    vision_evaluator: Evaluator[Any, Any],
    small_vision_dir: Path,
    baseline: Path,
    split_result: EvaluationResult,
    tmp_path: Path,
) -> None:
    details = split_result.details
    visible = json.dumps({key: value for key, value in details.items() if key not in {"sealed", "sealed_charts"}})
    assert not any(image in visible for concept in CONCEPTS for image, _ in _test_rows(small_vision_dir, concept))
    assert details["scored_on"] == "public"
    public_alone = _restricted_copy(small_vision_dir, tmp_path / "public", _side_ids(small_vision_dir, PUBLIC))
    expected = _score(vision_evaluator, _load(vision_evaluator, public_alone, CONFIG), baseline)
    assert details["charts"] == expected.details["charts"]
    assert details["concepts"] == expected.details["concepts"]
    [whole_chart, private_chart] = details["sealed_charts"]
    assert whole_chart["y"] == [split_result.metrics[f"f1.{concept}"] for concept in CONCEPTS]
    assert private_chart["y"] == [split_result.splits[PRIVATE].metrics[f"f1.{concept}"] for concept in CONCEPTS]


def test_progress_reports_the_public_f1(
    vision_evaluator: Evaluator[Any, Any], split_task: VisionTask, baseline: Path, split_result: EvaluationResult
) -> None:
    messages: list[str] = []
    vision_evaluator.evaluate(
        split_task, vision_evaluator.validate(split_task, baseline), lambda _, m: messages.append(m)
    )
    public = split_result.splits[PUBLIC].metrics["f1.Sushi"]
    assert messages[-1] == f"Sushi: public F1 {public:.4f}"


def test_check_task_reports_a_label_too_small_to_split(
    vision_evaluator: Evaluator[Any, Any], small_vision_dir: Path, split_task: VisionTask, tmp_path: Path
) -> None:
    assert vision_evaluator.check_task(split_task) == []
    shutil.copytree(small_vision_dir, tmp_path / "tiny")
    path = held_out_path(tmp_path / "tiny", "Hawk")
    table = pq.read_table(path)
    labels = table.column("Confidence").to_pylist()
    first_positive = labels.index("1")
    keep = [label == "0" or row == first_positive for row, label in enumerate(labels)]
    pq.write_table(table.filter(pa.array(keep)), path)
    assert vision_evaluator.check_task(_load(vision_evaluator, tmp_path / "tiny", CONFIG)) == []
    [problem] = vision_evaluator.check_task(_load(vision_evaluator, tmp_path / "tiny", SPLIT))
    assert "alpha_test_set_Hawk_256.parquet: config.private_fraction 0.4: class 1 has 1 test image(s)" in problem
    assert "(public 1, private 0)" in problem


def test_the_cli_prints_both_sides(
    small_vision_dir: Path,
    baseline: Path,
    split_result: EvaluationResult,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    shutil.copytree(small_vision_dir, tmp_path / "task")
    (tmp_path / "task" / "task.yaml").write_text(yaml.safe_dump({"benchmark": "selection-vision", "config": SPLIT}))
    assert main(["score", "--task", str(tmp_path / "task"), "--submission", str(baseline)]) == 0
    output = json.loads(capsys.readouterr().out)
    assert set(output) == {"primary", "metrics", "splits"}
    assert output["primary"] == BASELINE_PRIMARY
    assert output["splits"] == {name: score.as_dict() for name, score in split_result.splits.items()}
