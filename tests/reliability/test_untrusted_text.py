"""Text the platform stores but does not write itself (a validator's message, the stderr of a participant's code)
may hold a NUL character (PostgreSQL's text columns refuse it) or a lone surrogate (no database driver can encode
it). It is stored escaped, and the submission ends rejected with it, instead of the write failing and the
submission staying `validating` or `verifying` until the reaper gives it to another worker, which fails the same
way. The escaping happens whatever the database; the failure it prevents shows on PostgreSQL.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.files.base import ContentFile

from apps.challenges.models import Task
from apps.divisions.models import Division
from apps.jobs.pipeline import verify_and_rank
from apps.submissions.models import Submission, VerificationStage
from apps.submissions.services import dispatch
from apps.submissions.services.intake import SubmissionInput, submission_create
from apps.submissions.services.leases import Outcome
from evaluators import SubmissionError, get_evaluator

pytestmark = pytest.mark.django_db(transaction=True)
Status = Submission.Status
HOSTILE = "line 3: \x00 and \udcff are not clip ids"
MANIFEST = "format: 1\nbenchmark: selection-speech\nentry_point:\n  module: algorithm\noutput: selection.json\n"
# Writes NUL bytes and bytes that are not UTF-8 to stderr, then fails.
CRASHING = "import sys\nsys.stderr.buffer.write(b'bad \\x00 byte \\xff\\xfe\\n')\nsys.exit(3)\n"


@pytest.fixture(autouse=True)
def _no_broker(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dispatch, "_send", lambda *args: None)


def test_a_validator_message_with_a_nul_and_a_lone_surrogate_is_stored_and_rejects(
    submit: Callable[..., Submission],
    registered: User,
    speech_selections: dict[str, dict[str, Any]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def validate(*args: Any) -> Any:
        raise SubmissionError(HOSTILE)

    monkeypatch.setattr(get_evaluator("selection-speech"), "validate", validate)

    submission = submit(registered, speech_selections["first-k"])

    assert submission.status == Status.REJECTED
    assert submission.message == "line 3: \\x00 and \\udcff are not clip ids"


@pytest.mark.usefixtures("sandbox_ready")
def test_stderr_with_nul_bytes_from_a_participants_code_is_stored_and_rejects(
    speech_task: Task, closed_division: Division, registered: User, speech_selections: dict[str, dict[str, Any]]
) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("dataperf-algorithm.yaml", MANIFEST)
        archive.writestr("algorithm.py", CRASHING)
    data = SubmissionInput(
        artifact=ContentFile(str(speech_selections["first-k"]).replace("'", '"').encode(), name="selection.json"),
        artifact_name="selection.json",
        code_archive=ContentFile(buffer.getvalue(), name="code.zip"),
        method_description="crashes",
    )
    submission = submission_create(task=speech_task, division=closed_division, user=registered, data=data)

    assert verify_and_rank(submission_id=submission.pk) == Outcome.REJECTED

    stage = VerificationStage.objects.get(submission=submission, stage="reproduce")
    assert "bad \\x00 byte" in stage.stderr_tail
    submission.refresh_from_db()
    assert submission.status == Status.REJECTED
