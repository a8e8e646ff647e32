"""Task directories (`task.yaml` + data files) and the per-process cache of loaded tasks.

A task directory holds `task.yaml`, `{benchmark: <slug>, config: {...}}`, next to the data files in their
original DataPerf formats. The platform and the offline CLI read it the same way.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar, cast

import yaml

from evaluators.base import Evaluator, TaskConfigError

TASK_FILE = "task.yaml"
_TASK_KEYS = frozenset({"benchmark", "config"})
_MAX_TASK_FILE_BYTES = 1_000_000

TaskT = TypeVar("TaskT")


@dataclass(frozen=True)
class TaskDirectory:
    """A parsed `task.yaml`: the benchmark slug, its raw (not yet validated) config and the directory."""

    slug: str
    config: dict[str, Any]
    path: Path


def _read_task_yaml(task_file: Path) -> object:
    try:
        if task_file.stat().st_size > _MAX_TASK_FILE_BYTES:
            raise TaskConfigError(f"{task_file}: larger than {_MAX_TASK_FILE_BYTES} bytes")
        text = task_file.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise TaskConfigError(f"{task_file.parent}: no {TASK_FILE} in the task directory") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise TaskConfigError(f"{task_file}: cannot be read: {exc}") from exc
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise TaskConfigError(f"{task_file}: not valid YAML: {exc}") from exc


def load_task_dir(path: Path | str) -> TaskDirectory:
    """Read `<path>/task.yaml`; raise `TaskConfigError` naming the file and the fault.

    `config` may be omitted (an empty config); any other top-level key is an error, so that a typo such as
    `confg:` does not silently drop the configuration.
    """
    directory = Path(path)
    if not directory.is_dir():
        raise TaskConfigError(f"{directory}: not a task directory (no such directory)")
    task_file = directory / TASK_FILE
    document = _read_task_yaml(task_file)
    if not isinstance(document, dict):
        raise TaskConfigError(f"{task_file}: must be a mapping with the keys 'benchmark' and 'config'")
    unexpected = sorted(str(key) for key in document if key not in _TASK_KEYS)
    if unexpected:
        raise TaskConfigError(f"{task_file}: unexpected key(s) {', '.join(unexpected)}; allowed: benchmark, config")
    slug = document.get("benchmark")
    if not isinstance(slug, str) or not slug:
        raise TaskConfigError(f"{task_file}: 'benchmark' must be a benchmark slug (a non-empty string)")
    config = document.get("config")
    if config is None:
        config = {}
    if not isinstance(config, dict):
        raise TaskConfigError(f"{task_file}: 'config' must be a mapping, got {type(config).__name__}")
    return TaskDirectory(slug=slug, config=dict(config), path=directory)


class _TaskCache:
    """A small LRU of loaded task objects with one loader at a time per key.

    Loading a task can take seconds (parquet files), so it happens outside the cache lock; a per-key lock
    makes concurrent callers of the same key wait for one load instead of loading twice.
    """

    def __init__(self, max_entries: int) -> None:
        self.max_entries = max_entries
        self._tasks: OrderedDict[Hashable, object] = OrderedDict()
        self._loading: dict[Hashable, threading.Lock] = {}
        self._lock = threading.Lock()

    def _lookup(self, key: Hashable) -> tuple[bool, object]:
        with self._lock:
            if key in self._tasks:
                self._tasks.move_to_end(key)
                return True, self._tasks[key]
            return False, None

    def get_or_load(self, key: Hashable, load: Callable[[], object]) -> object:
        found, task = self._lookup(key)
        if found:
            return task
        with self._lock:
            key_lock = self._loading.setdefault(key, threading.Lock())
        with key_lock:
            found, task = self._lookup(key)
            if found:
                return task
            try:
                task = load()
                self._store(key, task)
            finally:
                # Stored before the key lock goes, so a late caller finds the task instead of reloading it.
                with self._lock:
                    self._loading.pop(key, None)
        return task

    def _store(self, key: Hashable, task: object) -> None:
        with self._lock:
            self._tasks[key] = task
            self._tasks.move_to_end(key)
            while len(self._tasks) > self.max_entries:
                self._tasks.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._tasks.clear()


_CACHE = _TaskCache(max_entries=4)


def cached_task(evaluator: Evaluator[TaskT, Any], task_dir: Path, config: Mapping[str, Any], key: Hashable) -> TaskT:
    """`evaluator.load_task(task_dir, config)`, loaded once per process for a given `key`.

    `key` must change whenever the data or the config change, e.g. `(task_id, data_version)`; it is
    combined with the evaluator's slug and version. The cache keeps the few most recently used tasks. The
    returned object is shared: callers must not mutate it.
    """
    full_key = (evaluator.slug, evaluator.version, key)
    task = _CACHE.get_or_load(full_key, lambda: evaluator.load_task(task_dir, config))
    return cast(TaskT, task)


def clear_task_cache() -> None:
    """Forget every cached task (after a data upload, or between tests)."""
    _CACHE.clear()
