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
    """The artifact as the evaluator expects it: a file under the participant's own file name, or a directory
    unpacked (safely) from the uploaded archive; both in a temporary directory that disappears afterwards.
    An unsafe archive becomes a `SubmissionError`."""
    stored = Path(submission.artifact.path)
    with tempfile.TemporaryDirectory(prefix=f"submission-{submission.pk}-") as tmp:
        if not is_directory:
            # Under the name the participant gave it, so that messages name *their* file.
            shown = Path(tmp) / (Path(submission.artifact_name.replace("\\", "/")).name or "submission")
            shown.symlink_to(stored)
            yield shown
            return
        target = Path(tmp) / "submission"
        try:
            extract_archive(stored, target, SUBMISSION_ARCHIVE_LIMITS)
        except InvalidInput as exc:
            raise SubmissionError(str(exc)) from exc
        yield target
