"""Task directories (task.yaml) and the per-process task cache."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, ClassVar

import pytest

from evaluators import EvaluationResult, Evaluator, MetricSpec, ProgressCallback, TaskConfigError, no_progress
from evaluators.taskdir import cached_task, clear_task_cache, load_task_dir


class CountingEvaluator(Evaluator[dict[str, Any], None]):
    """Counts `load_task` calls; loading takes a moment so that concurrent callers overlap."""

    slug: ClassVar[str] = "counting"
    title: ClassVar[str] = "Counting"
    version: ClassVar[str] = "1"
    submission_format: ClassVar[str] = "anything"

    def __init__(self, *, fail: bool = False) -> None:
        self.loads = 0
        self.fail = fail
        self.lock = threading.Lock()

    def validate_config(self, config: Mapping[str, Any]) -> dict[str, Any]:
        return dict(config)

    def primary_metric(self, config: Mapping[str, Any]) -> MetricSpec:
        return MetricSpec("score", "Score")

    def metric_specs(self, config: Mapping[str, Any]) -> list[MetricSpec]:
        return []

    def load_task(self, task_dir: Path, config: Mapping[str, Any]) -> dict[str, Any]:
        with self.lock:
            self.loads += 1
        time.sleep(0.05)
        if self.fail:
            raise TaskConfigError("broken data")
        return {"dir": task_dir, "config": dict(config)}

    def validate(self, task: dict[str, Any], submission_path: Path) -> None:
        return None

    def evaluate(
        self, task: dict[str, Any], parsed: None, report_progress: ProgressCallback = no_progress
    ) -> EvaluationResult:
        return EvaluationResult(primary=0.0, metrics={})


@pytest.fixture(autouse=True)
def empty_cache() -> Iterator[None]:
    clear_task_cache()
    yield
    clear_task_cache()


def _task_dir(tmp_path: Path, text: str) -> Path:
    (tmp_path / "task.yaml").write_text(text, encoding="utf-8")
    return tmp_path


def test_it_reads_the_benchmark_and_config(tmp_path: Path) -> None:
    directory = load_task_dir(
        _task_dir(tmp_path, "benchmark: selection-speech\nconfig: {language: en, train_size: 25}\n")
    )
    assert directory.slug == "selection-speech"
    assert directory.config == {"language": "en", "train_size": 25}
    assert directory.path == tmp_path


def test_a_missing_config_is_an_empty_config(tmp_path: Path) -> None:
    assert load_task_dir(_task_dir(tmp_path, "benchmark: selection-speech\n")).config == {}


def test_it_rejects_a_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(TaskConfigError, match="not a task directory"):
        load_task_dir(tmp_path / "nope")


def test_it_rejects_a_directory_without_task_yaml(tmp_path: Path) -> None:
    with pytest.raises(TaskConfigError, match=r"no task\.yaml"):
        load_task_dir(tmp_path)


def test_it_rejects_invalid_yaml(tmp_path: Path) -> None:
    with pytest.raises(TaskConfigError, match="not valid YAML"):
        load_task_dir(_task_dir(tmp_path, "benchmark: [unclosed\n"))


def test_it_rejects_a_document_that_is_not_a_mapping(tmp_path: Path) -> None:
    with pytest.raises(TaskConfigError, match="must be a mapping"):
        load_task_dir(_task_dir(tmp_path, "- selection-speech\n"))


def test_it_rejects_a_missing_benchmark(tmp_path: Path) -> None:
    with pytest.raises(TaskConfigError, match="'benchmark' must be"):
        load_task_dir(_task_dir(tmp_path, "config: {}\n"))


def test_it_rejects_an_unexpected_key(tmp_path: Path) -> None:
    with pytest.raises(TaskConfigError, match=r"unexpected key.*confg"):
        load_task_dir(_task_dir(tmp_path, "benchmark: selection-speech\nconfg: {train_size: 25}\n"))


def test_it_rejects_a_config_that_is_not_a_mapping(tmp_path: Path) -> None:
    with pytest.raises(TaskConfigError, match="'config' must be a mapping"):
        load_task_dir(_task_dir(tmp_path, "benchmark: selection-speech\nconfig: [1, 2]\n"))


def test_cached_task_loads_once_per_key(tmp_path: Path) -> None:
    evaluator = CountingEvaluator()
    first = cached_task(evaluator, tmp_path, {"a": 1}, key=("task", 1))
    second = cached_task(evaluator, tmp_path, {"a": 1}, key=("task", 1))
    assert first is second
    assert evaluator.loads == 1


def test_cached_task_loads_again_for_a_new_key(tmp_path: Path) -> None:
    evaluator = CountingEvaluator()
    first = cached_task(evaluator, tmp_path, {}, key=("task", 1))
    second = cached_task(evaluator, tmp_path, {}, key=("task", 2))
    assert first is not second
    assert evaluator.loads == 2


def test_cached_task_forgets_the_least_recently_used_task(tmp_path: Path) -> None:
    evaluator = CountingEvaluator()
    for version in range(5):
        cached_task(evaluator, tmp_path, {}, key=version)
    cached_task(evaluator, tmp_path, {}, key=4)
    assert evaluator.loads == 5
    cached_task(evaluator, tmp_path, {}, key=0)
    assert evaluator.loads == 6


def test_concurrent_callers_share_one_load(tmp_path: Path) -> None:
    evaluator = CountingEvaluator()
    results: list[object] = []
    threads = [
        threading.Thread(target=lambda: results.append(cached_task(evaluator, tmp_path, {}, key="k"))) for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert evaluator.loads == 1
    assert len({id(result) for result in results}) == 1


def test_a_failed_load_is_not_cached(tmp_path: Path) -> None:
    evaluator = CountingEvaluator(fail=True)
    for _ in range(2):
        with pytest.raises(TaskConfigError):
            cached_task(evaluator, tmp_path, {}, key="k")
    assert evaluator.loads == 2
