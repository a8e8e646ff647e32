"""Writing bundles: data files streamed into the zip (hashed on the way, never read whole into memory), then
`bundle.yaml` listing them. Used by the export of a stored challenge and by the demo, which writes its bundle
from freshly generated files without touching the database."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol

import yaml

from apps.backoffice.bundles.schema import (
    CHALLENGE_KEYS,
    DIVISION_KEYS,
    DIVISION_TASKS,
    FORMAT,
    MANIFEST,
    TASK_FILES,
    TASK_KEYS,
    TASK_WEIGHT,
    TASKS_DIR,
    dump_fields,
    plain_mapping,
)
from apps.challenges.models import Challenge
from apps.core.errors import InvalidInput
from apps.core.files import CHUNK
from apps.leaderboards.models import TaskWeight


class Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


class _FlowMapping(dict[str, Any]):
    """A mapping written on one line (a file entry), so that a task with thousands of files stays readable."""


class _Dumper(yaml.SafeDumper):
    pass


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    # Markdown texts read best as literal blocks; PyYAML falls back to quoting where a block cannot hold them.
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|" if "\n" in value else None)


def _represent_flow(dumper: yaml.SafeDumper, value: _FlowMapping) -> yaml.MappingNode:
    return dumper.represent_mapping("tag:yaml.org,2002:map", dict(value), flow_style=True)


_Dumper.add_representer(str, _represent_str)
_Dumper.add_representer(_FlowMapping, _represent_flow)


def manifest_text(document: Mapping[str, Any]) -> str:
    """`document` as the text of bundle.yaml (keys in their given order)."""
    return yaml.dump(dict(document), Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=120)


class BundleWriter:
    """Writes one bundle to `target`. Use as a context manager: `add_file` each data file, then `finish` with
    the manifest's mappings. The zip is written under a temporary name and renamed when `finish` succeeded, so
    a failed or interrupted write never leaves a half bundle at `target`."""

    def __init__(self, target: Path) -> None:
        self.target = target
        self._partial = target.with_name(f".{target.name}.partial")
        self._zip: zipfile.ZipFile | None = None
        self._files: dict[str, list[_FlowMapping]] = {}
        self._finished = False

    def __enter__(self) -> BundleWriter:
        self.target.parent.mkdir(parents=True, exist_ok=True)
        self._zip = zipfile.ZipFile(self._partial, "w", compression=zipfile.ZIP_DEFLATED)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if self._zip is not None:
            self._zip.close()
        if error is None and self._finished:
            os.replace(self._partial, self.target)
        else:
            self._partial.unlink(missing_ok=True)

    def add_file(self, *, task_slug: str, relative_path: str, role: str, source: Readable) -> None:
        """Stream one data file of the task into the bundle and record its role, sha256 and size."""
        if self._zip is None:
            raise RuntimeError("BundleWriter.add_file outside its `with` block")
        info = zipfile.ZipInfo(f"{TASKS_DIR}/{task_slug}/{relative_path}", date_time=_now())
        info.compress_type = zipfile.ZIP_DEFLATED
        info.external_attr = 0o100644 << 16  # a regular file, rw-r--r--
        digest, size = hashlib.sha256(), 0
        with self._zip.open(info, "w", force_zip64=True) as member:
            while chunk := source.read(CHUNK):
                digest.update(chunk)
                size += len(chunk)
                member.write(chunk)
        entry = _FlowMapping(path=str(relative_path), role=str(role), sha256=digest.hexdigest(), size=size)
        self._files.setdefault(task_slug, []).append(entry)

    def finish(
        self,
        *,
        challenge: Mapping[str, Any],
        divisions: Sequence[Mapping[str, Any]],
        tasks: Sequence[Mapping[str, Any]],
    ) -> None:
        """Write bundle.yaml: the challenge's, divisions' and tasks' settings as given (datetimes become ISO 8601
        text), each task with the list of the files added for its slug."""
        if self._zip is None:
            raise RuntimeError("BundleWriter.finish outside its `with` block")
        document = {
            "format": FORMAT,
            "challenge": plain_mapping(challenge),
            "divisions": [plain_mapping(division) for division in divisions],
            "tasks": [{**plain_mapping(task), TASK_FILES: self._files.get(str(task["slug"]), [])} for task in tasks],
        }
        info = zipfile.ZipInfo(MANIFEST, date_time=_now())
        info.compress_type = zipfile.ZIP_DEFLATED
        info.external_attr = 0o100644 << 16
        self._zip.writestr(info, manifest_text(document))
        self._finished = True


def _now() -> tuple[int, int, int, int, int, int]:
    moment = dt.datetime.now()  # zip timestamps are local time by definition
    return (moment.year, moment.month, moment.day, moment.hour, moment.minute, moment.second)


def challenge_bundle_export(*, challenge: Challenge, target: Path) -> Path:
    """Write the challenge as a bundle to `target` (a .zip file, replaced if it exists) and return `target`.

    The bundle holds the challenge's settings, its divisions (with their tasks), its tasks' settings and
    leaderboard weights, and every data file, public and hidden, with its role, sha256 and size. It never holds
    organizers, participants, teams, submissions or scores. Files are streamed from storage. Raises
    `InvalidInput` when a data file listed in the database is missing from storage. No access check: the caller
    decides who may export (the bundle holds the hidden data).
    """
    tasks = list(challenge.tasks.order_by("order", "slug"))
    weights = dict(TaskWeight.objects.filter(task__in=tasks).values_list("task_id", "weight"))
    with BundleWriter(target) as writer:
        for task in tasks:
            for data_file in task.data_files.order_by("relative_path"):
                try:
                    handle = data_file.file.open("rb")
                except FileNotFoundError as exc:
                    raise InvalidInput(
                        f"task {task.slug}: the data file {data_file.relative_path} is missing from storage"
                    ) from exc
                with handle:
                    writer.add_file(
                        task_slug=task.slug,
                        relative_path=data_file.relative_path,
                        role=data_file.role,
                        source=handle,
                    )
        divisions = [
            {**dump_fields(division, DIVISION_KEYS), DIVISION_TASKS: sorted(task.slug for task in division.tasks.all())}
            for division in challenge.divisions.order_by("order", "slug").prefetch_related("tasks")
        ]
        writer.finish(
            challenge=dump_fields(challenge, CHALLENGE_KEYS),
            divisions=divisions,
            tasks=[
                {**dump_fields(task, TASK_KEYS), TASK_WEIGHT: weights.get(task.pk, TaskWeight.DEFAULT)}
                for task in tasks
            ],
        )
    return target
