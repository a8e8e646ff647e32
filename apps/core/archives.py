"""Safe unpacking of zip and tar archives uploaded by organizers and participants.

Every member is checked before anything is written: no absolute path, no `..`, no link, no device or other
special file, at most `max_files` members and `max_bytes` unpacked, and no member whose compression ratio
suggests a bomb. Sizes are enforced while writing too, since a header can lie.

Where the content starts is one rule for every archive the platform takes (`unpack_archive`, with
`evaluators.inputs.wrapping_folder`): a single folder wrapping everything is the root.
"""

from __future__ import annotations

import shutil
import tarfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO

from apps.core.errors import InvalidInput
from evaluators.inputs import wrapping_folder


@dataclass(frozen=True)
class ArchiveLimits:
    max_files: int = 2000
    max_bytes: int = 2 * 1024**3
    max_ratio: float = 200.0


@dataclass(frozen=True)
class _Member:
    name: str
    size: int
    compressed: int
    is_dir: bool


def _check_name(name: str) -> PurePosixPath:
    path = PurePosixPath(name.replace("\\", "/"))
    if not name or path.is_absolute() or name.startswith("/") or (path.parts and ":" in path.parts[0]):
        raise InvalidInput(f"archive member {name!r} has an absolute path")
    if ".." in path.parts:
        raise InvalidInput(f"archive member {name!r} points outside the archive ('..')")
    return path


def _zip_members(archive: zipfile.ZipFile) -> Iterator[_Member]:
    for info in archive.infolist():
        mode = (info.external_attr >> 16) & 0o170000
        if mode and mode not in (0o100000, 0o040000):
            kind = "a symbolic link" if mode == 0o120000 else "a special file"
            raise InvalidInput(f"archive member {info.filename!r} is {kind}; only regular files are allowed")
        yield _Member(info.filename, info.file_size, info.compress_size, info.is_dir())


def _tar_members(archive: tarfile.TarFile) -> Iterator[_Member]:
    for info in archive.getmembers():
        if info.issym() or info.islnk():
            raise InvalidInput(f"archive member {info.name!r} is a link; only regular files are allowed")
        if not (info.isfile() or info.isdir()):
            raise InvalidInput(f"archive member {info.name!r} is a device or special file")
        yield _Member(info.name, info.size, info.size, info.isdir())


def _check_members(members: list[_Member], limits: ArchiveLimits, archive_size: int) -> None:
    files = [m for m in members if not m.is_dir]
    if len(files) > limits.max_files:
        raise InvalidInput(f"the archive holds {len(files)} files; at most {limits.max_files} are allowed")
    total = sum(m.size for m in files)
    if total > limits.max_bytes:
        raise InvalidInput(f"the archive unpacks to {total} bytes; at most {limits.max_bytes} are allowed")
    for member in files:
        _check_name(member.name)
        if member.size > 1024 * 1024 and member.size / max(member.compressed, 1) > limits.max_ratio:
            raise InvalidInput(
                f"archive member {member.name!r} expands {member.size / max(member.compressed, 1):.0f} times; "
                "this looks like a compression bomb"
            )
    if files and total > 1024 * 1024 and total / max(archive_size, 1) > limits.max_ratio:
        raise InvalidInput(
            f"the archive expands more than {limits.max_ratio:.0f} times; this looks like a compression bomb"
        )


def _copy_limited(source: IO[bytes], target: Path, budget: int, name: str) -> int:
    written = 0
    with target.open("wb") as out:
        while chunk := source.read(1024 * 1024):
            written += len(chunk)
            if written > budget:
                raise InvalidInput(f"archive member {name!r} is larger than its header says")
            out.write(chunk)
    return written


def extract_archive(archive_path: Path, destination: Path, limits: ArchiveLimits | None = None) -> list[str]:
    """Unpack a zip or tar(.gz) archive into `destination` (created) and return the relative file paths.

    Raises `InvalidInput` naming the member and the rule on any unsafe or unreadable archive.
    """
    limits = limits or ArchiveLimits()
    size = archive_path.stat().st_size
    if destination.exists():
        raise FileExistsError(f"{destination} exists already; archives are unpacked into a new folder")
    destination.mkdir(parents=True)
    try:
        if zipfile.is_zipfile(archive_path):
            return _extract_zip(archive_path, destination, limits, size)
        if tarfile.is_tarfile(archive_path):
            return _extract_tar(archive_path, destination, limits, size)
    except (zipfile.BadZipFile, tarfile.TarError, EOFError, OSError) as exc:
        shutil.rmtree(destination, ignore_errors=True)
        raise InvalidInput(f"the archive is damaged or unreadable: {exc}") from exc
    except InvalidInput:
        shutil.rmtree(destination, ignore_errors=True)
        raise
    raise InvalidInput("the upload is not a zip or tar archive")


@dataclass(frozen=True)
class Unpacked:
    root: Path
    """Where the content starts: the destination, or the one folder wrapping everything."""
    names: list[str]
    """The files' POSIX paths relative to `root`."""


def unpack_archive(archive_path: Path, destination: Path, limits: ArchiveLimits | None = None) -> Unpacked:
    """`extract_archive`, then the content's root by the platform's one rule (`wrapping_folder`: the one
    folder wrapping every member, archiver noise beside it aside, is the root). Raises as `extract_archive`."""
    names = extract_archive(archive_path, destination, limits)
    folder = wrapping_folder(names)
    if folder is None:
        return Unpacked(destination, names)
    prefix = f"{folder}/"
    return Unpacked(destination / folder, [name.removeprefix(prefix) for name in names if name.startswith(prefix)])


def _extract_zip(path: Path, destination: Path, limits: ArchiveLimits, size: int) -> list[str]:
    with zipfile.ZipFile(path) as archive:
        members = list(_zip_members(archive))
        _check_members(members, limits, size)
        written: list[str] = []
        for member in members:
            if member.is_dir:
                continue
            rel = _check_name(member.name)
            target = destination.joinpath(*rel.parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            with archive.open(member.name) as source:
                _copy_limited(source, target, member.size, member.name)
            written.append(rel.as_posix())
        return written


def _extract_tar(path: Path, destination: Path, limits: ArchiveLimits, size: int) -> list[str]:
    with tarfile.open(path) as archive:
        members = list(_tar_members(archive))
        _check_members(members, limits, size)
        written: list[str] = []
        for info in archive.getmembers():
            if not info.isfile():
                continue
            rel = _check_name(info.name)
            target = destination.joinpath(*rel.parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            source = archive.extractfile(info)
            if source is None:
                raise InvalidInput(f"archive member {info.name!r} cannot be read")
            with source:
                _copy_limited(source, target, info.size, info.name)
            written.append(rel.as_posix())
        return written


def is_archive(path: Path) -> bool:
    """True for a zip or tar (possibly compressed) file."""
    return zipfile.is_zipfile(path) or tarfile.is_tarfile(path)


def make_zip(folder: Path, target: Path, *, date_time: tuple[int, int, int, int, int, int] | None = None) -> Path:
    """Zip the files under `folder` (paths relative to it) into `target`; returns `target`. With `date_time`
    every member carries that date instead of its file's, so the same files always give the same bytes."""
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            name = path.relative_to(folder).as_posix()
            if date_time is None:
                archive.write(path, name)
            else:
                info = zipfile.ZipInfo(name, date_time=date_time)
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, path.read_bytes())
    return target
