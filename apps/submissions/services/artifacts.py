"""Access to a stored artifact as a local path: a file, or a directory unpacked from an archive."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from apps.core.archives import ArchiveLimits, is_archive, unpack_archive
from apps.core.errors import InvalidInput
from apps.submissions.models import Submission
from evaluators import SubmissionError

SUBMISSION_ARCHIVE_LIMITS = ArchiveLimits(max_files=1000, max_bytes=1024**3)


@contextmanager
def artifact_path(submission: Submission, *, is_directory: bool) -> Iterator[Path]:
    """The artifact as the evaluator expects it, in a temporary directory that disappears afterwards.

    A file artifact appears under the participant's own file name, so that messages name *their* file. A
    directory artifact is unpacked (safely) from the uploaded zip or tar.gz, from the folder wrapping everything
    if there is one (`unpack_archive`); a single non-archive file
    becomes a directory holding just that file (one concept's CSV, say). An unsafe archive becomes a
    `SubmissionError` naming the member and the rule.
    """
    name = Path(submission.artifact_name.replace("\\", "/")).name or "submission"
    with file_as_artifact(Path(submission.artifact.path), name, is_directory=is_directory) as path:
        yield path


@contextmanager
def file_as_artifact(stored: Path, name: str, *, is_directory: bool) -> Iterator[Path]:
    """A stored file (or folder: an algorithm's output) as the evaluator expects it (see `artifact_path`), shown
    under `name`."""
    if stored.is_dir():
        yield stored
        return
    with tempfile.TemporaryDirectory(prefix="artifact-") as tmp:
        if not is_directory:
            shown = Path(tmp) / name
            shown.symlink_to(stored)
            yield shown
            return
        target = Path(tmp) / "submission"
        if not is_archive(stored):
            target.mkdir()
            (target / name).symlink_to(stored)
            yield target
            return
        try:
            unpacked = unpack_archive(stored, target, SUBMISSION_ARCHIVE_LIMITS)
        except InvalidInput as exc:
            raise SubmissionError(f"{name}: {exc}") from exc
        yield unpacked.root
