"""Downloading a task's public files into a task directory: verified by SHA-256, resumable, idempotent.

A file is written to `<name>.part` and renamed once its checksum matches, so a complete file is always a
verified one. A later run skips files that are already there and correct, and resumes a `.part` with an
HTTP range (sending `If-Range` with the file's ETag: if the file changed on the server, the whole new file
comes back instead of a part to splice onto stale bytes).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from dataperf_cli.client import CHUNK, ApiClient
from dataperf_cli.errors import EXIT_CHECKSUM, ApiError, CliError
from dataperf_cli.progress import ProgressBar

BarFactory = Callable[[str, int], ProgressBar]


@dataclass(frozen=True)
class RemoteFile:
    path: str
    size: int
    sha256: str
    url: str

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> RemoteFile:
        return cls(str(data["path"]), int(data["size"]), str(data["sha256"]), str(data["download_url"]))


def safe_target(root: Path, relative: str) -> Path:
    """The local path of a task file; refuses a path that would leave the task directory."""
    parts = PurePosixPath(relative).parts
    if not parts or PurePosixPath(relative).is_absolute() or ".." in parts:
        raise CliError(f"refusing to write {relative!r} outside {root}")
    return root.joinpath(*parts)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def write_task_yaml(root: Path, benchmark: str, config: dict[str, Any]) -> Path:
    """task.yaml for offline validation and scoring; JSON is valid YAML, so no YAML library is needed."""
    root.mkdir(parents=True, exist_ok=True)
    path = root / "task.yaml"
    path.write_text(json.dumps({"benchmark": benchmark, "config": config}, indent=2) + "\n", encoding="utf-8")
    return path


def _fetch(client: ApiClient, remote: RemoteFile, part: Path, offset: int, bar: ProgressBar) -> None:
    headers = {"Range": f"bytes={offset}-", "If-Range": f'"{remote.sha256}"'} if offset else {}
    with client.open("GET", remote.url, headers=headers) as response:
        resumed = response.status == 206
        mode, done = ("ab", offset) if resumed else ("wb", 0)
        with part.open(mode) as handle:
            while chunk := response.read(CHUNK):
                handle.write(chunk)
                done += len(chunk)
                bar.update(done)


def download_file(client: ApiClient, remote: RemoteFile, root: Path, make_bar: BarFactory) -> str:
    """Make `root/<path>` the verified remote file; return what happened: skipped, resumed or downloaded.
    Raises `CliError` (exit 6) when the bytes do not match the published checksum."""
    target = safe_target(root, remote.path)
    if target.is_file() and target.stat().st_size == remote.size and sha256_of(target) == remote.sha256:
        return "skipped"
    target.parent.mkdir(parents=True, exist_ok=True)
    part = target.with_name(target.name + ".part")
    offset = part.stat().st_size if part.is_file() else 0
    if offset > remote.size:
        part.unlink()
        offset = 0
    bar = make_bar(remote.path, remote.size)
    if offset < remote.size:
        try:
            _fetch(client, remote, part, offset, bar)
        except ApiError as error:
            if error.status != 416:
                raise
            part.unlink(missing_ok=True)  # the server's file is shorter than our part: start over
            offset = 0
            _fetch(client, remote, part, 0, bar)
    bar.update(part.stat().st_size)
    bar.close()
    if sha256_of(part) != remote.sha256:
        part.unlink()
        raise CliError(f"{remote.path}: the downloaded bytes do not match its SHA-256; run again", EXIT_CHECKSUM)
    part.replace(target)
    return "resumed" if offset else "downloaded"
