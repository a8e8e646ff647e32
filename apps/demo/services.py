"""The demo challenge: imported from its bundle (see `apps.demo.bundle`: every registered benchmark's demo tasks on
deterministic synthetic data), then scored baselines and a demo participant. Spans every layer, so it lives
above all of them."""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import yaml
from django.contrib.auth.models import User
from django.core.files import File
from django.db import transaction

from apps.accounts.services import user_sign_up
from apps.backoffice.bundles import InvalidBundle, challenge_bundle_import
from apps.challenges.models import CONCEALED_DIR, Challenge, Task
from apps.challenges.services import participation_register
from apps.core.archives import make_zip
from apps.demo.bundle import DEMO_SLUG, demo_bundle_ensure, demo_bundle_path, demo_bundle_write
from apps.demo.closed import demo_submit_algorithm
from apps.divisions.models import Division
from apps.jobs.pipeline import evaluate_and_rank, verify_and_rank
from apps.submissions.services.intake import SubmissionInput, submission_create
from apps.submissions.services.leases import Outcome
from evaluators import get_evaluator
from evaluators.demo import demo_module
from evaluators.taskdir import TASK_FILE

__all__ = ["DEMO_SLUG", "ORGANIZER", "PARTICIPANT", "DemoInfo", "demo_create"]

PARTICIPANT = ("demo", "demo-participant-pw")
ORGANIZER = ("organizer", "demo-organizer-pw")


@dataclass(frozen=True)
class DemoInfo:
    challenge: Challenge
    created: bool


def _user(username: str, password: str, *, staff: bool = False) -> User:
    user = User.objects.filter(username=username).first()
    if user is None:
        user = user_sign_up(username=username, email=f"{username}@example.org", password=password)
    if staff and not user.is_staff:
        user.is_staff = user.is_superuser = True
        user.save()
    return user


def _submit_baselines(task: Task, division: Division, organizer: User, baselines: dict[str, Path]) -> list[int]:
    ids = []
    for name, path in baselines.items():
        artifact = make_zip(path, path.parent / f"{name}.zip") if path.is_dir() else path
        with artifact.open("rb") as handle:
            data = SubmissionInput(
                artifact=File(handle, name=artifact.name),
                artifact_name=artifact.name,
                method_description=f"Baseline: {name}",
            )
            submission = submission_create(task=task, division=division, user=organizer, data=data, as_baseline=True)
        ids.append(submission.pk)
    return ids


def _task_dir(task: Task, work: Path) -> Path:
    """The task's directory as a participant (or the offline CLI) knows it, rebuilt from the imported data:
    task.yaml and every file of the task, without the concealed task."""
    target = work / task.slug / "task"
    shutil.copytree(
        task.data_dir, target, ignore=lambda folder, _: [CONCEALED_DIR] if folder == str(task.data_dir) else []
    )
    document = {"benchmark": task.evaluator_slug, "config": task.config}
    (target / TASK_FILE).write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return target


def _submit_all(challenge: Challenge, organizer: User, work: Path) -> tuple[list[int], list[int]]:
    """Submit every task's baselines to the open division and its example algorithm to the closed one; returns
    the ids of both kinds."""
    open_division, closed = challenge.divisions.get(slug="open"), challenge.divisions.get(slug="closed")
    baseline_ids: list[int] = []
    closed_ids: list[int] = []
    for task in challenge.tasks.order_by("order", "slug"):
        module = demo_module(get_evaluator(task.evaluator_slug))
        if module is None:
            continue
        task_dir = _task_dir(task, work)
        baselines = module.write_baselines(task_dir, work / task.slug / "baselines", seed=0)
        baseline_ids += _submit_baselines(task, open_division, organizer, baselines)
        pk = demo_submit_algorithm(task, closed, organizer, task_dir, work)
        closed_ids += [pk] if pk is not None else []
    return baseline_ids, closed_ids


def _import(archive: Path, organizer: User, participant: User, work: Path) -> tuple[Challenge, list[int], list[int]]:
    """Import the bundle, register the participant and submit the baselines, all or nothing: if anything fails
    the rows roll back, and the data files the import stored are removed (a rollback cannot remove files)."""
    folders: list[Path] = []
    try:
        with transaction.atomic():
            challenge = challenge_bundle_import(archive=archive, organizers=[organizer], actor=None)
            folders = [task.data_dir for task in challenge.tasks.all()]
            participation_register(challenge=challenge, user=participant, accept_rules=True)
            baseline_ids, closed_ids = _submit_all(challenge, organizer, work)
    except BaseException:
        for folder in folders:
            shutil.rmtree(folder, ignore_errors=True)
        raise
    return challenge, baseline_ids, closed_ids


def demo_create(*, bundle: Path | None = None) -> DemoInfo:
    """Create the demo challenge from its bundle (idempotent: an existing one is left as it is) and score its
    baselines.

    `bundle` is the bundle to import; by default the one kept at `demo_bundle_path()`, written first when it is
    missing or out of date, and written again once if the import refuses it (it came from an older version).
    """
    existing = Challenge.objects.filter(slug=DEMO_SLUG).first()
    if existing is not None:
        return DemoInfo(existing, created=False)
    organizer = _user(*ORGANIZER, staff=True)
    participant = _user(*PARTICIPANT)
    archive = bundle or demo_bundle_ensure()
    with tempfile.TemporaryDirectory(prefix="demo-") as tmp:
        try:
            challenge, baseline_ids, closed_ids = _import(archive, organizer, participant, Path(tmp) / "first")
        except InvalidBundle:
            if bundle is not None:
                raise
            demo_bundle_write(target=demo_bundle_path())
            challenge, baseline_ids, closed_ids = _import(archive, organizer, participant, Path(tmp) / "again")
    for pk in baseline_ids:
        evaluate_and_rank(submission_id=pk)
    for pk in closed_ids:
        # Where this machine has no sandbox, the submission waits in `verifying` for a sandbox worker.
        if verify_and_rank(submission_id=pk) == Outcome.VERIFIED:
            evaluate_and_rank(submission_id=pk)
    return DemoInfo(challenge, created=True)
