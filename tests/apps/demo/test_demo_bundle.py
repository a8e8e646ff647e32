"""The demo challenge is built from a bundle: written from synthetic data (kept under var/bundles/ and written
again when missing or out of date), every task with a private split, imported like any bundle, then given its
baselines (the teams' history is tested in test_demo_history.py)."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from pathlib import Path

import pytest
import yaml
from django.core.management import CommandError, call_command
from django.utils import timezone

from apps.backoffice.bundles import InvalidBundle, bundle_manifest_read, challenge_bundle_validate
from apps.challenges.models import (
    CONCEALED_DIR,
    AuditEntry,
    Challenge,
    ConcealedVisibility,
    Participation,
    TaskDataFile,
)
from apps.demo.bundle import DEMO_SLUG, demo_bundle_current, demo_bundle_ensure, demo_bundle_write
from apps.demo.services import ORGANIZER, PARTICIPANT, demo_create
from apps.submissions.models import Score, Submission
from evaluators.demo import demo_split
from evaluators.splits import PRIVATE_FRACTION_KEY, SPLIT_KEYS, SPLIT_SEED_KEY
from tests.apps.demo.conftest import QUICK

SPEECH = "selection-speech"


@pytest.fixture(scope="module")
def speech_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo's bundle with only the speech-selection tasks (slow to score), on small data."""
    return demo_bundle_write(target=tmp_path_factory.mktemp("demo") / "demo.zip", benchmarks=[SPEECH], small=True)


@pytest.mark.django_db
def test_the_demo_is_imported_from_its_bundle_with_scored_baselines(speech_bundle: Path) -> None:
    info = demo_create(bundle=speech_bundle)

    challenge = info.challenge
    assert info.created and challenge.slug == DEMO_SLUG
    assert challenge.phase == Challenge.Phase.OPEN
    entry = AuditEntry.objects.filter(challenge=challenge).earliest("pk")
    assert entry.summary.startswith("Imported the challenge from the bundle demo.zip: 2 task(s), 2 division(s)")
    assert [user.username for user in challenge.organizers.all()] == [ORGANIZER[0]]
    assert Participation.objects.filter(challenge=challenge, team__memberships__user__username=PARTICIPANT[0]).exists()
    plan = challenge_bundle_validate(archive=speech_bundle, slug="unused")
    for task in challenge.tasks.all():
        assert task.concealed_config == {key: value for key, value in task.config.items() if key not in SPLIT_KEYS}
        assert task.concealed_visibility == ConcealedVisibility.ALWAYS
        files = set(task.data_files.values_list("relative_path", "role"))
        assert files == {(f.path, f.role) for t in plan.tasks if t.slug == task.slug for f in t.files}
        assert ("eval.yaml", TaskDataFile.Role.HIDDEN) in files
        assert any(path.startswith(f"{CONCEALED_DIR}/") for path, _ in files)
        open_baselines = Submission.objects.filter(task=task, division__slug="open", is_baseline=True)
        assert open_baselines.exists()
        assert set(open_baselines.values_list("status", flat=True)) == {Submission.Status.SCORED}
        closed = Submission.objects.get(task=task, division__slug="closed", is_baseline=True)
        assert closed.code_archive
    # Slow to score: a few teams submit a copy of the best baseline, whose evaluator run scores it (run once).
    copies = Submission.objects.filter(task__challenge=challenge, is_baseline=False)
    assert copies.exists()
    for copy in copies.select_related("current_evaluation"):
        baseline = Submission.objects.select_related("current_evaluation").get(
            task=copy.task, division__slug="open", is_baseline=True, artifact_sha256=copy.artifact_sha256
        )
        assert copy.current_evaluation is not None and baseline.current_evaluation is not None
        assert copy.current_evaluation.duration_seconds == baseline.current_evaluation.duration_seconds
        assert _public_primary(copy) == _public_primary(baseline)


def _public_primary(submission: Submission) -> float:
    evaluation = submission.current_evaluation
    assert evaluation is not None
    return evaluation.scores.get(split=Score.Split.PUBLIC, metric=evaluation.primary_metric).value


def test_every_task_of_the_bundle_has_the_demos_private_split_and_its_concealed_task_none(quick_bundle: Path) -> None:
    tasks = bundle_manifest_read(archive=quick_bundle)["tasks"]

    assert {task["evaluator_slug"] for task in tasks} == set(QUICK)
    for task in tasks:
        assert task["config"][PRIVATE_FRACTION_KEY] == 0.5
        assert task["config"][SPLIT_SEED_KEY] == demo_split(task["slug"])[SPLIT_SEED_KEY]
        assert not set(task["concealed_config"]) & set(SPLIT_KEYS)


@pytest.mark.django_db
def test_a_given_bundle_the_import_refuses_is_reported(tmp_path: Path) -> None:
    broken = tmp_path / "broken.zip"
    with zipfile.ZipFile(broken, "w") as archive:
        archive.writestr("bundle.yaml", "format: 7\n")

    with pytest.raises(InvalidBundle, match="unsupported bundle format 7"):
        demo_create(bundle=broken)

    assert not Challenge.objects.exists()


def test_the_stored_bundle_is_written_when_missing_and_kept_while_current(tmp_path: Path) -> None:
    path = tmp_path / "bundles" / "dataperf-demo.zip"
    assert not demo_bundle_current(path=path)

    demo_bundle_ensure(path=path, small=True)
    written = path.stat().st_mtime_ns
    demo_bundle_ensure(path=path, small=True)

    assert demo_bundle_current(path=path)
    assert path.stat().st_mtime_ns == written
    assert not demo_bundle_current(path=path, now=timezone.now() + dt.timedelta(days=340))


def test_a_bundle_whose_task_config_differs_from_the_demos_is_not_current(tmp_path: Path) -> None:
    path = demo_bundle_write(target=tmp_path / "demo.zip", small=True)
    document = bundle_manifest_read(archive=path)
    first = document["tasks"][0]
    first["config"] = {key: value for key, value in first["config"].items() if key not in SPLIT_KEYS}
    older = tmp_path / "older.zip"  # as a bundle written before the demo's private splits
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(older, "w") as target:
        for info in source.infolist():
            manifest = info.filename == "bundle.yaml"
            target.writestr(info, yaml.safe_dump(document).encode() if manifest else source.read(info))

    assert demo_bundle_current(path=path)
    assert not demo_bundle_current(path=older)


def test_a_bundle_of_other_tasks_or_unreadable_is_not_current(speech_bundle: Path, tmp_path: Path) -> None:
    damaged = tmp_path / "damaged.zip"
    damaged.write_bytes(b"not a zip")

    assert not demo_bundle_current(path=speech_bundle)  # only the speech tasks: not the whole demo
    assert not demo_bundle_current(path=damaged)


@pytest.mark.django_db
def test_the_command_writes_the_demo_bundle_without_importing_it(tmp_path: Path) -> None:
    target = tmp_path / "out.zip"
    out = io.StringIO()

    call_command("write_demo_bundle", str(target), "--benchmark", SPEECH, "--small", stdout=out)

    assert out.getvalue().startswith(f"Wrote the demo bundle to {target} (")
    assert challenge_bundle_validate(archive=target).summary().startswith("2 task(s), 2 division(s)")
    assert not Challenge.objects.exists()


def test_the_command_refuses_an_unknown_benchmark(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="No demo for the benchmark"):
        call_command("write_demo_bundle", str(tmp_path / "x.zip"), "--benchmark", "nope")
