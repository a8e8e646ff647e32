"""Parsing and checking a debugging-vision submission: a directory of `<id>_<method>.txt` rankings.

The rules of cases/README.md: one file per dataset of the config (the file's dataset is the part of its name
before the first `_`; files named `time...` are the original's run-time notes and are ignored); every line
holds one 0-based row index of the dataset's training parquet, in inspection order; a blank line (an empty
last line included), a non-integer (`17.0`, text) or an index outside `0..train_size-1` is rejected with its
line number, wherever it is (the original crashes on each). Only the first `train_size` lines are scored.
Platform rules on top: no second file for a dataset, no file for an unknown dataset, no unexpected file or
sub-directory (hidden entries such as `.DS_Store` and `__MACOSX/` are ignored), size limits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from evaluators.base import SubmissionError
from evaluators.debugging_vision.task import IGNORED_PREFIX, DebuggingTask
from evaluators.inputs import content_root, read_text_file, show

MAX_FILE_BYTES = 2 * 1024 * 1024  # a full ranking of the largest train_size (100000) is about 0.6 MB
MAX_ENTRIES = 1000
RANKING_SUFFIX = ".txt"
_IGNORED_ENTRIES = frozenset({"__MACOSX"})
_INTEGER = re.compile(r"[+-]?[0-9]+")
_MAX_DIGITS = 18  # longer numbers are out of range anyway; int() of 4300+ digits would even raise


@dataclass(frozen=True)
class RankingFile:
    """One dataset's ranking: the file name, its line count and the first `train_size` row indexes."""

    data_id: str
    name: str
    n_lines: int
    ranking: tuple[int, ...]


@dataclass(frozen=True)
class DebuggingSubmission:
    """A valid submission: one ranking per dataset, in the config's dataset order."""

    files: tuple[RankingFile, ...]

    def ranking_file(self, data_id: str) -> RankingFile:
        """The ranking of `data_id` (every dataset of the config has one)."""
        for ranking_file in self.files:
            if ranking_file.data_id == data_id:
                return ranking_file
        raise KeyError(data_id)


def _entries(directory: Path) -> list[Path]:
    if not directory.exists():
        raise SubmissionError(f"{directory.name}: no such directory")
    if not directory.is_dir():
        raise SubmissionError(
            f"{directory.name}: the submission must be a directory (an archive of .txt files) holding one "
            "<id>_<method>.txt ranking per dataset, not a single file"
        )
    entries: list[Path] = []
    try:
        for entry in content_root(directory).iterdir():
            entries.append(entry)
            if len(entries) > MAX_ENTRIES:
                raise SubmissionError(f"the submission holds more than {MAX_ENTRIES} entries; one file per dataset")
    except OSError as exc:
        raise SubmissionError(f"{directory.name}: cannot be listed ({exc.strerror or exc})") from exc
    return sorted(entries, key=lambda entry: entry.name)


def _is_ignored(name: str) -> bool:
    return name.startswith((".", IGNORED_PREFIX)) or name in _IGNORED_ENTRIES


def _dataset_of(task: DebuggingTask, entry: Path) -> str:
    """The data id a ranking file belongs to; raise if the entry is not a ranking file of this task."""
    name, datasets = entry.name, ", ".join(task.config.datasets)
    if entry.is_symlink() or not entry.is_file():
        kind = "a link" if entry.is_symlink() else "a directory" if entry.is_dir() else "not a regular file"
        raise SubmissionError(f"{show(name)} is {kind}: put the ranking files at the top level of the archive")
    data_id, underscore, _ = name.partition("_")
    if not name.endswith(RANKING_SUFFIX) or not underscore:
        raise SubmissionError(
            f"unexpected file {show(name)}: a ranking file is named <id>_<method>.txt with id one of {datasets}"
        )
    if data_id not in task.config.datasets:
        raise SubmissionError(
            f"{show(name)}: {show(data_id)} is not a dataset of this task; the datasets are {datasets}"
        )
    return data_id


def _ranking_files(task: DebuggingTask, directory: Path) -> dict[str, Path]:
    found: dict[str, Path] = {}
    for entry in _entries(directory):
        if _is_ignored(entry.name):
            continue
        data_id = _dataset_of(task, entry)
        if data_id in found:
            raise SubmissionError(
                f"two ranking files for dataset {data_id}: {show(found[data_id].name)} and {show(entry.name)}; "
                "submit one per dataset"
            )
        found[data_id] = entry
    for data_id in task.config.datasets:
        if data_id not in found:
            raise SubmissionError(
                f"no ranking file for dataset {data_id}: add {data_id}_<method>.txt (one row index per line)"
            )
    return found


def _lines(text: str) -> list[str]:
    """The lines as Python's text mode reads them (universal newlines); a final line break ends the last line."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if lines[-1] == "":
        lines.pop()
    return lines


def _row_index(line: str, number: int, name: str, train_size: int) -> int:
    value = line.strip()
    if not value:
        raise SubmissionError(
            f"{name}: line {number} is blank; every line must hold one row index (remove empty lines, "
            "including an empty last line)"
        )
    if not _INTEGER.fullmatch(value):
        raise SubmissionError(
            f"{name}: line {number}: {show(value)} is not an integer; each line holds one 0-based row index"
        )
    digits = value.lstrip("+-")
    index = int(value) if len(digits) <= _MAX_DIGITS else None
    if index is None or not 0 <= index < train_size:
        raise SubmissionError(
            f"{name}: line {number}: row index {show(value)} is outside 0..{train_size - 1} "
            f"(the rows of the training set)"
        )
    return index


def parse_ranking(task: DebuggingTask, data_id: str, path: Path) -> RankingFile:
    """Read and check one ranking file; only the first `train_size` indexes are kept for scoring."""
    name = show(path.name)
    text = read_text_file(path, max_bytes=MAX_FILE_BYTES, label=name)
    train_size = task.config.train_size
    indexes = [_row_index(line, number, name, train_size) for number, line in enumerate(_lines(text), start=1)]
    return RankingFile(data_id=data_id, name=path.name, n_lines=len(indexes), ranking=tuple(indexes[:train_size]))


def parse_submission(task: DebuggingTask, path: Path) -> DebuggingSubmission:
    """Read and check a submission directory; raise `SubmissionError` with the first broken rule.

    Reads only the submission and the task's config (no task file at all).
    """
    found = _ranking_files(task, path)
    return DebuggingSubmission(
        files=tuple(parse_ranking(task, data_id, found[data_id]) for data_id in task.config.datasets)
    )
