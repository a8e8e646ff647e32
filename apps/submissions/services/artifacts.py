"""Access to a stored artifact as a local path: a file, or a directory unpacked from an archive."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from apps.core.archives import ArchiveLimits, extract_archive
from apps.core.errors import InvalidInput
from apps.submissions.models import Submission
from evaluators import SubmissionError

SUBMISSION_ARCHIVE_LIMITS = ArchiveLimits(max_files=1000, max_bytes=1024**3)


@contextmanager
def artifact_path(submission: Submission, *, is_directory: bool) -> Iterator[Path]:
    """The artifact as the evaluator expects it. A directory artifact is unpacked (safely) into a temporary
    directory that disappears afterwards; an unsafe archive becomes a `SubmissionError`."""
    stored = Path(submission.artifact.path)
    if not is_directory:
        yield stored
        return
    with tempfile.TemporaryDirectory(prefix=f"submission-{submission.pk}-") as tmp:
        target = Path(tmp) / "submission"
        try:
            extract_archive(stored, target, SUBMISSION_ARCHIVE_LIMITS)
        except InvalidInput as exc:
            raise SubmissionError(str(exc)) from exc
        yield target
