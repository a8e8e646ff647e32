"""The bridge from a Task to its evaluator: the evaluator object and the task data, loaded once per process."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from apps.challenges.models import Task
from evaluators import Evaluator, MetricSpec, get_evaluator
from evaluators.taskdir import cached_task


def task_evaluator(task: Task) -> Evaluator[Any, Any]:
    return get_evaluator(task.evaluator_slug)


def task_loaded(task: Task) -> tuple[Evaluator[Any, Any], Any]:
    """The evaluator and its loaded task data. Cached per process by (task id, data version): a worker loads
    each task once, and an organizer's data change (which bumps `data_version`) is picked up on the next use."""
    evaluator = task_evaluator(task)
    loaded = cached_task(evaluator, task.data_dir, task.config, key=(task.pk, task.data_version))
    return evaluator, loaded


def task_concealed_loaded(task: Task) -> tuple[Evaluator[Any, Any], Any]:
    """The evaluator and the loaded concealed task (every file of it, hidden ones included: for the evaluator,
    outside the sandbox). Cached like `task_loaded`. Only for a task with a concealed configuration."""
    if task.concealed_config is None:
        raise ValueError(f"task {task.pk} has no concealed task")
    evaluator = task_evaluator(task)
    key = (task.pk, task.data_version, "concealed")
    return evaluator, cached_task(evaluator, task.concealed_dir, task.concealed_config, key=key)


def task_primary_metric(task: Task) -> MetricSpec:
    return task_evaluator(task).primary_metric(task.config)


def task_metric_specs(task: Task) -> list[MetricSpec]:
    return task_evaluator(task).metric_specs(task.config)


def task_format_notes(task: Task) -> str:
    """The README.md of the task's evaluator folder (formats, rules, metrics), or "" when there is none."""
    module = sys.modules[type(task_evaluator(task)).__module__]
    readme = Path(module.__file__ or "").parent / "README.md"
    return readme.read_text(encoding="utf-8") if readme.is_file() else ""
