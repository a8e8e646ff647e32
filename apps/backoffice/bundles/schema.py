"""The manifest of a bundle, `bundle.yaml`: which keys it holds and their types, reading them with every fault
named by its place ("tasks[2].config: ..."), and writing a row's values back out.

The keys are the challenge's, the divisions' and the tasks' *configuration*: what an organizer sets. Bookkeeping
(ids, timestamps, data versions, collective-rescoring counters) and everything about people (organizers,
participants, teams, submissions, scores) stays out. `tests/apps/backoffice/test_bundles.py` fails when a model
gains a column that is neither here nor declared bookkeeping, so that a new setting is never silently dropped.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db.models import Model

FORMAT = 1
MANIFEST = "bundle.yaml"
TASKS_DIR = "tasks"
"""A task's data file `p` is the archive member `tasks/<task slug>/<p>`."""
TOP_KEYS = ("format", "challenge", "divisions", "tasks")


@dataclass(frozen=True)
class Key:
    """One key of a manifest mapping: its name (the model field's), its kind and whether it must be given.
    A missing optional key takes the model field's default."""

    name: str
    kind: str
    required: bool = False
    nullable: bool = False


CHALLENGE_KEYS: tuple[Key, ...] = (
    Key("slug", "str", required=True),
    Key("title", "str", required=True),
    Key("summary", "str"),
    Key("description", "str"),
    Key("rules", "str"),
    Key("starts_at", "datetime", required=True),
    Key("ends_at", "datetime", required=True),
    Key("visibility", "str"),
    Key("registration", "str"),
    Key("max_team_size", "int", nullable=True),
    Key("allowed_email_domains", "str"),
    Key("blocked_email_domains", "str"),
    Key("time_zone", "str"),
)
DIVISION_KEYS: tuple[Key, ...] = (
    Key("slug", "str", required=True),
    Key("kind", "str", required=True),
    Key("name", "str", required=True),
    Key("description", "str"),
    Key("order", "int"),
)
DIVISION_TASKS = "tasks"
"""A division's list of task slugs; empty (or absent) means every task, as in the model."""
TASK_KEYS: tuple[Key, ...] = (
    Key("slug", "str", required=True),
    Key("title", "str", required=True),
    Key("description", "str"),
    Key("order", "int"),
    Key("evaluator_slug", "str", required=True),
    Key("ml_task", "str", required=True),
    Key("config", "object"),
    Key("is_published", "bool"),
    Key("quota_per_day", "int", nullable=True),
    Key("quota_window", "str"),
    Key("quota_total", "int", nullable=True),
    Key("quota_concurrent", "int", nullable=True),
    Key("quota_counts_rejected", "bool"),
    Key("quota_counts_failed", "bool"),
    Key("max_upload_bytes", "int"),
    Key("ranking_rule", "str"),
    Key("final_selections", "int"),
    Key("concealed_config", "object", nullable=True),
    Key("concealed_visibility", "str"),
    Key("sandbox_cpu_seconds", "int", nullable=True),
    Key("sandbox_wall_seconds", "int", nullable=True),
    Key("sandbox_memory_mb", "int", nullable=True),
    Key("sandbox_processes", "int", nullable=True),
    Key("sandbox_output_mb", "int", nullable=True),
)
TASK_WEIGHT = "weight"
"""The task's weight on the challenge leaderboard (`TaskWeight`; 1 when absent)."""
TASK_FILES = "files"
FILE_KEYS: tuple[Key, ...] = (
    Key("path", "str", required=True),
    Key("role", "str", required=True),
    Key("sha256", "str", required=True),
    Key("size", "int", required=True),
)


class Problems:
    """The faults found in a bundle, in the order of the manifest, each as "<where>: <what>"."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, where: str, message: str) -> None:
        self.items.append(f"{where}: {message}")

    def __len__(self) -> int:
        return len(self.items)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return math.isfinite(value)


def _is_json_object(value: object) -> bool:
    if not isinstance(value, dict):
        return False
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError):
        return False
    return True


_KINDS: dict[str, tuple[Callable[[object], bool], str]] = {
    "str": (lambda value: isinstance(value, str), "must be text"),
    "int": (_is_int, "must be a whole number"),
    "bool": (lambda value: isinstance(value, bool), "must be true or false"),
    "float": (_is_number, "must be a number"),
    "object": (_is_json_object, "must be a mapping of JSON values (text keys; text, numbers, lists, mappings)"),
}
_DATETIME_HINT = "must be a date and time in ISO 8601 with a UTC offset, e.g. '2025-03-01T00:00:00+00:00'"


def parse_datetime(value: object) -> dt.datetime | None:
    """An aware datetime from an ISO 8601 string (or one YAML already parsed), or None when it is not one."""
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            return None
    if isinstance(value, dt.datetime) and value.tzinfo is not None and value.utcoffset() is not None:
        return value
    return None


def _checked(value: object, key: Key) -> tuple[object, str | None]:
    """The value to keep (datetimes parsed) and the fault, if any."""
    if value is None:
        return None, None if key.nullable else "must not be empty (null)"
    if key.kind == "datetime":
        moment = parse_datetime(value)
        return moment, None if moment is not None else f"{_DATETIME_HINT}, got {value!r}"
    accepts, rule = _KINDS[key.kind]
    return value, None if accepts(value) else f"{rule}, got {_shown(value)}"


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def read_mapping(
    raw: object, keys: Sequence[Key], where: str, problems: Problems, *, extra: Iterable[str] = ()
) -> dict[str, Any] | None:
    """The values of `keys` in `raw` that have the right type; every fault is added to `problems` (a missing
    required key, an unknown key, a wrong type). None when `raw` is not a mapping at all. `extra` names keys
    the caller reads itself."""
    if not isinstance(raw, dict):
        problems.add(where, f"must be a mapping with the keys {', '.join(key.name for key in keys)}")
        return None
    allowed = {key.name for key in keys} | set(extra)
    unknown = sorted(str(name) for name in raw if name not in allowed)
    if unknown:
        problems.add(where, f"unknown key(s) {', '.join(unknown)} (allowed: {', '.join(sorted(allowed))})")
    values: dict[str, Any] = {}
    for key in keys:
        if key.name not in raw:
            if key.required:
                problems.add(f"{where}.{key.name}", "required")
            continue
        value, fault = _checked(raw[key.name], key)
        if fault is None:
            values[key.name] = value
        else:
            problems.add(f"{where}.{key.name}", fault)
    return values


def model_problems(instance: Model, where: str, checked: Iterable[str], problems: Problems) -> None:
    """Run the model's own field validation (choices, lengths, slugs, validators such as the time zone's) over
    the fields in `checked`, adding each fault as "<where>.<field>: <message>"."""
    names = set(checked)
    exclude = [field.name for field in instance._meta.get_fields() if field.name not in names]
    try:
        instance.full_clean(exclude=exclude, validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            for message in messages:
                problems.add(where if field == NON_FIELD_ERRORS else f"{where}.{field}", message)


def dump_fields(instance: Model, keys: Sequence[Key]) -> dict[str, Any]:
    """The row's values of `keys`, as plain YAML data (datetimes as ISO 8601 text with their offset)."""
    return {key.name: plain(getattr(instance, key.name)) for key in keys}


def plain_mapping(mapping: Mapping[str, Any]) -> dict[str, Any]:
    """`plain` of each value of the mapping."""
    return {str(name): plain(item) for name, item in mapping.items()}


def plain(value: object) -> object:
    """`value` as plain YAML data: datetimes as ISO 8601 text with their offset, choices as their values, tuples
    as lists."""
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, enum.Enum):  # TextChoices members are str subclasses YAML's safe dumper refuses
        return plain(value.value)
    if isinstance(value, Mapping):
        return {str(name): plain(item) for name, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    return value
