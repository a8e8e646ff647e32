"""Shared fixtures: users, a challenge with a speech-selection task on synthetic data, submissions."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.core.files import File
from django.core.files.base import ContentFile
from django.db import connection
from django.utils import timezone
from pytest_django.fixtures import Settings

from apps.accounts.services import user_sign_up
from apps.challenges.models import Challenge, Task
from apps.challenges.services import participation_register, task_data_file_put
from apps.divisions.models import Division
from apps.submissions.models import Submission
from apps.submissions.sandbox.runner import sandbox_self_test
from apps.submissions.services.intake import SubmissionInput, submission_create
from evaluators.selection_speech.synthetic import baseline_submissions, generate_speech_task

PASSWORD = "a-long-test-password-42"


@pytest.fixture(scope="session")
def speech_task_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A synthetic speech-selection task directory (public and hidden files), made once per test run."""
    path = tmp_path_factory.mktemp("speech") / "task"
    generate_speech_task(path, language="en", train_size=25, seed=0)
    return path


@pytest.fixture(scope="session")
def speech_selections(speech_task_dir: Path) -> dict[str, dict[str, Any]]:
    return baseline_submissions(speech_task_dir, seed=0)


@pytest.fixture(autouse=True, scope="session")
def _clean_storage() -> Iterator[None]:
    for folder in (settings.TASK_DATA_ROOT, Path(settings.MEDIA_ROOT)):
        shutil.rmtree(folder, ignore_errors=True)
    yield


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Settings) -> None:
    """The production hasher costs about 0.2 s per user, and most tests make two or three users. The live test
    servers run in this process, so logging in through them checks these hashes too."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def make_user(username: str, *, staff: bool = False) -> User:
    user = user_sign_up(username=username, email=f"{username}@example.org", password=PASSWORD)
    if staff:
        user.is_staff = user.is_superuser = True
        user.save()
    assert isinstance(user, User)
    return user


@pytest.fixture
def organizer(db: None) -> User:
    return make_user("orga", staff=False)


@pytest.fixture
def participant(db: None) -> User:
    return make_user("alice")


@pytest.fixture
def other_participant(db: None) -> User:
    return make_user("bob")


@pytest.fixture
def challenge(db: None, organizer: User) -> Challenge:
    now = timezone.now()
    challenge = Challenge.objects.create(
        slug="speech-challenge",
        title="Speech challenge",
        visibility=Challenge.Visibility.PUBLIC,
        starts_at=now - dt.timedelta(days=1),
        ends_at=now + dt.timedelta(days=30),
        rules="Be nice.",
    )
    challenge.organizers.add(organizer)
    return challenge


@pytest.fixture
def open_division(challenge: Challenge) -> Division:
    return Division.objects.create(challenge=challenge, slug="open", kind="open", name="Open")


@pytest.fixture
def closed_division(challenge: Challenge) -> Division:
    return Division.objects.create(challenge=challenge, slug="closed", kind="closed", name="Closed", order=1)


def put_task_data(task: Task, task_dir: Path) -> None:
    for path in sorted(p for p in task_dir.rglob("*") if p.is_file() and p.name != "task.yaml"):
        with path.open("rb") as handle:
            task_data_file_put(task=task, relative_path=path.relative_to(task_dir).as_posix(), content=File(handle))
    task.refresh_from_db()


@pytest.fixture
def speech_task(challenge: Challenge, open_division: Division, speech_task_dir: Path) -> Task:
    task = Task.objects.create(
        challenge=challenge,
        slug="speech-en-25",
        title="Speech en 25",
        evaluator_slug="selection-speech",
        ml_task=Task.MLTask.KEYWORD_SPOTTING,
        config={"language": "en", "train_size": 25},
        quota_per_day=5,
    )
    put_task_data(task, speech_task_dir)
    return task


@pytest.fixture
def registered(challenge: Challenge, participant: User) -> User:
    participation_register(challenge=challenge, user=participant, accept_rules=True)
    return participant


def selection_file(selection: dict[str, Any] | str, name: str = "selection.json") -> ContentFile[bytes]:
    text = selection if isinstance(selection, str) else json.dumps(selection)
    return ContentFile(text.encode(), name=name)


@pytest.fixture
def submit(speech_task: Task, open_division: Division) -> Callable[..., Submission]:
    """Submit a selection (a dict, or raw text) as `user` through the intake service."""

    def _submit(user: User, selection: dict[str, Any] | str, **kwargs: Any) -> Submission:
        data = SubmissionInput(
            artifact=selection_file(selection), artifact_name="selection.json", method_description="m"
        )
        return submission_create(
            task=kwargs.pop("task", speech_task),
            division=kwargs.pop("division", open_division),
            user=user,
            data=data,
            **kwargs,
        )

    return _submit


def required(service: str, problem: str | None) -> None:
    """A test needs `service`: when `problem` says it is missing, skip saying why, and under CI=true fail
    instead (CI must run every test). The one rule for every test that needs a real service or tool."""
    if problem is None:
        return
    reason = f"needs {service}: {problem}"
    if os.environ.get("CI") == "true":
        pytest.fail(f"must run under CI but {reason}")
    pytest.skip(reason)


@pytest.fixture
def postgres_only(transactional_db: None) -> None:
    """PostgreSQL, outside a test transaction (connections can be cut, rows locked from other processes)."""
    vendor = connection.vendor
    required("PostgreSQL", None if vendor == "postgresql" else f"DATABASE_URL is {vendor}")


@pytest.fixture(scope="session")
def sandbox_ready() -> None:
    """The real bubblewrap sandbox works here (`required`)."""
    with tempfile.TemporaryDirectory(prefix="sandbox-check-") as tmp:
        problem = sandbox_self_test(Path(tmp))
    required("the bubblewrap sandbox (`make sandbox`, needs root and apt-get)", problem or None)
