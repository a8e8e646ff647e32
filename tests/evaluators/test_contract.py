"""The contract every registered evaluator must honour.

Class-level rules run against every registered evaluator (built-ins, entry points, host-configured plug-ins);
rules that need data run against every reference task under tests/fixtures/reference_cases, and every
built-in evaluator must have one.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import Any

import pytest

from evaluators import Evaluator, SubmissionError, TaskConfigError, available_slugs, get_evaluator
from evaluators.registry import BUILTIN_EVALUATORS
from evaluators.taskdir import TaskDirectory, load_task_dir

REPO_ROOT = Path(__file__).resolve().parents[2]
FIXTURE_CASES = REPO_ROOT / "tests" / "fixtures" / "reference_cases"
SLUGS = available_slugs()
REFERENCE_TASKS = [path.parent for path in sorted(FIXTURE_CASES.glob("*/*/task/task.yaml")) if path.parts[-4] in SLUGS]


def _task_id(task_dir: Path) -> str:
    return f"{task_dir.parent.parent.name}/{task_dir.parent.name}"


@pytest.fixture(params=REFERENCE_TASKS, ids=[_task_id(path) for path in REFERENCE_TASKS])
def reference_task_dir(request: pytest.FixtureRequest) -> TaskDirectory:
    task_dir: Path = request.param
    return load_task_dir(task_dir)


def _loaded(directory: TaskDirectory) -> tuple[Evaluator[Any, Any], Any]:
    evaluator = get_evaluator(directory.slug)
    return evaluator, evaluator.load_task(directory.path, evaluator.validate_config(directory.config))


@pytest.mark.parametrize("slug", sorted(BUILTIN_EVALUATORS))
def test_every_builtin_evaluator_has_a_reference_case(slug: str) -> None:
    assert list(FIXTURE_CASES.glob(f"{slug}/*/task/task.yaml")), f"add a case under {FIXTURE_CASES / slug}"


@pytest.mark.parametrize("slug", SLUGS)
def test_the_slug_and_descriptions_are_set(slug: str) -> None:
    evaluator = get_evaluator(slug)
    assert isinstance(evaluator, Evaluator)
    assert evaluator.slug == slug
    for text in (evaluator.title, evaluator.version, evaluator.submission_format):
        assert isinstance(text, str)
        assert text.strip()


@pytest.mark.parametrize("slug", SLUGS)
@pytest.mark.parametrize("junk", [{"no_such_option": 1}, {"no_such_option": object()}], ids=["int", "object"])
def test_validate_config_rejects_junk(slug: str, junk: dict[str, Any]) -> None:
    with pytest.raises(TaskConfigError):
        get_evaluator(slug).validate_config(junk)


@pytest.mark.parametrize("slug", SLUGS)
def test_the_data_files_are_declared_with_a_hidden_rule(slug: str) -> None:
    rules = get_evaluator(slug).data_files
    assert rules
    assert any(rule.hidden for rule in rules), "the ground truth must be hidden"
    for rule in rules:
        pattern = PurePosixPath(rule.pattern)
        assert not pattern.is_absolute()
        assert ".." not in pattern.parts
        assert rule.description.strip()


def test_the_reference_task_has_a_file_for_every_required_rule(reference_task_dir: TaskDirectory) -> None:
    for rule in get_evaluator(reference_task_dir.slug).data_files:
        if rule.required:
            assert list(reference_task_dir.path.glob(rule.pattern)), rule.pattern


def test_the_metric_specs_are_consistent(reference_task_dir: TaskDirectory) -> None:
    evaluator = get_evaluator(reference_task_dir.slug)
    config = evaluator.validate_config(reference_task_dir.config)
    assert evaluator.validate_config(config) == config
    primary = evaluator.primary_metric(config)
    specs = evaluator.metric_specs(config)
    names = [spec.name for spec in specs]
    assert primary.name
    assert primary.name not in names
    assert len(names) == len(set(names))
    for spec in [primary, *specs]:
        assert spec.label.strip()
        assert spec.display_scale > 0


@pytest.mark.parametrize(
    "content",
    [b"", b"\xff\xfe\x00garbage", b"[" * 100_000, b"{}"],
    ids=["empty", "binary", "deep", "empty-object"],
)
def test_validate_turns_garbage_into_a_submission_error(
    reference_task_dir: TaskDirectory, content: bytes, tmp_path: Path
) -> None:
    evaluator, task = _loaded(reference_task_dir)
    garbage = tmp_path / "garbage"
    garbage.write_bytes(content)
    with pytest.raises(SubmissionError):
        evaluator.validate(task, garbage)


def test_validate_rejects_a_missing_submission(reference_task_dir: TaskDirectory, tmp_path: Path) -> None:
    evaluator, task = _loaded(reference_task_dir)
    with pytest.raises(SubmissionError):
        evaluator.validate(task, tmp_path / "does-not-exist")
