"""The demo challenge: a speech-selection task on deterministic synthetic data, scored baselines, and a
demo participant. Spans every layer, so it lives above all of them."""

from __future__ import annotations

import datetime as dt
import io
import json
import tempfile
from dataclasses import dataclass
from pathlib import Path

from django.contrib.auth.models import User
from django.core.files import File
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from apps.accounts.services import user_sign_up
from apps.challenges.models import Challenge, Task
from apps.challenges.services import participation_register, task_data_file_put
from apps.divisions.models import Division
from apps.leaderboards.pipeline import evaluate_and_rank
from apps.submissions.services.intake import SubmissionInput, submission_create
from evaluators.selection_speech.synthetic import baseline_submissions, generate_speech_task

DEMO_SLUG = "dataperf-demo"
PARTICIPANT = ("demo", "demo-participant-pw")
ORGANIZER = ("organizer", "demo-organizer-pw")

DESCRIPTION = """
A demonstration of the DataPerf **training-set selection for speech** benchmark (keyword spotting).

The model is fixed: an ensemble of an SVM and a logistic regression, trained on 1024-dimensional spoken-word
embeddings. What competes is *your selection*: pick at most `train_size` clips from the allowed training set,
per target word and for the `nontarget` class, so that the fixed model reaches the best macro F1 on the
hidden evaluation set (mean over 10 seeds).

The data here is synthetic (generated deterministically), in the original DataPerf formats.
"""

RULES = """
1. Submit selections made by any method in the open division; in the closed division, also upload the code.
2. Do not try to obtain the hidden evaluation data.
3. Ten submissions per team per 24 hours.
"""


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


def _task(challenge: Challenge, data_dir: Path, train_size: int, order: int) -> Task:
    task = Task.objects.create(
        challenge=challenge,
        slug=f"speech-selection-en-{train_size}",
        order=order,
        title=f"Speech selection, English, budget {train_size}",
        evaluator_slug="selection-speech",
        ml_task=Task.MLTask.KEYWORD_SPOTTING,
        config={"language": "en", "train_size": train_size},
        quota_per_day=10,
        description=f"Select at most **{train_size}** training clips. " + DESCRIPTION,
    )
    for path in sorted(p for p in data_dir.rglob("*") if p.is_file() and p.name != "task.yaml"):
        with path.open("rb") as handle:
            task_data_file_put(task=task, relative_path=path.relative_to(data_dir).as_posix(), content=File(handle))
    task.refresh_from_db()
    return task


def _baselines(task: Task, division: Division, organizer: User, data_dir: Path) -> list[int]:
    ids = []
    for name, selection in baseline_submissions(data_dir, seed=0).items():
        content = ContentFile(json.dumps(selection, indent=1).encode(), name=f"{name}.json")
        data = SubmissionInput(artifact=content, artifact_name=f"{name}.json", method_description=f"Baseline: {name}")
        submission = submission_create(task=task, division=division, user=organizer, data=data, as_baseline=True)
        ids.append(submission.pk)
    return ids


def demo_create(*, out: io.TextIOBase | None = None) -> DemoInfo:
    """Create the demo challenge (idempotent: an existing one is left as it is) and score its baselines."""
    existing = Challenge.objects.filter(slug=DEMO_SLUG).first()
    if existing is not None:
        return DemoInfo(existing, created=False)
    organizer = _user(*ORGANIZER, staff=True)
    participant = _user(*PARTICIPANT)
    now = timezone.now()
    with tempfile.TemporaryDirectory(prefix="demo-speech-") as tmp, transaction.atomic():
        data_dirs = {size: Path(tmp) / f"task-{size}" for size in (25, 60)}
        for size, data_dir in data_dirs.items():
            generate_speech_task(data_dir, language="en", train_size=size, seed=0)
        challenge = Challenge.objects.create(
            slug=DEMO_SLUG,
            title="DataPerf demo: selection for speech",
            visibility=Challenge.Visibility.PUBLIC,
            summary="Pick the training clips that make a fixed keyword-spotting model best.",
            description=DESCRIPTION,
            rules=RULES,
            starts_at=now - dt.timedelta(days=1),
            ends_at=now + dt.timedelta(days=365),
        )
        challenge.organizers.add(organizer)
        open_division = Division.objects.create(challenge=challenge, slug="open", kind="open", name="Open", order=0)
        Division.objects.create(challenge=challenge, slug="closed", kind="closed", name="Closed", order=1)
        tasks = {
            size: _task(challenge, data_dir, size, order) for order, (size, data_dir) in enumerate(data_dirs.items())
        }
        participation_register(challenge=challenge, user=participant, accept_rules=True)
        baseline_ids = [
            pk for size, task in tasks.items() for pk in _baselines(task, open_division, organizer, data_dirs[size])
        ]
    for pk in baseline_ids:
        evaluate_and_rank(submission_id=pk)
    return DemoInfo(challenge, created=True)
