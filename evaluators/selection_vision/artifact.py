"""Directory artifacts (one file per concept, per market, ...): listing their files defensively.

A participant uploads a zip or tar.gz that the platform unpacks into a directory; offline, the CLI is given
the directory itself. Archivers add noise that must not be mistaken for a submission file (macOS's
`__MACOSX/` and `.DS_Store`, Windows's `Thumbs.db`), and many people zip the folder rather than its
content, so a single wrapping folder is looked through (the archives' one rule, `inputs.content_root`).
Anything else is the evaluator's to judge: it receives every remaining regular file by name.

Also used by `evaluators.acquisition` (same artifact shape); it would belong in `evaluators.inputs`.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from evaluators.base import SubmissionError
from evaluators.inputs import content_root, is_archive_noise, safe_text, show

MAX_ENTRIES = 1000
"""More directory entries than this is not a submission of any benchmark here; refused before listing."""


def safe_show(value: object) -> str:
    """`inputs.show(value)` made encodable as UTF-8: file names (undecodable bytes become surrogates) and
    JSON strings (`"\\ud800"`) may hold lone surrogates, which a message stored or printed as UTF-8 cannot."""
    return show(value).encode("utf-8", "backslashreplace").decode("utf-8")


def _entries(directory: Path, label: str) -> tuple[dict[str, Path], list[str]]:
    """(regular files by name, sub-directory names) of one directory, noise left out."""
    files: dict[str, Path] = {}
    folders: list[str] = []
    try:
        with os.scandir(directory) as scan:
            for count, entry in enumerate(scan, start=1):
                if count > MAX_ENTRIES:
                    raise SubmissionError(f"{label}: holds more than {MAX_ENTRIES} entries; not a submission")
                if is_archive_noise(entry.name):
                    continue
                # follow_symlinks: the platform links a single uploaded file into the directory.
                if entry.is_dir(follow_symlinks=False):
                    folders.append(entry.name)
                elif entry.is_file(follow_symlinks=True):
                    files[entry.name] = Path(entry.path)
                else:
                    raise SubmissionError(f"{label}: {safe_show(entry.name)} is neither a regular file nor a folder")
    except OSError as exc:
        raise SubmissionError(f"{label}: cannot be read ({exc.strerror or exc})") from exc
    return files, sorted(folders)


def submission_files(path: Path, *, label: str = "submission") -> dict[str, Path]:
    """The regular files of a directory artifact, by file name, in name order.

    Raises `SubmissionError` when `path` is missing or is a file, when it holds sub-folders (other than one
    folder wrapping everything) or more than `MAX_ENTRIES` entries. Hidden files and archiver noise are left
    out. The caller decides which names are expected.
    """
    if not path.exists():
        raise SubmissionError(f"{label}: no such directory")
    if not path.is_dir():
        raise SubmissionError(
            f"{label}: is a single file; this benchmark expects a directory (or a zip / tar.gz archive) "
            "holding one file per part of the task"
        )
    root = content_root(path)
    files, folders = _entries(root, label if root == path else f"{label}/{safe_text(root.name)}")
    if folders:
        raise SubmissionError(
            f"{label}: unexpected folder {safe_show(folders[0])}; put the files at the top level of the archive"
        )
    return dict(sorted(files.items()))


def reject_unexpected(files: Iterable[str], expected: Iterable[str], what: str) -> None:
    """Raise `SubmissionError` for the first file name not in `expected`, hinting at a case mismatch.

    `what` describes the expected files for the message, e.g. "one <Concept>.csv or <Concept>.json per
    concept (Cupcake, Hawk)".
    """
    wanted = set(expected)
    by_folded = {name.casefold(): name for name in wanted}
    for name in files:
        if name in wanted:
            continue
        hint = ""
        if name.casefold() in by_folded:
            hint = f" (names are case-sensitive: did you mean {safe_show(by_folded[name.casefold()])}?)"
        raise SubmissionError(f"unexpected file {safe_show(name)}{hint}; a submission holds only {what}")
