"""The contract every registered evaluator must honour, checked against each one."""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import Any

import pytest

from evaluators import Evaluator, SubmissionError, TaskConfigError, available_slugs, get_evaluator
from evaluators.taskdir import load_task_dir

REPO_ROOT = Path(__file__).resolve().parents[2]
FIXTURE_CASES = REPO_ROOT / "tests" / "fixtures" / "reference_cases"
SLUGS = available_slugs()


def _reference_task_dir(slug: str) -> Path:
    task_files = sorted(FIXTURE_CASES.glob(f"{slug}/*/task/task.yaml"))
    assert task_files, f"every evaluator needs a reference case under {FIXTURE_CASES}/{slug}/"
    return task_files[0].parent


def _config(slug: str) -> dict[str, Any]:
    return get_evaluator(slug).validate_config(load_task_dir(_reference_task_dir(slug)).config)


def test_there_is_at_least_one_evaluator() -> None:
    assert "selection-speech" in SLUGS


@pytest.mark.parametrize("slug", SLUGS)
def test_the_slug_and_descriptions_are_set(slug: str) -> None:
    evaluator = get_evaluator(slug)
    assert evaluator.slug == slug
    assert isinstance(evaluator, Evaluator)
    for text in (evaluator.title, evaluator.version, evaluator.submission_format):
        assert isinstance(text, str)
        assert text.strip()


@pytest.mark.parametrize("slug", SLUGS)
def test_the_reference_task_declares_this_benchmark(slug: str) -> None:
    assert load_task_dir(_reference_task_dir(slug)).slug == slug


@pytest.mark.parametrize("slug", SLUGS)
def test_the_metric_specs_are_consistent(slug: str) -> None:
    evaluator = get_evaluator(slug)
    config = _config(slug)
    primary = evaluator.primary_metric(config)
    names = [spec.name for spec in evaluator.metric_specs(config)]
    assert primary.name
    assert primary.name not in names
    assert len(names) == len(set(names))
    for spec in [primary, *evaluator.metric_specs(config)]:
        assert spec.label.strip()
        assert spec.display_scale > 0


@pytest.mark.parametrize("slug", SLUGS)
def test_validate_config_is_idempotent(slug: str) -> None:
    evaluator = get_evaluator(slug)
    config = _config(slug)
    assert evaluator.validate_config(config) == config


@pytest.mark.parametrize("slug", SLUGS)
@pytest.mark.parametrize("junk", [{"no_such_option": 1}, {"language": object()}, {}], ids=["key", "value", "empty"])
def test_validate_config_rejects_junk(slug: str, junk: dict[str, Any]) -> None:
    with pytest.raises(TaskConfigError):
        get_evaluator(slug).validate_config(junk)


@pytest.mark.parametrize("slug", SLUGS)
def test_the_data_files_are_declared_with_public_and_hidden_rules(slug: str) -> None:
    rules = get_evaluator(slug).data_files
    assert rules
    assert any(rule.hidden for rule in rules), "the ground truth must be hidden"
    for rule in rules:
        pattern = PurePosixPath(rule.pattern)
        assert not pattern.is_absolute()
        assert ".." not in pattern.parts
        assert rule.description.strip()


@pytest.mark.parametrize("slug", SLUGS)
def test_the_reference_task_has_a_file_for_every_required_rule(slug: str) -> None:
    task_dir = _reference_task_dir(slug)
    for rule in get_evaluator(slug).data_files:
        if rule.required:
            assert list(task_dir.glob(rule.pattern)), rule.pattern


@pytest.mark.parametrize("slug", SLUGS)
@pytest.mark.parametrize(
    "content", [b"", b"\xff\xfe\x00garbage", b"[" * 100_000, b"{}"], ids=["empty", "binary", "deep", "empty-object"]
)
def test_validate_turns_garbage_into_a_submission_error(slug: str, content: bytes, tmp_path: Path) -> None:
    evaluator = get_evaluator(slug)
    task = evaluator.load_task(_reference_task_dir(slug), _config(slug))
    garbage = tmp_path / "garbage"
    garbage.write_bytes(content)
    with pytest.raises(SubmissionError):
        evaluator.validate(task, garbage)


@pytest.mark.parametrize("slug", SLUGS)
def test_validate_rejects_a_missing_submission(slug: str, tmp_path: Path) -> None:
    evaluator = get_evaluator(slug)
    task = evaluator.load_task(_reference_task_dir(slug), _config(slug))
    with pytest.raises(SubmissionError):
        evaluator.validate(task, tmp_path / "does-not-exist")
