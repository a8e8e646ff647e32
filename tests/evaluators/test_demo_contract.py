"""Every registered evaluator with synthetic data passes the same end-to-end checks: its demo task loads, its
baselines validate and score (deterministically, reporting progress), and garbage is rejected cleanly. Every demo
task's full-size data admits the private split the demo challenge gives it."""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import pytest

from evaluators import SubmissionError, TaskConfigError, available_slugs, get_evaluator
from evaluators.base import Evaluator
from evaluators.demo import DEMO_PRIVATE_FRACTION, DemoTask, demo_module
from evaluators.splits import PRIVATE_FRACTION_KEY, SPLIT_KEYS, SPLIT_SEED_KEY, participant_config
from evaluators.taskdir import load_task_dir


def _with_demo() -> list[str]:
    return [slug for slug in available_slugs() if get_evaluator(slug).demo_module]


def _demo_tasks() -> list[tuple[str, DemoTask]]:
    found = []
    for slug in _with_demo():
        module = demo_module(get_evaluator(slug))
        assert module is not None
        found += [(slug, spec) for spec in module.DEMO_TASKS]
    return found


@pytest.fixture(params=_with_demo())
def demo(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Evaluator[Any, Any], Path, dict[str, Path]]:
    evaluator = get_evaluator(request.param)
    module = demo_module(evaluator)
    assert module is not None
    assert module.DEMO_TASKS, "a demo module declares at least one demo task"
    task_dir = tmp_path / "task"
    module.generate_task(task_dir, config=module.DEMO_TASKS[0].config, seed=0, small=True)
    baselines = module.write_baselines(task_dir, tmp_path / "baselines", seed=0)
    assert baselines, "a demo module writes at least one baseline"
    return evaluator, task_dir, baselines


def test_every_demo_task_directory_names_its_benchmark_and_a_valid_config(
    demo: tuple[Evaluator[Any, Any], Path, dict[str, Path]],
) -> None:
    evaluator, task_dir, _ = demo
    described = load_task_dir(task_dir)
    assert described.slug == evaluator.slug
    assert evaluator.validate_config(described.config) is not None


def test_every_baseline_scores_deterministically_and_reports_progress(
    demo: tuple[Evaluator[Any, Any], Path, dict[str, Path]],
) -> None:
    evaluator, task_dir, baselines = demo
    config = evaluator.validate_config(load_task_dir(task_dir).config)
    task = evaluator.load_task(task_dir, config)
    assert evaluator.check_task(task) == []
    declared = {spec.name for spec in evaluator.metric_specs(config)}
    progress: list[float] = []
    for path in baselines.values():
        progress.clear()
        first = evaluator.evaluate(task, evaluator.validate(task, path), lambda f, m: progress.append(f))
        second = evaluator.evaluate(task, evaluator.validate(task, path))
        assert math.isfinite(first.primary)
        assert first.primary == second.primary
        assert first.metrics == second.metrics
        assert set(first.metrics) <= declared
        assert progress and all(0.0 <= f <= 1.0 for f in progress)


def test_garbage_is_rejected_with_the_evaluators_own_error(
    demo: tuple[Evaluator[Any, Any], Path, dict[str, Path]], tmp_path: Path
) -> None:
    evaluator, task_dir, _ = demo
    task = evaluator.load_task(task_dir, evaluator.validate_config(load_task_dir(task_dir).config))
    garbage = tmp_path / "garbage"
    if evaluator.submission_is_directory:
        garbage.mkdir()
        (garbage / "noise.bin").write_bytes(b"\x00\xff not a submission \x80")
    else:
        garbage.write_bytes(b"\x00\xff not a submission \x80")
    with pytest.raises(SubmissionError) as raised:
        evaluator.validate(task, garbage)
    assert str(raised.value).strip()


def test_every_benchmark_scores_both_splits_or_refuses_one_with_its_reason(
    demo: tuple[Evaluator[Any, Any], Path, dict[str, Path]],
) -> None:
    evaluator, task_dir, baselines = demo
    config = {**load_task_dir(task_dir).config, "private_fraction": 0.5, "split_seed": 3}
    if evaluator.split_refusal:
        with pytest.raises(TaskConfigError, match=re.escape(evaluator.split_refusal)):
            evaluator.validate_config(config)
        return
    normalised = evaluator.validate_config(config)
    assert normalised["private_fraction"] == 0.5
    assert normalised["split_seed"] == 3
    task = evaluator.load_task(task_dir, normalised)
    whole = evaluator.load_task(task_dir, evaluator.validate_config(load_task_dir(task_dir).config))
    # What participants download (the seed withheld) validates and scores the whole set offline.
    offline = evaluator.load_task(task_dir, evaluator.validate_config(participant_config(normalised)))
    for path in baselines.values():
        with_split = evaluator.evaluate(task, evaluator.validate(task, path))
        without = evaluator.evaluate(whole, evaluator.validate(whole, path))
        as_participant = evaluator.evaluate(offline, evaluator.validate(offline, path))
        assert (with_split.primary, with_split.metrics) == (without.primary, without.metrics)
        assert (as_participant.primary, as_participant.metrics, as_participant.splits) == (
            without.primary,
            without.metrics,
            {},
        )
        assert without.splits == {}
        assert set(with_split.splits) == {"public", "private"}
        for side in with_split.splits.values():
            assert math.isfinite(side.primary)
            assert set(side.metrics) == set(with_split.metrics)


def test_every_demo_task_has_the_demos_private_split_with_a_seed_of_its_own() -> None:
    configs = {spec.slug: (spec.config, spec.challenge_config()) for _, spec in _demo_tasks() if spec.private_split}

    seeds = set()
    for own, in_challenge in configs.values():
        assert not set(own) & set(SPLIT_KEYS), "the split is the challenge's, not the task's own config"
        assert in_challenge == {**own, PRIVATE_FRACTION_KEY: 0.5, SPLIT_SEED_KEY: in_challenge[SPLIT_SEED_KEY]}
        assert 2**32 <= in_challenge[SPLIT_SEED_KEY] < 2**63
        seeds.add(in_challenge[SPLIT_SEED_KEY])
    assert len(seeds) == len(configs)


def test_a_demo_task_goes_without_a_split_exactly_when_its_benchmark_refuses_one() -> None:
    for slug, spec in _demo_tasks():
        assert spec.private_split == (get_evaluator(slug).split_refusal is None), spec.slug
        if not spec.private_split:
            assert spec.challenge_config() == spec.config


@pytest.mark.parametrize(("slug", "spec"), _demo_tasks(), ids=[spec.slug for _, spec in _demo_tasks()])
def test_every_demo_tasks_full_data_admits_the_demos_split(slug: str, spec: DemoTask, tmp_path: Path) -> None:
    # The demo challenge's data (full size, seed 0): `check_task` finds nothing, or the bundle's import refuses it.
    evaluator = get_evaluator(slug)
    module = demo_module(evaluator)
    assert module is not None
    module.generate_task(tmp_path, config=spec.config, seed=0)

    config = evaluator.validate_config(spec.challenge_config())

    if spec.private_split:
        assert config[PRIVATE_FRACTION_KEY] == DEMO_PRIVATE_FRACTION
    assert evaluator.check_task(evaluator.load_task(tmp_path, config)) == []
