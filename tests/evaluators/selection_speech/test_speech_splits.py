"""selection-speech public/private splits: config keys, the partition of the evaluation clips (stratified by
class, deterministic), each side's score against an independent computation, sealed details, the CLI."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from evaluators import EvaluationResult, Evaluator, TaskConfigError
from evaluators.cli import main
from evaluators.selection_speech.scoring import SEEDS, seed_metric
from evaluators.selection_speech.synthetic import baseline_submissions
from evaluators.selection_speech.task import SpeechTask
from evaluators.splits import PRIVATE, PUBLIC, SplitConfig, partition

CONFIG = {"language": "en", "train_size": 25}
SPLIT = {**CONFIG, "private_fraction": 0.5, "split_seed": 11}
# The small task's first-k score before splits existed: a split must not move it by one bit.
FIRST_K_PRIMARY = 0.4985918071877592


@pytest.fixture(scope="module")
def first_k(small_task_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("speech_splits") / "first-k.json"
    path.write_text(json.dumps(baseline_submissions(small_task_dir, seed=0)["first-k"]))
    return path


def _load(evaluator: Evaluator[Any, Any], directory: Path, config: dict[str, Any]) -> SpeechTask:
    task: SpeechTask = evaluator.load_task(directory, evaluator.validate_config(config))
    return task


def _score(evaluator: Evaluator[Any, Any], task: SpeechTask, submission: Path) -> EvaluationResult:
    return evaluator.evaluate(task, evaluator.validate(task, submission))


@pytest.fixture(scope="module")
def unsplit(speech_evaluator: Evaluator[Any, Any], small_task_dir: Path, first_k: Path) -> EvaluationResult:
    return _score(speech_evaluator, _load(speech_evaluator, small_task_dir, CONFIG), first_k)


@pytest.fixture(scope="module")
def split_task(speech_evaluator: Evaluator[Any, Any], small_task_dir: Path) -> SpeechTask:
    return _load(speech_evaluator, small_task_dir, SPLIT)


@pytest.fixture(scope="module")
def split_result(speech_evaluator: Evaluator[Any, Any], split_task: SpeechTask, first_k: Path) -> EvaluationResult:
    return _score(speech_evaluator, split_task, first_k)


def _eval_units(task_dir: Path) -> list[tuple[str, str]]:
    """(class name, clip id) of every clip of eval.yaml, read independently of the evaluator."""
    document = yaml.safe_load((task_dir / "eval.yaml").read_text())
    units = [(word, clip_id) for word, ids in document["targets"].items() for clip_id in ids]
    return units + [("nontarget", clip_id) for clip_id in document["nontargets"]]


def _private_units(task_dir: Path, split: SplitConfig) -> set[tuple[str, str]]:
    units = sorted(set(_eval_units(task_dir)))
    mask = partition([f"{name}/{clip}" for name, clip in units], split=split, strata=[name for name, _ in units])
    return {unit for unit, private in zip(units, mask, strict=True) if private}


def _restricted_copy(source: Path, destination: Path, keep: set[tuple[str, str]]) -> Path:
    """A copy of the task whose eval.yaml lists only the clips in `keep` (and no split)."""
    shutil.copytree(source, destination)
    document = yaml.safe_load((source / "eval.yaml").read_text())
    document["targets"] = {
        word: [clip for clip in ids if (word, clip) in keep] for word, ids in document["targets"].items()
    }
    document["nontargets"] = [clip for clip in document["nontargets"] if ("nontarget", clip) in keep]
    (destination / "eval.yaml").write_text(yaml.safe_dump(document, sort_keys=False))
    return destination


def test_without_a_split_the_config_and_the_score_are_todays(
    speech_evaluator: Evaluator[Any, Any], small_task_dir: Path, first_k: Path, unsplit: EvaluationResult
) -> None:
    assert speech_evaluator.validate_config(CONFIG) == CONFIG
    assert speech_evaluator.validate_config({**CONFIG, "private_fraction": 0, "split_seed": 3}) == CONFIG
    zero = _score(speech_evaluator, _load(speech_evaluator, small_task_dir, {**CONFIG, "private_fraction": 0}), first_k)
    assert unsplit.primary == FIRST_K_PRIMARY
    assert (zero.primary, zero.metrics, zero.details, zero.splits) == (
        unsplit.primary,
        unsplit.metrics,
        unsplit.details,
        {},
    )
    assert "sealed" not in unsplit.details
    assert "sealed_charts" not in unsplit.details


def test_a_split_is_stored_in_the_normalised_config(speech_evaluator: Evaluator[Any, Any]) -> None:
    assert speech_evaluator.validate_config(SPLIT) == {**CONFIG, "private_fraction": 0.5, "split_seed": 11}


@pytest.mark.parametrize(
    ("config", "fragment"),
    [
        ({**CONFIG, "private_fraction": 1}, "config.private_fraction must be at least 0 and below 1"),
        ({**CONFIG, "private_fraction": "half"}, "config.private_fraction must be a number"),
        ({**CONFIG, "private_fraction": 0.5, "split_seed": -1}, "config.split_seed must be an integer"),
        ({**CONFIG, "seed": 1}, "allowed: language, train_size, private_fraction, split_seed"),
    ],
)
def test_a_bad_split_config_names_the_key_and_the_rule(
    speech_evaluator: Evaluator[Any, Any], config: dict[str, Any], fragment: str
) -> None:
    with pytest.raises(TaskConfigError) as caught:
        speech_evaluator.validate_config(config)
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
def test_each_side_scores_like_a_task_holding_only_its_clips(
    speech_evaluator: Evaluator[Any, Any],
    small_task_dir: Path,
    first_k: Path,
    split_result: EvaluationResult,
    tmp_path: Path,
    side: str,
) -> None:
    private = _private_units(small_task_dir, SplitConfig(0.5, 11))
    keep = private if side == PRIVATE else set(_eval_units(small_task_dir)) - private
    alone = _restricted_copy(small_task_dir, tmp_path / side, keep)
    expected = _score(speech_evaluator, _load(speech_evaluator, alone, CONFIG), first_k)
    assert split_result.splits[side].primary == expected.primary
    assert split_result.splits[side].metrics == expected.metrics
    assert split_result.splits[side].primary != split_result.primary


def test_the_partition_puts_every_class_on_both_sides(split_task: SpeechTask) -> None:
    labels = split_task.eval_rows().labels.tolist()
    private = split_task.private_rows()
    for side in (True, False):
        assert {label for label, flag in zip(labels, private, strict=True) if flag is side} == set(range(6))
    assert 0.4 < sum(private) / len(private) < 0.6


def test_the_partition_ignores_the_order_of_eval_yaml(
    speech_evaluator: Evaluator[Any, Any], small_task_dir: Path, split_task: SpeechTask, tmp_path: Path
) -> None:
    shutil.copytree(small_task_dir, tmp_path / "shuffled")
    document = yaml.safe_load((small_task_dir / "eval.yaml").read_text())
    document["targets"] = {word: ids[::-1] for word, ids in reversed(document["targets"].items())}
    document["nontargets"] = document["nontargets"][::-1]
    (tmp_path / "shuffled" / "eval.yaml").write_text(yaml.safe_dump(document, sort_keys=False))
    shuffled = _load(speech_evaluator, tmp_path / "shuffled", SPLIT)

    def private_clips(task: SpeechTask) -> set[str]:
        rows = task.eval_rows()
        return {clip for clip, flag in zip(rows.clip_ids, task.private_rows(), strict=True) if flag}

    assert private_clips(shuffled) == private_clips(split_task)
    assert private_clips(split_task) == {clip for _, clip in _private_units(small_task_dir, SplitConfig(0.5, 11))}
    another_seed = _load(speech_evaluator, small_task_dir, {**SPLIT, "split_seed": 12})
    assert private_clips(another_seed) != private_clips(split_task)


def test_a_clip_listed_twice_is_one_unit_on_one_side(
    speech_evaluator: Evaluator[Any, Any], small_task_dir: Path, tmp_path: Path
) -> None:
    shutil.copytree(small_task_dir, tmp_path / "twice")
    document = yaml.safe_load((small_task_dir / "eval.yaml").read_text())
    document["nontargets"] += document["nontargets"][:6]
    (tmp_path / "twice" / "eval.yaml").write_text(yaml.safe_dump(document, sort_keys=False))
    task = _load(speech_evaluator, tmp_path / "twice", SPLIT)
    sides: dict[str, set[bool]] = {}
    for clip, flag in zip(task.eval_rows().clip_ids, task.private_rows(), strict=True):
        sides.setdefault(clip, set()).add(flag)
    assert all(len(flags) == 1 for flags in sides.values())


def test_visible_details_are_public_and_name_no_clip(small_task_dir: Path, split_result: EvaluationResult) -> None:
    details = split_result.details
    visible = {key: value for key, value in details.items() if key not in {"sealed", "sealed_charts"}}
    text = json.dumps(visible)
    assert not any(clip in text for _, clip in _eval_units(small_task_dir))
    public = split_result.splits[PUBLIC].metrics
    assert details["scored_on"] == "public"
    assert [entry["macro_f1"] for entry in details["per_seed"]] == [public[seed_metric(s)] for s in SEEDS]
    [seed_chart] = [chart for chart in details["charts"] if chart["title"] == "Macro F1 per seed"]
    assert seed_chart["y"] == [public[seed_metric(s)] for s in SEEDS]
    whole = [chart for chart in details["sealed_charts"] if chart["title"].endswith("(whole evaluation set)")]
    assert [chart["y"] for chart in whole if "per seed" in chart["title"]] == [
        [split_result.metrics[seed_metric(s)] for s in SEEDS]
    ]
    private = split_result.splits[PRIVATE].metrics
    assert [entry["macro_f1"] for entry in details["sealed"]["private"]["per_seed"]] == [
        private[seed_metric(s)] for s in SEEDS
    ]


def test_the_public_per_class_chart_uses_public_clips_only(
    speech_evaluator: Evaluator[Any, Any],
    small_task_dir: Path,
    first_k: Path,
    split_result: EvaluationResult,
    tmp_path: Path,
) -> None:
    public = set(_eval_units(small_task_dir)) - _private_units(small_task_dir, SplitConfig(0.5, 11))
    alone = _score(
        speech_evaluator,
        _load(speech_evaluator, _restricted_copy(small_task_dir, tmp_path / "p", public), CONFIG),
        first_k,
    )
    assert split_result.details["per_class_f1"] == alone.details["per_class_f1"]
    assert split_result.details["charts"][0] == alone.details["charts"][0]


def test_progress_reports_the_public_macro_f1(
    speech_evaluator: Evaluator[Any, Any], split_task: SpeechTask, first_k: Path, split_result: EvaluationResult
) -> None:
    messages: list[str] = []
    speech_evaluator.evaluate(
        split_task, speech_evaluator.validate(split_task, first_k), lambda _, m: messages.append(m)
    )
    public = split_result.splits[PUBLIC].metrics[seed_metric(SEEDS[-1])]
    assert messages[-1] == f"seed {SEEDS[-1]}: public macro F1 {public:.4f}"


def test_check_task_reports_a_class_too_small_to_split(
    speech_evaluator: Evaluator[Any, Any], small_task_dir: Path, split_task: SpeechTask, tmp_path: Path
) -> None:
    assert speech_evaluator.check_task(split_task) == []
    shutil.copytree(small_task_dir, tmp_path / "tiny")
    document = yaml.safe_load((small_task_dir / "eval.yaml").read_text())
    document["targets"]["job"] = document["targets"]["job"][:1]
    (tmp_path / "tiny" / "eval.yaml").write_text(yaml.safe_dump(document, sort_keys=False))
    assert speech_evaluator.check_task(_load(speech_evaluator, tmp_path / "tiny", CONFIG)) == []
    [problem] = speech_evaluator.check_task(_load(speech_evaluator, tmp_path / "tiny", SPLIT))
    assert "config.private_fraction 0.5: class 'job' has 1 evaluation clip(s)" in problem
    assert "(public 1, private 0)" in problem


def test_the_cli_prints_both_sides(
    small_task_dir: Path,
    first_k: Path,
    split_result: EvaluationResult,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    shutil.copytree(small_task_dir, tmp_path / "task")
    (tmp_path / "task" / "task.yaml").write_text(yaml.safe_dump({"benchmark": "selection-speech", "config": SPLIT}))
    assert main(["score", "--task", str(tmp_path / "task"), "--submission", str(first_k)]) == 0
    output = json.loads(capsys.readouterr().out)
    assert set(output) == {"primary", "metrics", "splits"}
    assert output["primary"] == FIRST_K_PRIMARY
    assert output["splits"] == {name: score.as_dict() for name, score in split_result.splits.items()}
