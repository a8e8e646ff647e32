"""Checking a bundle before anything is created: unpacked safely, its manifest read key by key, every file's
presence, size, sha256 and role checked, every task's configuration and data loaded by its evaluator as a worker
would. All faults are collected and raised together (`InvalidBundle`), each named by its place in the manifest
("tasks[2].config: ...", 0-based indexes)."""

from __future__ import annotations

import hashlib
import re
import tempfile
import zipfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import yaml
from django.core.exceptions import ValidationError

from apps.backoffice.bundles.schema import (
    CHALLENGE_KEYS,
    DIVISION_KEYS,
    DIVISION_TASKS,
    FILE_KEYS,
    FORMAT,
    MANIFEST,
    TASK_FILES,
    TASK_KEYS,
    TASK_WEIGHT,
    TASKS_DIR,
    TOP_KEYS,
    Key,
    Problems,
    model_problems,
    read_mapping,
)
from apps.challenges.models import CONCEALED_DIR, Challenge, Task, TaskDataFile
from apps.challenges.services import clean_relative_path, data_file_required_role, task_config_validate, task_dir_check
from apps.core.archives import ArchiveLimits, unpack_archive
from apps.core.errors import InvalidInput
from apps.core.files import CHUNK, human_size
from apps.divisions.models import Division
from apps.leaderboards.models import TaskWeight
from evaluators import available_slugs

BUNDLE_LIMITS = ArchiveLimits(max_files=50_000, max_bytes=50 * 1024**3)
MAX_MANIFEST_BYTES = 20 * 1024 * 1024
MAX_LISTED_PROBLEMS = 50
_SLUG = re.compile(r"^[-a-zA-Z0-9_]+$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


class InvalidBundle(InvalidInput):
    """The bundle cannot be imported. `problems` lists every fault found, each as "<where>: <what>"."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        listed = self.problems[:MAX_LISTED_PROBLEMS]
        more = len(self.problems) - len(listed)
        text = "\n".join(f"- {problem}" for problem in listed) + (f"\n- ... and {more} more" if more else "")
        super().__init__(f"The bundle is not valid ({len(self.problems)} problem(s)):\n{text}")


@dataclass(frozen=True)
class FilePlan:
    path: str
    role: str
    sha256: str
    size: int


@dataclass(frozen=True)
class TaskPlan:
    slug: str
    fields: dict[str, Any]
    """The task's columns (`TASK_KEYS` given in the bundle), with the configurations as the evaluator
    normalised them."""
    weight: float
    files: tuple[FilePlan, ...]


@dataclass(frozen=True)
class DivisionPlan:
    slug: str
    fields: dict[str, Any]
    task_slugs: tuple[str, ...]


@dataclass(frozen=True)
class BundlePlan:
    """A checked bundle: what an import creates. `challenge` holds the challenge's columns, slug included (the
    new slug when one was given)."""

    challenge: dict[str, Any]
    divisions: tuple[DivisionPlan, ...]
    tasks: tuple[TaskPlan, ...]

    @property
    def slug(self) -> str:
        return str(self.challenge["slug"])

    @property
    def file_count(self) -> int:
        return sum(len(task.files) for task in self.tasks)

    @property
    def total_bytes(self) -> int:
        return sum(file.size for task in self.tasks for file in task.files)

    def summary(self) -> str:
        return (
            f"{len(self.tasks)} task(s), {len(self.divisions)} division(s), {self.file_count} data file(s) "
            f"({human_size(self.total_bytes)})"
        )


@contextmanager
def unpacked_bundle(archive: Path) -> Iterator[tuple[Path, list[str]]]:
    """Unpack the bundle safely into a temporary folder (removed afterwards): yields the folder holding
    bundle.yaml and the member paths relative to it. A single folder wrapping everything is the root
    (`unpack_archive`: a bundle unpacked and zipped again). Raises `InvalidBundle` for an unsafe or unreadable
    archive."""
    if not archive.is_file():
        raise InvalidBundle([f"the archive: {archive.name} is not a file"])
    with tempfile.TemporaryDirectory(prefix="bundle-") as tmp:
        target = Path(tmp) / "bundle"
        try:
            unpacked = unpack_archive(archive, target, BUNDLE_LIMITS)
        except InvalidInput as exc:
            raise InvalidBundle([f"the archive: {exc.message}"]) from exc
        yield unpacked.root, unpacked.names


def bundle_manifest_read(*, archive: Path) -> dict[str, Any]:
    """The parsed bundle.yaml of a bundle, read without unpacking the rest and without checking it (to look at
    a bundle, e.g. its dates; `challenge_bundle_validate` checks it). Raises `InvalidBundle` when the archive is
    not a zip or holds no readable bundle.yaml at its root."""
    try:
        with zipfile.ZipFile(archive) as opened:
            info = opened.getinfo(MANIFEST)
            if info.file_size > MAX_MANIFEST_BYTES:
                raise InvalidBundle([f"{MANIFEST}: larger than {human_size(MAX_MANIFEST_BYTES)}"])
            text = opened.read(info).decode("utf-8")
        document = yaml.load(text, Loader=_NoAliasLoader)  # noqa: S506  # a safe loader
    except (OSError, KeyError, zipfile.BadZipFile, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise InvalidBundle([f"{MANIFEST}: cannot be read from {archive.name}: {exc}"]) from exc
    if not isinstance(document, dict):
        raise InvalidBundle([f"{MANIFEST}: must be a mapping with the keys {', '.join(TOP_KEYS)}"])
    return document


def challenge_bundle_validate(*, archive: Path, slug: str | None = None) -> BundlePlan:
    """Check a bundle without creating anything and return what importing it would create.

    `slug` is the new slug to import the challenge under (else the bundle's, which must then be free). Raises
    `InvalidBundle` (an `InvalidInput`) listing every problem: an unsafe archive, a missing or malformed
    bundle.yaml, an unsupported format, missing or mistyped keys, bad slugs, duplicates, unknown benchmarks,
    configurations the evaluator refuses, divisions naming unknown tasks, files missing or differing from their
    declared sha256 and size, a hidden file marked public, undeclared files, dates out of order, and data the
    evaluator cannot load or score.
    """
    with unpacked_bundle(archive) as (root, names):
        return validate_unpacked(root=root, names=names, slug=slug)


def validate_unpacked(*, root: Path, names: Sequence[str], slug: str | None) -> BundlePlan:
    """`challenge_bundle_validate` of an unpacked bundle (see `unpacked_bundle`)."""
    document = _read_manifest(root, names)
    problems = Problems()
    challenge = _challenge_fields(document.get("challenge"), slug, problems)
    tasks = _task_plans(document.get("tasks"), root, problems)
    divisions = _division_plans(document.get("divisions"), [task.slug for task in tasks], problems)
    for name in sorted(set(names) - _listed_members(document)):
        problems.add(name, f"is in the archive but not listed in {MANIFEST}")
    if problems or challenge is None:
        raise InvalidBundle(problems.items)
    return BundlePlan(challenge=challenge, divisions=tuple(divisions), tasks=tuple(tasks))


def _listed_members(document: dict[str, Any]) -> set[str]:
    """Every archive member the manifest names, whether or not its entry passed the checks (a faulty entry is
    reported as such; calling its file unlisted too would mislead)."""
    listed = {MANIFEST}
    tasks = document.get("tasks")
    for task in tasks if isinstance(tasks, list) else []:
        files = task.get(TASK_FILES) if isinstance(task, dict) else None
        for entry in files if isinstance(files, list) else []:
            if isinstance(entry, dict) and isinstance(entry.get("path"), str):
                listed.add(f"{TASKS_DIR}/{task.get('slug')}/{entry['path']}")
    return listed


class _NoAliasLoader(yaml.SafeLoader):
    """YAML without anchors and aliases: a few lines of aliases can expand to gigabytes once walked."""

    def compose_node(self, parent: yaml.Node | None, index: object) -> yaml.Node | None:
        if self.check_event(yaml.AliasEvent):
            raise yaml.composer.ComposerError(problem="aliases (*name) are not allowed")
        return super().compose_node(parent, index)  # type: ignore[arg-type]  # the stubs type index loosely


def _read_manifest(root: Path, names: Sequence[str]) -> dict[str, Any]:
    """The parsed bundle.yaml of a supported format; `InvalidBundle` at once otherwise (nothing else can be
    checked without it)."""
    path = root / MANIFEST
    if MANIFEST not in names or not path.is_file():
        raise InvalidBundle([f"{MANIFEST}: missing at the root of the archive (is this a challenge bundle?)"])
    if path.stat().st_size > MAX_MANIFEST_BYTES:
        raise InvalidBundle([f"{MANIFEST}: larger than {human_size(MAX_MANIFEST_BYTES)}"])
    try:
        document = yaml.load(path.read_text(encoding="utf-8"), Loader=_NoAliasLoader)  # noqa: S506  # a safe loader
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise InvalidBundle([f"{MANIFEST}: not valid YAML: {exc}"]) from exc
    if not isinstance(document, dict):
        raise InvalidBundle([f"{MANIFEST}: must be a mapping with the keys {', '.join(TOP_KEYS)}"])
    version = document.get("format")
    if version is None:
        raise InvalidBundle([f"format: required (this platform reads bundles of format {FORMAT})"])
    if version != FORMAT:
        raise InvalidBundle([f"format: unsupported bundle format {version!r}; this platform reads format {FORMAT}"])
    unknown = sorted(str(key) for key in document if key not in TOP_KEYS)
    if unknown:
        raise InvalidBundle([f"{MANIFEST}: unknown key(s) {', '.join(unknown)} (allowed: {', '.join(TOP_KEYS)})"])
    return document


def _given(keys: Sequence[Key], values: dict[str, Any]) -> list[str]:
    return [key.name for key in keys if key.name in values]


def _challenge_fields(raw: object, slug: str | None, problems: Problems) -> dict[str, Any] | None:
    if raw is None:
        problems.add("challenge", "required")
        return None
    values = read_mapping(raw, CHALLENGE_KEYS, "challenge", problems)
    if values is None:
        return None
    where, checked = "challenge.slug", _given(CHALLENGE_KEYS, values)
    if slug is not None:
        where, checked = "slug", [name for name in checked if name != "slug"]
        values["slug"] = slug
        try:
            Challenge._meta.get_field("slug").run_validators(slug)
        except ValidationError as exc:
            problems.add("slug", " ".join(exc.messages))
    model_problems(Challenge(**values), "challenge", checked, problems)
    starts, ends = values.get("starts_at"), values.get("ends_at")
    if starts is not None and ends is not None and ends <= starts:
        problems.add("challenge.ends_at", f"must be after starts_at ({starts.isoformat()})")
    if "slug" in values and Challenge.objects.filter(slug=values["slug"]).exists():
        problems.add(
            where, f"a challenge with the slug {values['slug']!r} exists already; import this one under a new slug"
        )
    return values


def _listed(raw: object, where: str, problems: Problems) -> list[Any]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        problems.add(where, "must be a list")
        return []
    return raw


def _task_plans(raw: object, root: Path, problems: Problems) -> list[TaskPlan]:
    plans: list[TaskPlan] = []
    first: dict[str, int] = {}
    for index, item in enumerate(_listed(raw, "tasks", problems)):
        plan = _task_plan(item, f"tasks[{index}]", root, problems)
        if plan is None:
            continue
        if plan.slug in first:
            problems.add(f"tasks[{index}].slug", f"{plan.slug!r} is the slug of tasks[{first[plan.slug]}] too")
            continue
        first[plan.slug] = index
        plans.append(plan)
    return plans


def _task_plan(raw: object, where: str, root: Path, problems: Problems) -> TaskPlan | None:
    before = len(problems)
    values = read_mapping(raw, TASK_KEYS, where, problems, extra=(TASK_WEIGHT, TASK_FILES))
    if values is None or not isinstance(raw, dict):
        return None
    model_problems(Task(**values), where, _given(TASK_KEYS, values), problems)
    evaluator = _known_evaluator(values, where, problems)
    if evaluator is not None:
        _normalise_configs(values, evaluator, where, problems)
    weight = _weight(raw.get(TASK_WEIGHT, TaskWeight.DEFAULT), f"{where}.{TASK_WEIGHT}", problems)
    slug = values.get("slug")
    if not isinstance(slug, str) or not _SLUG.match(slug):
        return None  # reported by the model's checks; without a slug its files cannot be found
    folder = root / TASKS_DIR / slug
    files = _file_plans(raw.get(TASK_FILES), f"{where}.{TASK_FILES}", evaluator, folder, problems)
    if len(problems) == before and evaluator is not None:
        for problem in _data_problems(evaluator, folder, values, [file.path for file in files]):
            problems.add(f"{where} ({slug})", problem)
    return TaskPlan(slug=slug, fields=values, weight=weight, files=tuple(files))


def _known_evaluator(values: dict[str, Any], where: str, problems: Problems) -> str | None:
    slug = values.get("evaluator_slug")
    if slug is None:
        return None
    known = available_slugs()
    if slug not in known:
        problems.add(f"{where}.evaluator_slug", f"unknown benchmark {slug!r} (this platform has: {', '.join(known)})")
        return None
    return str(slug)


def _normalise_configs(values: dict[str, Any], evaluator: str, where: str, problems: Problems) -> None:
    for name in ("config", "concealed_config"):
        if values.get(name) is None:
            continue
        try:
            values[name] = task_config_validate(
                evaluator_slug=evaluator, config=values[name], concealed=name == "concealed_config"
            )
        except InvalidInput as exc:
            problems.add(f"{where}.{name}", exc.message)


def _weight(raw: object, where: str, problems: Problems) -> float:
    if isinstance(raw, bool) or not isinstance(raw, int | float) or raw != raw:
        problems.add(where, f"must be a number, got {raw!r}")
        return TaskWeight.DEFAULT
    if raw < 0:
        problems.add(where, f"must be at least 0 (0 leaves the task off the challenge leaderboard), got {raw}")
    return float(raw)


def _file_plans(raw: object, where: str, evaluator: str | None, folder: Path, problems: Problems) -> list[FilePlan]:
    plans: list[FilePlan] = []
    seen: set[str] = set()
    for index, item in enumerate(_listed(raw, where, problems)):
        values = read_mapping(item, FILE_KEYS, f"{where}[{index}]", problems)
        if values is None or len(values) < len(FILE_KEYS):
            continue
        plan = FilePlan(path=values["path"], role=values["role"], sha256=values["sha256"], size=values["size"])
        label = f"{where}[{index}] ({plan.path})"
        if plan.path in seen:
            problems.add(label, "listed twice")
        elif _file_ok(plan, label, evaluator, folder, problems):
            seen.add(plan.path)
            plans.append(plan)
    return plans


def _file_ok(plan: FilePlan, label: str, evaluator: str | None, folder: Path, problems: Problems) -> bool:
    before = len(problems)
    try:
        clean = clean_relative_path(plan.path)
    except InvalidInput as exc:
        problems.add(label, exc.message)
        return False
    if clean != plan.path:
        problems.add(label, f"not a normalised relative path (write {clean!r})")
        return False
    if plan.role not in TaskDataFile.Role.values:
        problems.add(label, f"role must be one of {', '.join(TaskDataFile.Role.values)}, got {plan.role!r}")
    elif evaluator is not None and plan.role != TaskDataFile.Role.HIDDEN and _declared_hidden(evaluator, plan.path):
        problems.add(label, "is hidden data for this benchmark (ground truth or evaluation set); it cannot be public")
    if not _SHA256.match(plan.sha256):
        problems.add(label, f"sha256 must be 64 lower-case hexadecimal digits, got {plan.sha256!r}")
    if plan.size < 0:
        problems.add(label, f"size must be at least 0, got {plan.size}")
    if len(problems) == before:
        _check_bytes(plan, label, folder, problems)
    return len(problems) == before


def _declared_hidden(evaluator: str, path: str) -> bool:
    return data_file_required_role(evaluator_slug=evaluator, relative_path=path) == TaskDataFile.Role.HIDDEN


def _check_bytes(plan: FilePlan, label: str, folder: Path, problems: Problems) -> None:
    path = folder.joinpath(*PurePosixPath(plan.path).parts)
    if not path.is_file():
        problems.add(label, f"missing from the archive (expected at {TASKS_DIR}/{folder.name}/{plan.path})")
        return
    digest, size = hashlib.sha256(), 0
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    if size != plan.size:
        problems.add(label, f"the file holds {size} bytes; {MANIFEST} says {plan.size}")
    elif digest.hexdigest() != plan.sha256:
        problems.add(label, f"sha256 differs from {MANIFEST}: the file is damaged or was changed")


def _data_problems(evaluator: str, folder: Path, values: dict[str, Any], paths: list[str]) -> list[str]:
    """What `task_check_data` would say of the task once stored: its files loaded from the unpacked folder
    (which has the storage's layout, concealed task under concealed/) by the evaluator, as a worker loads them.
    Paths in the evaluator's messages are given as archive members, not as the temporary folder."""
    main = [path for path in paths if not path.startswith(f"{CONCEALED_DIR}/")]
    problems = task_dir_check(evaluator, folder, values.get("config", {}), main)
    concealed_config = values.get("concealed_config")
    if concealed_config is not None:
        concealed = [path.removeprefix(f"{CONCEALED_DIR}/") for path in paths if path not in main]
        found = task_dir_check(evaluator, folder / CONCEALED_DIR, concealed_config, concealed)
        problems += [f"concealed task: {problem}" for problem in found]
    return [problem.replace(str(folder), f"{TASKS_DIR}/{folder.name}") for problem in problems]


def _division_plans(raw: object, task_slugs: list[str], problems: Problems) -> list[DivisionPlan]:
    plans: list[DivisionPlan] = []
    first: dict[str, int] = {}
    for index, item in enumerate(_listed(raw, "divisions", problems)):
        where = f"divisions[{index}]"
        values = read_mapping(item, DIVISION_KEYS, where, problems, extra=(DIVISION_TASKS,))
        if values is None or not isinstance(item, dict):
            continue
        model_problems(Division(**values), where, _given(DIVISION_KEYS, values), problems)
        tasks = _division_tasks(item.get(DIVISION_TASKS), f"{where}.{DIVISION_TASKS}", task_slugs, problems)
        slug = values.get("slug")
        if slug is None:
            continue
        if slug in first:
            problems.add(f"{where}.slug", f"{slug!r} is the slug of divisions[{first[slug]}] too")
            continue
        first[slug] = index
        plans.append(DivisionPlan(slug=slug, fields=values, task_slugs=tuple(tasks)))
    return plans


def _division_tasks(raw: object, where: str, task_slugs: list[str], problems: Problems) -> list[str]:
    found: list[str] = []
    for item in _listed(raw, where, problems):
        if not isinstance(item, str):
            problems.add(where, f"must list task slugs (text), got {item!r}")
        elif item not in task_slugs:
            known = ", ".join(task_slugs) or "none"
            problems.add(where, f"unknown task {item!r} (the bundle's tasks: {known})")
        elif item not in found:
            found.append(item)
    return found
