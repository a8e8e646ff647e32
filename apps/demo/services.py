"""The demo challenge: one task per demo task of every registered benchmark (on deterministic synthetic
data), scored baselines, and a demo participant. Spans every layer, so it lives above all of them."""

from __future__ import annotations

import datetime as dt
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.contrib.auth.models import User
from django.core.files import File
from django.db import transaction
from django.utils import timezone

from apps.accounts.services import user_sign_up
from apps.challenges.models import Challenge, Task
from apps.challenges.services import participation_register, task_data_file_put
from apps.core.archives import make_zip
from apps.demo.closed import demo_attach_concealed, demo_submit_algorithm
from apps.divisions.models import Division
from apps.leaderboards.pipeline import evaluate_and_rank, verify_and_rank
from apps.submissions.services.intake import SubmissionInput, submission_create
from evaluators import available_slugs, get_evaluator
from evaluators.demo import DemoModule, DemoTask, demo_module

DEMO_SLUG = "dataperf-demo"
PARTICIPANT = ("demo", "demo-participant-pw")
ORGANIZER = ("organizer", "demo-organizer-pw")

DESCRIPTION = """
A demonstration of DataPerf's data-centric benchmarks: in every task the model and its training recipe are
fixed, and what competes is *the data you hand in*: a training-set selection, a ranking of label errors, a
purchase plan, slices, rows to clean, a training set or a test set.

All data here is synthetic (generated deterministically), in the original DataPerf formats. Download a task's
public files, check your file offline with `python -m evaluators validate`, and submit.
"""

RULES = """
1. The open division accepts any method; the closed division also requires the code that produced the file.
2. Do not try to obtain hidden data (ground truth, evaluation sets).
3. Quotas are per team and per task, as each task page states.
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


def _store_data(task: Task, data_dir: Path) -> None:
    for path in sorted(p for p in data_dir.rglob("*") if p.is_file() and p.name != "task.yaml"):
        with path.open("rb") as handle:
            task_data_file_put(task=task, relative_path=path.relative_to(data_dir).as_posix(), content=File(handle))


def _submit_baselines(task: Task, division: Division, organizer: User, baselines: dict[str, Path]) -> list[int]:
    ids = []
    for name, path in baselines.items():
        artifact = make_zip(path, path.parent / f"{name}.zip") if path.is_dir() else path
        with artifact.open("rb") as handle:
            data = SubmissionInput(
                artifact=File(handle, name=artifact.name), artifact_name=artifact.name,
                method_description=f"Baseline: {name}",
            )  # fmt: skip
            submission = submission_create(task=task, division=division, user=organizer, data=data, as_baseline=True)
        ids.append(submission.pk)
    return ids


def _demo_task(
    challenge: Challenge, slug: str, module: DemoModule, spec: DemoTask, order: int, work: Path
) -> tuple[Task, dict[str, Path]]:
    data_dir = work / spec.slug / "task"
    module.generate_task(data_dir, config=spec.config, seed=0)
    task = Task.objects.create(
        challenge=challenge, slug=spec.slug, order=order, title=spec.title, evaluator_slug=slug,
        ml_task=spec.ml_task, config=get_evaluator(slug).validate_config(spec.config), quota_per_day=10,
        description=spec.description,
    )  # fmt: skip
    _store_data(task, data_dir)
    task.refresh_from_db()
    return task, module.write_baselines(data_dir, work / spec.slug / "baselines", seed=0)


def _demo_specs() -> list[tuple[str, DemoModule, DemoTask]]:
    found: list[tuple[str, DemoModule, DemoTask]] = []
    for slug in available_slugs():
        module = demo_module(get_evaluator(slug))
        if module is not None:
            found += [(slug, module, spec) for spec in module.DEMO_TASKS]
    return found


def demo_create(**_: Any) -> DemoInfo:
    """Create the demo challenge (idempotent: an existing one is left as it is) and score its baselines."""
    existing = Challenge.objects.filter(slug=DEMO_SLUG).first()
    if existing is not None:
        return DemoInfo(existing, created=False)
    organizer = _user(*ORGANIZER, staff=True)
    participant = _user(*PARTICIPANT)
    now = timezone.now()
    with tempfile.TemporaryDirectory(prefix="demo-") as tmp, transaction.atomic():
        challenge = Challenge.objects.create(
            slug=DEMO_SLUG, title="DataPerf demo: data-centric benchmarks", visibility=Challenge.Visibility.PUBLIC,
            summary="Every DataPerf benchmark type on synthetic data: the model is fixed, the data competes.",
            description=DESCRIPTION, rules=RULES, starts_at=now - dt.timedelta(days=1),
            ends_at=now + dt.timedelta(days=365),
        )  # fmt: skip
        challenge.organizers.add(organizer)
        open_division = Division.objects.create(challenge=challenge, slug="open", kind="open", name="Open", order=0)
        closed = Division.objects.create(challenge=challenge, slug="closed", kind="closed", name="Closed", order=1)
        participation_register(challenge=challenge, user=participant, accept_rules=True)
        baseline_ids: list[int] = []
        closed_ids: list[int] = []
        for order, (slug, module, spec) in enumerate(_demo_specs()):
            task, baselines = _demo_task(challenge, slug, module, spec, order, Path(tmp))
            baseline_ids += _submit_baselines(task, open_division, organizer, baselines)
            demo_attach_concealed(task, module, spec, Path(tmp))
            pk = demo_submit_algorithm(task, closed, organizer, Path(tmp) / spec.slug / "task", Path(tmp))
            closed_ids += [pk] if pk is not None else []
    for pk in baseline_ids:
        evaluate_and_rank(submission_id=pk)
    for pk in closed_ids:
        # Where this machine has no sandbox, the submission waits in `verifying` for a sandbox worker.
        if verify_and_rank(submission_id=pk) == "verified":
            evaluate_and_rank(submission_id=pk)
    return DemoInfo(challenge, created=True)
