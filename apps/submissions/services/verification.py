"""Closed division: rerun the participant's code in the sandbox, check that it reproduces the artifact, run it on
the concealed task, then hand the submission to the evaluators.

The stages (`VerificationStage`) are written as they happen, so the participant watches them. A fault of the
participant's code rejects the submission (reproduction) or only costs the concealed score (concealed run); a
fault of the platform (no sandbox on this worker, a crash) is retried like an evaluation.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.files import File
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from apps.challenges.evaluators import task_concealed_loaded, task_loaded
from apps.challenges.models import AuditAction
from apps.core.archives import make_zip
from apps.core.errors import InvalidInput
from apps.submissions.audit import submission_audit_record, submission_label, submission_lock_for_organizer
from apps.submissions.models import Submission, VerificationStage
from apps.submissions.sandbox.runner import SandboxResult, SandboxUnavailable
from apps.submissions.services.algorithm import (
    StageFailed,
    failure_sentence,
    run_algorithm,
    run_summary,
    sandbox_inputs,
    task_sandbox_limits,
    unpack_code,
)
from apps.submissions.services.artifacts import artifact_path, file_as_artifact
from apps.submissions.services.dispatch import enqueue_evaluation, enqueue_verification
from apps.submissions.services.leases import LeasedAttempt, LeasedJob, LeaseKeeper, OnRecorded, Outcome
from evaluators import EvaluatorError, SubmissionError
from evaluators.algorithm import AlgorithmManifest, describe_difference
from evaluators.inputs import safe_text

log = logging.getLogger(__name__)
Status = Submission.Status
Stage = VerificationStage.Stage
VERIFICATION = LeasedJob(
    held=Status.VERIFYING,
    free=Q(status=Status.VERIFYING, lease_owner=""),
    waiting=Status.VERIFYING,
    enqueue=enqueue_verification,
    first_step="Unpacking the code",
    interrupted="The verification was interrupted {times} times.",
    message_while_retrying=False,
)
"""A verification: of a `verifying` submission, which stays `verifying` while a sandbox worker holds it."""


@dataclass
class _Run:
    """One verification attempt: the claimed submission, its scratch folder and the unpacked code."""

    submission: Submission
    attempt: LeasedAttempt
    keeper: LeaseKeeper
    scratch: Path
    on_rejected: OnRecorded | None = None
    code_root: Path | None = None
    manifest: AlgorithmManifest | None = None


def verification_needed(submission: Submission) -> bool:
    return submission.division.requires_code and bool(submission.code_archive)


def submission_verify(*, submission_id: int, worker: str, on_rejected: OnRecorded | None = None) -> Outcome:
    """Verify one closed-division submission. Safe to call any number of times.

    Returns SKIPPED (nothing to claim), VERIFIED (queued for evaluation), REJECTED, FAILED (for good, or sent
    again to be retried) or LOST_LEASE (the reaper gave it to another worker; this attempt's result is
    dropped). `on_rejected` runs in the transaction that rejects a submission that was ranked before (a
    re-verification): the leaderboard rebuild, orchestrated by the layer above.
    """
    attempt = VERIFICATION.attempt(submission_id=submission_id, worker=worker)
    submission = attempt.begin()
    if isinstance(submission, Outcome):
        return submission
    scratch = Path(tempfile.mkdtemp(prefix=f"verify-{submission_id}-", dir=_scratch_root()))
    try:
        with attempt.heartbeat() as keeper:
            run = _Run(submission=submission, attempt=attempt, keeper=keeper, scratch=scratch, on_rejected=on_rejected)
            outcome = _verify(run)
    except (SandboxUnavailable, EvaluatorError) as exc:
        log.error("verification of submission %s could not run: %s", submission_id, exc)
        return attempt.retry(message="The sandbox could not run on this worker; it will be retried.")
    except Exception as exc:
        log.exception("verifying submission %s crashed", submission_id)
        return attempt.retry(message=f"The verification failed unexpectedly ({type(exc).__name__}).")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return Outcome.LOST_LEASE if keeper.lost.is_set() else outcome


def _scratch_root() -> Path:
    root = Path(settings.SANDBOX_ROOT) / "runs"
    root.mkdir(parents=True, exist_ok=True)
    return root


def _verify(run: _Run) -> Outcome:
    try:
        _stage(run, Stage.UNPACK, _unpack)
        _stage(run, Stage.REPRODUCE, _reproduce)
    except StageFailed as exc:
        return run.attempt.end(status=Status.REJECTED, message=exc.message, on_finished=run.on_rejected)
    concealed: Path | None = None
    if run.submission.task.has_concealed_task:
        try:
            concealed = _stage(run, Stage.CONCEALED, _run_concealed)
        except StageFailed:
            concealed = None  # recorded on the stage; the public score stands
    return Outcome.VERIFIED if _pass(run, concealed) else Outcome.LOST_LEASE


_STAGE_CLEARED: dict[str, Any] = {
    "finished_at": None,
    "message": "",
    "stderr_tail": "",
    "organizer_detail": "",
    "outcome": "",
    "exit_code": None,
    "wall_seconds": None,
    "cpu_seconds": None,
    "max_rss_bytes": None,
    "output_bytes": None,
}
"""What a stage's earlier run recorded, cleared when it runs again (a retried attempt, a re-verification)."""


def _stage(run: _Run, stage: str, step: Any) -> Any:
    """Record the stage as running, do it, record how it ended. Re-raises `StageFailed`."""
    submission = run.submission
    fields = {**_STAGE_CLEARED, "status": VerificationStage.Status.RUNNING, "started_at": timezone.now()}
    VerificationStage.objects.update_or_create(submission=submission, stage=stage, defaults=fields)
    try:
        value, result = step(run)
    except StageFailed as exc:
        shown_stderr = exc.result.stderr_tail if exc.result is not None and stage != Stage.CONCEALED else ""
        _stage_end(
            submission,
            stage,
            VerificationStage.Status.FAILED,
            exc.result,
            message=exc.message,
            stderr_tail=shown_stderr,
            organizer_detail=_organizer_detail(exc),
        )
        raise
    except Exception as exc:
        # The platform's fault, not the code's: say so on the stage; the attempt is retried by the caller.
        _stage_end(
            submission,
            stage,
            VerificationStage.Status.FAILED,
            None,
            message="The platform failed during this stage; it will be retried.",
            organizer_detail=f"{type(exc).__name__}: {exc}",
        )
        raise
    _stage_end(submission, stage, VerificationStage.Status.PASSED, result)
    return value


def _organizer_detail(exc: StageFailed) -> str:
    parts = [exc.detail] if exc.detail else []
    if exc.result is not None and exc.result.stderr_tail:
        parts.append(f"stderr (tail):\n{exc.result.stderr_tail}")
    return "\n\n".join(parts)


def _stage_end(submission: Submission, stage: str, status: str, result: SandboxResult | None, **text: str) -> None:
    figures = run_summary(result) if result is not None else {}
    # The code's stderr may hold NUL bytes, which PostgreSQL refuses: escaped, or the stage could not end.
    storable = {key: safe_text(value) for key, value in text.items()}
    VerificationStage.objects.filter(submission=submission, stage=stage).update(
        status=status, finished_at=timezone.now(), **figures, **storable
    )


def _unpack(run: _Run) -> tuple[None, None]:
    run.keeper.report(0.02, "Unpacking the code")
    run.code_root, run.manifest = unpack_code(
        Path(run.submission.code_archive.path), run.scratch / "code", task=run.submission.task
    )
    return None, None


def _reproduce(run: _Run) -> tuple[None, SandboxResult]:
    """Run the code over the public inputs; its output must be the submitted artifact (as the evaluator reads
    them both: the same selection in another order is the same submission)."""
    assert run.code_root is not None and run.manifest is not None  # noqa: S101 (set by _unpack)
    task = run.submission.task
    run.keeper.report(0.1, "Running the code on the public inputs")
    result = run_algorithm(
        code_root=run.code_root,
        manifest=run.manifest,
        inputs=sandbox_inputs(task, concealed=False),
        scratch=run.scratch / "reproduce",
        limits=task_sandbox_limits(task),
    )
    if not result.ok or result.output_path is None:
        raise StageFailed(
            f"The code did not complete on the task's public inputs: {failure_sentence(result)}.", result=result
        )
    run.keeper.report(0.5, "Comparing the output with the submitted file")
    evaluator, loaded = task_loaded(task)
    with artifact_path(run.submission, is_directory=evaluator.submission_is_directory) as path:
        expected = evaluator.canonical(loaded, evaluator.validate(loaded, path))
    name = Path(run.manifest.output).name
    with file_as_artifact(result.output_path, name, is_directory=evaluator.submission_is_directory) as path:
        try:
            actual = evaluator.canonical(loaded, evaluator.validate(loaded, path))
        except SubmissionError as exc:
            raise StageFailed(f"The code's output is not a valid submission: {exc}", result=result) from exc
    difference = describe_difference(expected, actual)
    if difference:
        raise StageFailed(
            f"The code's output differs from the submitted file, so it does not reproduce it: {difference}.",
            result=result,
        )
    return None, result


def _run_concealed(run: _Run) -> tuple[Path, SandboxResult]:
    """Run the verified code over the concealed task's inputs and check its output is a valid submission
    there. What went wrong is told to the organizers only: it could reveal the concealed task."""
    assert run.code_root is not None and run.manifest is not None  # noqa: S101 (set by _unpack)
    task = run.submission.task
    run.keeper.report(0.55, "Running the code on the concealed task")
    result = run_algorithm(
        code_root=run.code_root,
        manifest=run.manifest,
        inputs=sandbox_inputs(task, concealed=True),
        scratch=run.scratch / "concealed",
        limits=task_sandbox_limits(task),
    )
    if not result.ok or result.output_path is None:
        raise StageFailed(
            f"The code did not complete on the concealed task ({result.outcome}); there is no concealed score.",
            detail=result.detail,
            result=result,
        )
    evaluator, loaded = task_concealed_loaded(task)
    name = Path(run.manifest.output).name
    with file_as_artifact(result.output_path, name, is_directory=evaluator.submission_is_directory) as path:
        try:
            evaluator.check(loaded, path)  # only the verdict: the concealed evaluation parses again
        except SubmissionError as exc:
            raise StageFailed(
                "The code's output on the concealed task is not a valid submission; there is no concealed score.",
                detail=str(exc),
                result=result,
            ) from exc
    if result.output_path.is_dir():
        return make_zip(result.output_path, run.scratch / "concealed-output.zip"), result
    return result.output_path, result


def _pass(run: _Run, concealed: Path | None) -> bool:
    """Store the concealed output and queue the evaluation, if this worker still holds the submission."""

    def write(locked: Submission) -> None:
        if locked.concealed_output:
            locked.concealed_output.delete(save=False)
        if concealed is not None:
            with concealed.open("rb") as handle:
                locked.concealed_output.save(concealed.name, File(handle), save=False)
        run.attempt.release(
            status=Status.QUEUED,
            concealed_output=locked.concealed_output.name or "",
            attempts=0,
            queued_at=timezone.now(),
            progress=0.0,
            progress_message="Verified; waiting for an evaluation worker",
        )
        enqueue_evaluation(locked.pk)

    return run.attempt.record(write)


def submission_start_verification(*, submission_id: int) -> None:
    """Move a validated closed-division submission to `verifying` and send it to the sandbox workers (called
    inside the transaction that ends its validation)."""
    Submission.objects.filter(pk=submission_id, status=Status.VALIDATING).update(
        status=Status.VERIFYING,
        queued_at=timezone.now(),
        progress=0.0,
        progress_message="Waiting for a sandbox worker to rerun the code",
    )
    enqueue_verification(submission_id)


def submission_reverify(*, submission: Submission, actor: User) -> None:
    """Run the verification again from the start (an organizer's action, e.g. after a sandbox fix or new
    concealed data), with an audit entry. A scored submission keeps its rank until the new verification ends:
    rescored, or rejected (and then unranked by `on_rejected`). Raises `Forbidden` unless the actor organizes
    the challenge, `InvalidInput` (recording nothing) when it has no code to verify or is still being
    processed."""
    with transaction.atomic():
        locked = submission_lock_for_organizer(submission=submission, actor=actor)
        if not verification_needed(locked):
            raise InvalidInput(f"Submission #{locked.pk} has no code to verify.")
        if not locked.is_terminal:
            raise InvalidInput(f"Submission #{locked.pk} is {locked.status}; rerun it once that has ended.")
        Submission.objects.filter(pk=locked.pk).update(
            status=Status.VERIFYING,
            attempts=0,
            lease_owner="",
            lease_expires_at=None,
            message="",
            finished_at=None,
            queued_at=timezone.now(),
            progress=0.0,
            progress_message="Verification requested",
        )
        VerificationStage.objects.filter(submission=locked).delete()
        enqueue_verification(locked.pk)
        submission_audit_record(
            submission=locked,
            actor=actor,
            action=AuditAction.SUBMISSION_REVERIFY,
            summary=f"Rerunning the verification of {submission_label(locked)}.",
        )
