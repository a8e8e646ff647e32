"""The files of a training-set-creation submission directory: where `labels.csv` is, which files exist,
whether an item's path is a safe relative path inside the directory.

A submission is a directory (the platform unpacks the uploaded zip or tar.gz). `labels.csv` sits at its top,
or at the top of its only sub-directory (an archive of a folder), or is the directory's only CSV file (the
platform turns a single uploaded file into a directory holding it). A single file given to the offline CLI is
the labels file of a submission without image files.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from evaluators.base import SubmissionError
from evaluators.inputs import content_root, show

LABELS_FILE = "labels.csv"
FEATURES_FILE = "features.csv"
MAX_FILES = 20_000
MAX_PATH_CHARS = 1024
IGNORED_TOP_DIRS = frozenset({"__MACOSX"})


@dataclass(frozen=True)
class SubmissionFiles:
    """`labels` is the labels file; `root` the directory item paths are relative to (None: a lone file);
    `files` the relative POSIX paths of every file under `root` (hidden and `__MACOSX` entries included)."""

    labels: Path
    root: Path | None
    files: frozenset[str]

    @functools.cached_property
    def by_lower_name(self) -> dict[str, str]:
        """Lower-cased path -> path (the first in sorted order), for "did you mean" hints."""
        lowered: dict[str, str] = {}
        for name in sorted(self.files):
            lowered.setdefault(name.lower(), name)
        return lowered

    def exists(self, relative: str) -> bool:
        """True if `relative` names a file of the submission (exact, case-sensitive match)."""
        return relative in self.files


def is_ignored(relative: str) -> bool:
    """Files no rule looks at: anything under `__MACOSX/` or with a part starting with a dot."""
    parts = relative.split("/")
    return parts[0] in IGNORED_TOP_DIRS or any(part.startswith(".") for part in parts)


def _visible_entries(directory: Path) -> list[Path]:
    try:
        entries = sorted(directory.iterdir())
    except OSError as exc:
        raise SubmissionError(f"the submission directory cannot be read ({exc.strerror or exc})") from exc
    return [entry for entry in entries if not is_ignored(entry.name)]


def _walk(root: Path) -> frozenset[str]:
    found: list[str] = []
    for current, dirs, names in os.walk(root, followlinks=False):
        dirs.sort()
        base = Path(current).relative_to(root)
        for name in sorted(names):
            found.append((base / name).as_posix())
            if len(found) > MAX_FILES:
                raise SubmissionError(f"the submission holds more than {MAX_FILES} files")
    return frozenset(found)


def locate(path: Path) -> SubmissionFiles:
    """Find the labels file and list the submission's files; raise `SubmissionError` if there is none."""
    if path.is_file():
        return SubmissionFiles(labels=path, root=None, files=frozenset())
    if not path.is_dir():
        raise SubmissionError(f"{path.name or 'submission'}: no such file or directory")
    root = content_root(path)  # an archive of a folder unpacks to that folder: look inside it
    entries = _visible_entries(root)
    labels = root / LABELS_FILE
    if not labels.is_file():
        csv_files = [entry for entry in entries if entry.is_file() and entry.suffix.lower() == ".csv"]
        if len(entries) == 1 and len(csv_files) == 1:
            labels = csv_files[0]
        else:
            names = ", ".join(show(entry.name) for entry in entries[:10]) or "nothing"
            raise SubmissionError(
                f"the submission has no {LABELS_FILE} at its top level (found: {names}); a submission is a "
                f"directory (zip or tar.gz) holding {LABELS_FILE} and the image files it lists"
            )
    return SubmissionFiles(labels=labels, root=root, files=_walk(root))


def path_problem(item: str) -> str | None:
    """Why `item` is not an acceptable relative file path, or None when it is.

    Accepted: POSIX paths relative to the submission's top, with `/` separators, no empty, `.` or `..` part,
    no backslash, no drive letter, printable characters only, at most `MAX_PATH_CHARS` characters.
    """
    if len(item) > MAX_PATH_CHARS:
        return f"the path is longer than {MAX_PATH_CHARS} characters"
    if not item.isprintable():
        return "the path holds a control character"
    if "\\" in item:
        return 'the path holds a backslash; separate folders with "/"'
    if item.startswith("/") or PurePosixPath(item).is_absolute() or ":" in item.split("/")[0]:
        return "absolute paths are not allowed; give the path relative to the top of the submission"
    parts = item.split("/")
    if ".." in parts:
        return 'the path leaves the submission directory (".." is not allowed)'
    if any(part in {"", "."} for part in parts):
        return 'the path has an empty or "." part; write it as folder/file.png'
    return None


def escapes_root(root: Path, relative: str) -> bool:
    """True when the file, after following links, lies outside `root` (a link planted in the directory)."""
    try:
        resolved = (root / relative).resolve(strict=True)
        return not resolved.is_relative_to(root.resolve(strict=True))
    except (OSError, RuntimeError):
        return True


def case_hint(files: SubmissionFiles, relative: str) -> str:
    """` (did you mean "..."?)` when a file differs from `relative` only in letter case, else ``."""
    match = files.by_lower_name.get(relative.lower())
    return f" (did you mean {show(match)}? paths are case-sensitive)" if match else ""
