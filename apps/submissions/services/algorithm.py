"""The steps of a closed-division verification, one function each: unpack the code, lay out the inputs, run it
in the sandbox, compare its output with the submitted artifact. Each raises `StageFailed` with what the
participant (and, separately, the organizers) should read."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml
from django.conf import settings

from apps.challenges import selectors
from apps.challenges.models import CONCEALED_DIR, Task, TaskDataFile
from apps.core.archives import ArchiveLimits, unpack_archive
from apps.core.errors import InvalidInput
from apps.submissions.sandbox.runner import (
    Outcome,
    SandboxLimits,
    SandboxRequest,
    SandboxResult,
    run_in_sandbox,
    sandbox_python,
)
from evaluators.algorithm import AlgorithmManifest, ManifestError, find_manifest_root, parse_manifest
from evaluators.splits import participant_config
from evaluators.taskdir import TASK_FILE

log = logging.getLogger(__name__)
_STALE_INPUTS_SECONDS = 24 * 3600


class StageFailed(Exception):
    """A stage ended badly because of the participant's code. `message` is for the participant; `detail` is for
    the organizers (it may name concealed data); `stderr` is the tail of the run's stderr, when one ran."""

    def __init__(self, message: str, *, detail: str = "", result: SandboxResult | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail
        self.result = result


def code_limits() -> ArchiveLimits:
    return ArchiveLimits(
        max_files=settings.SANDBOX_CODE_MAX_FILES, max_bytes=settings.SANDBOX_CODE_MAX_MB * 1024**2, max_ratio=100.0
    )


def task_sandbox_limits(task: Task) -> SandboxLimits:
    """The task's limits, each falling back to the platform default (`challenges.selectors.task_sandbox_limits`)."""
    return SandboxLimits(**selectors.task_sandbox_limits(task=task))


def unpack_code(archive: Path, destination: Path, *, task: Task) -> tuple[Path, AlgorithmManifest]:
    """Unpack the code archive safely and read its manifest: (the folder holding it, the manifest)."""
    try:
        unpacked = unpack_archive(archive, destination, code_limits())
    except InvalidInput as exc:
        raise StageFailed(f"The code archive cannot be used: {exc.message}.") from exc
    try:
        root = find_manifest_root(unpacked.root)
        manifest = parse_manifest(root / "dataperf-algorithm.yaml")
    except ManifestError as exc:
        raise StageFailed(str(exc)) from exc
    if manifest.benchmark != task.evaluator_slug:
        raise StageFailed(
            f"dataperf-algorithm.yaml names the benchmark {manifest.benchmark!r}; this task is {task.evaluator_slug!r}."
        )
    if manifest.module is not None and not _module_exists(root, manifest.module):
        dotted = manifest.module.replace(".", "/")
        raise StageFailed(
            f"The entry point module {manifest.module!r} is not in the archive (expected {dotted}.py or "
            f"{dotted}/__main__.py next to dataperf-algorithm.yaml)."
        )
    return root, manifest


def _module_exists(root: Path, module: str) -> bool:
    base = root.joinpath(*module.split("."))
    return base.with_suffix(".py").is_file() or (base / "__main__.py").is_file()


def sandbox_inputs(task: Task, *, concealed: bool) -> Path:
    """The read-only input folder of the task's runs: its public files (of the concealed task, when asked)
    and a task.yaml, built once per data version and shared by every run (hard links where possible)."""
    suffix = "-concealed" if concealed else ""
    root = Path(settings.SANDBOX_ROOT) / "inputs"
    files = list(task.data_files.filter(role=TaskDataFile.Role.PUBLIC).order_by("relative_path"))
    config = participant_config(task.concealed_config or {}) if concealed else task.participant_config
    document = {"benchmark": task.evaluator_slug, "config": config}
    target = root / f"{task.pk}-v{task.data_version}-{_inputs_key(document, files)}{suffix}"
    if target.is_dir():
        return target
    root.mkdir(parents=True, exist_ok=True)
    building = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=root))
    prefix = f"{CONCEALED_DIR}/"
    for data_file in files:
        inside = data_file.relative_path.startswith(prefix)
        if inside != concealed:
            continue
        relative = data_file.relative_path.removeprefix(prefix) if concealed else data_file.relative_path
        _link_or_copy(Path(data_file.file.path), building / relative)
    (building / TASK_FILE).write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    _publish(building, target)
    _remove_stale_inputs(root, task, target)
    return target


def _inputs_key(document: dict[str, Any], files: list[TaskDataFile]) -> str:
    """What the inputs hold, hashed: a task id that a database reuses (SQLite, after a deletion) never
    serves another task's folder."""
    listing = [(f.relative_path, f.sha256, f.size, f.uploaded_at.isoformat()) for f in files]
    encoded = json.dumps([document, listing], sort_keys=True, default=str).encode()
    return hashlib.sha256(encoded).hexdigest()[:16]


def _link_or_copy(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


def _publish(building: Path, target: Path) -> None:
    try:
        building.rename(target)
    except OSError:
        # Another worker published the same version first: its folder is as good as ours.
        shutil.rmtree(building, ignore_errors=True)


def _remove_stale_inputs(root: Path, task: Task, keep: Path) -> None:
    """Input folders of older data versions, once no run can still be using them."""
    now = time.time()
    for folder in root.glob(f"{task.pk}-v*"):
        if folder != keep and now - folder.stat().st_mtime > _STALE_INPUTS_SECONDS:
            shutil.rmtree(folder, ignore_errors=True)


def run_algorithm(
    *, code_root: Path, manifest: AlgorithmManifest, inputs: Path, scratch: Path, limits: SandboxLimits
) -> SandboxResult:
    """Run the manifest's entry point over `inputs`; the result's `output_path` is set only on success."""
    request = SandboxRequest(
        argv=manifest.argv(sandbox_python()),
        code_dir=code_root,
        input_dir=inputs,
        output_name=manifest.output,
        limits=limits,
        env={
            "DATAPERF_INPUT_DIR": "/sandbox/input",
            "DATAPERF_OUTPUT_DIR": "/sandbox/output",
            "DATAPERF_OUTPUT": f"/sandbox/output/{manifest.output}",
            "DATAPERF_SEED": "0",
        },
    )
    return run_in_sandbox(request, scratch)


def run_summary(result: SandboxResult) -> dict[str, Any]:
    """The figures of a run, as stored with its stage."""
    return {
        "outcome": str(result.outcome),
        "exit_code": result.exit_code,
        "wall_seconds": result.wall_seconds,
        "cpu_seconds": result.cpu_seconds,
        "max_rss_bytes": result.max_rss_bytes,
        "output_bytes": result.output_bytes,
    }


def failure_sentence(result: SandboxResult) -> str:
    if result.outcome is Outcome.EXIT_ERROR:
        return f"it exited with status {result.exit_code} (see the end of its error output below)"
    return result.detail
