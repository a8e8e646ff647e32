"""Challenge bundles: export and import round trips, every validation fault with its own message (and nothing
created), the management commands, and the admin's export action and import page."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import shutil
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.conf import settings
from django.contrib.auth.models import User
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db.models import Model
from django.test import Client
from django.urls import reverse

from apps.backoffice.bundles import (
    InvalidBundle,
    challenge_bundle_export,
    challenge_bundle_import,
    challenge_bundle_validate,
)
from apps.backoffice.bundles import importer as bundle_importer
from apps.backoffice.bundles.schema import CHALLENGE_KEYS, DIVISION_KEYS, TASK_KEYS
from apps.challenges.models import CONCEALED_DIR, AuditEntry, Challenge, ConcealedVisibility, Task, TaskDataFile
from apps.challenges.services import task_data_file_put
from apps.core.errors import InvalidInput
from apps.divisions.models import Division
from apps.leaderboards.models import TaskWeight
from evaluators import get_evaluator
from evaluators.demo import demo_module
from evaluators.selection_speech.synthetic import generate_task as generate_speech
from tests.conftest import make_user, put_task_data

pytestmark = pytest.mark.django_db

BOOKKEEPING = {"id", "challenge", "created_at", "updated_at", "data_version"}
TASK_BOOKKEEPING = BOOKKEEPING | {"collective_requested", "collective_done", "collective_rescored_at"}
Mutation = Callable[[dict[str, Any], dict[str, bytes]], None]


@pytest.fixture(scope="module")
def concealed_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("concealed") / "task"
    generate_speech(path, config={"language": "en", "train_size": 25}, seed=1, small=True)
    return path


@pytest.fixture(scope="module")
def cleaning_dir(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    module = demo_module(get_evaluator("budget-cleaning"))
    assert module is not None
    spec = module.DEMO_TASKS[0]
    path = tmp_path_factory.mktemp("cleaning") / "task"
    module.generate_task(path, config=spec.config, seed=0, small=True)
    return path, get_evaluator("budget-cleaning").validate_config(spec.config)


def _every_task_setting(speech_task: Task, concealed_dir: Path) -> None:
    """The speech task with a concealed task, extra files of both roles and every setting off its default."""
    for path in sorted(p for p in concealed_dir.rglob("*") if p.is_file() and p.name != "task.yaml"):
        relative = f"{CONCEALED_DIR}/{path.relative_to(concealed_dir).as_posix()}"
        with path.open("rb") as handle:
            task_data_file_put(task=speech_task, relative_path=relative, content=ContentFile(handle.read()))
    task_data_file_put(task=speech_task, relative_path="notes/secret.txt", content=ContentFile(b"hidden notes\n"))
    task_data_file_put(
        task=speech_task, relative_path="notes/readme.txt", content=ContentFile(b"read me\n"), role="public"
    )
    Task.objects.filter(pk=speech_task.pk).update(
        quota_total=20,
        quota_window="calendar-day",
        quota_concurrent=2,
        quota_counts_rejected=True,
        quota_counts_failed=True,
        max_upload_bytes=1234567,
        ranking_rule="selected-final",
        final_selections=3,
        concealed_config={"language": "en", "train_size": 25},
        concealed_visibility=ConcealedVisibility.ORGANIZERS,
        sandbox_cpu_seconds=100,
        sandbox_wall_seconds=200,
        sandbox_memory_mb=512,
        sandbox_processes=8,
        sandbox_output_mb=16,
        description="Select *well*.",
        order=3,
    )


@pytest.fixture
def rich(
    challenge: Challenge,
    speech_task: Task,
    open_division: Division,
    closed_division: Division,
    concealed_dir: Path,
    cleaning_dir: tuple[Path, dict[str, Any]],
) -> Challenge:
    """The speech challenge with every kind of setting off its default: two tasks of two benchmarks, a concealed
    task, extra files of both roles, a leaderboard weight, and a closed division limited to one task."""
    Challenge.objects.filter(pk=challenge.pk).update(
        summary="Pick the clips.",
        description="# Title\n\nSome *markdown*.\n",
        registration="approval",
        max_team_size=3,
        allowed_email_domains="example.org\nexample.edu",
        blocked_email_domains="spam.example",
        time_zone="Europe/Paris",
    )
    _every_task_setting(speech_task, concealed_dir)
    TaskWeight.objects.create(task=speech_task, weight=2.5)
    cleaning_path, cleaning_config = cleaning_dir
    cleaning = Task.objects.create(
        challenge=challenge,
        slug="cleaning",
        title="Cleaning",
        evaluator_slug="budget-cleaning",
        ml_task=Task.MLTask.TABULAR,
        config=cleaning_config,
        is_published=False,
        order=1,
    )
    put_task_data(cleaning, cleaning_path)
    closed_division.tasks.set([speech_task])
    Division.objects.filter(pk=open_division.pk).update(description="Anything goes.")
    challenge.refresh_from_db()
    return challenge


def _row(instance: Model, skip: set[str]) -> dict[str, Any]:
    return {
        field.attname: getattr(instance, field.attname)
        for field in instance._meta.concrete_fields
        if field.name not in skip
    }


def _files(task: Task) -> list[tuple[str, str, str, int]]:
    """(path, role, sha256 of the stored bytes, size) of every data file, the bytes read back from storage."""
    found = []
    for data_file in task.data_files.order_by("relative_path"):
        content = Path(data_file.file.path).read_bytes()
        found.append((data_file.relative_path, data_file.role, hashlib.sha256(content).hexdigest(), len(content)))
    return found


def _state(challenge: Challenge) -> dict[str, Any]:
    """Everything a bundle carries, read from the database and storage (the slug left out)."""
    weights = dict(TaskWeight.objects.filter(task__challenge=challenge).values_list("task__slug", "weight"))
    return {
        "challenge": {k: v for k, v in _row(challenge, BOOKKEEPING).items() if k != "slug"},
        "divisions": [
            (_row(division, BOOKKEEPING), sorted(division.tasks.values_list("slug", flat=True)))
            for division in challenge.divisions.order_by("slug")
        ],
        "tasks": [
            (_row(task, TASK_BOOKKEEPING), weights.get(task.slug, TaskWeight.DEFAULT), _files(task))
            for task in challenge.tasks.order_by("slug")
        ],
    }


@pytest.fixture
def bundle(rich: Challenge, tmp_path: Path) -> Path:
    return challenge_bundle_export(challenge=rich, target=tmp_path / "rich.zip")


def _read(archive: Path) -> tuple[dict[str, Any], dict[str, bytes]]:
    with zipfile.ZipFile(archive) as opened:
        members = {name: opened.read(name) for name in opened.namelist()}
    return yaml.safe_load(members.pop("bundle.yaml")), members


def _rewrite(archive: Path, mutate: Mutation, *, manifest: bool = True) -> Path:
    """A copy of the bundle with `mutate` applied to its parsed manifest and its data members."""
    document, members = _read(archive)
    mutate(document, members)
    target = archive.with_name("changed.zip")
    with zipfile.ZipFile(target, "w") as out:
        if manifest:
            out.writestr("bundle.yaml", yaml.safe_dump(document, sort_keys=False))
        for name, content in members.items():
            out.writestr(name, content)
    return target


def _counts() -> tuple[int, int, int, int, set[str]]:
    root = Path(settings.TASK_DATA_ROOT)
    folders = {path.name for path in root.iterdir()} if root.exists() else set()
    return (
        Challenge.objects.count(),
        Task.objects.count(),
        TaskDataFile.objects.count(),
        AuditEntry.objects.count(),
        folders,
    )


def _remove_orphan_folders() -> None:
    stored = {str(pk) for pk in Task.objects.values_list("pk", flat=True)}
    for folder in Path(settings.TASK_DATA_ROOT).iterdir():
        if folder.name not in stored:
            shutil.rmtree(folder)


# --- Round trips ---------------------------------------------------------------------------------------------


def test_an_exported_challenge_imports_under_a_new_slug_equal_to_the_original(
    rich: Challenge, bundle: Path, organizer: User
) -> None:
    copy = challenge_bundle_import(archive=bundle, organizers=[organizer], slug="speech-copy", actor=organizer)

    assert copy.slug == "speech-copy"
    assert _state(copy) == _state(rich)
    assert list(copy.organizers.all()) == [organizer]
    entry = AuditEntry.objects.get(challenge=copy)
    assert entry.actor == organizer
    assert entry.summary.startswith("Imported the challenge from the bundle rich.zip: 2 task(s), 2 division(s)")


def test_a_bundle_imports_into_another_database_with_its_own_slug(
    rich: Challenge, bundle: Path, participant: User
) -> None:
    expected = _state(rich)
    for task in rich.tasks.all():  # another installation: none of the original's rows or files
        for data_file in task.data_files.all():
            data_file.file.delete(save=False)
    rich.delete()

    imported = challenge_bundle_import(archive=bundle, organizers=[participant], actor=None)

    assert imported.slug == "speech-challenge"
    assert _state(imported) == expected
    assert imported.tasks.get(slug="speech-en-25").concealed_config == {"language": "en", "train_size": 25}
    assert AuditEntry.objects.get(challenge=imported).actor_name == ""


def test_the_bundle_lists_each_file_with_its_role_hash_and_size_and_holds_no_people(
    rich: Challenge, bundle: Path
) -> None:
    document, members = _read(bundle)

    speech = next(task for task in document["tasks"] if task["slug"] == "speech-en-25")
    listed = {entry["path"]: entry for entry in speech["files"]}
    assert listed["eval.yaml"]["role"] == "hidden"
    assert listed["notes/readme.txt"] == {
        "path": "notes/readme.txt",
        "role": "public",
        "sha256": hashlib.sha256(b"read me\n").hexdigest(),
        "size": 8,
    }
    assert members["tasks/speech-en-25/notes/readme.txt"] == b"read me\n"
    assert any(name.startswith("tasks/speech-en-25/concealed/") for name in members)
    assert speech["weight"] == 2.5
    assert dt.datetime.fromisoformat(document["challenge"]["starts_at"]) == rich.starts_at
    assert "organizers" not in document["challenge"]
    assert document["divisions"][1] == {
        "slug": "closed",
        "kind": "closed",
        "name": "Closed",
        "description": "",
        "order": 1,
        "tasks": ["speech-en-25"],
    }


@pytest.mark.parametrize(
    ("model", "keys", "bookkeeping"),
    [
        (Challenge, CHALLENGE_KEYS, BOOKKEEPING),
        (Task, TASK_KEYS, TASK_BOOKKEEPING),
        (Division, DIVISION_KEYS, BOOKKEEPING),
    ],
)
def test_every_setting_of_the_models_travels_in_the_bundle(
    model: type[Model], keys: Any, bookkeeping: set[str]
) -> None:
    # A new column must be added to the bundle's keys or declared bookkeeping here: never silently dropped.
    columns = {field.name for field in model._meta.concrete_fields}
    assert columns - bookkeeping == {key.name for key in keys}


# --- Validation: each fault its own message, nothing created ---------------------------------------------------


def _speech(document: dict[str, Any]) -> dict[str, Any]:
    return next(task for task in document["tasks"] if task["slug"] == "speech-en-25")


def _set(path: str, value: Any) -> Mutation:
    def mutate(document: dict[str, Any], members: dict[str, bytes]) -> None:
        *parents, last = path.split(".")
        target: Any = document
        for part in parents:
            target = _speech(document) if part == "speech" else target[int(part) if part.isdigit() else part]
        target[last] = value

    return mutate


def _drop_member(name: str) -> Mutation:
    def mutate(document: dict[str, Any], members: dict[str, bytes]) -> None:
        del members[name]

    return mutate


def _flip_byte(name: str) -> Mutation:
    def mutate(document: dict[str, Any], members: dict[str, bytes]) -> None:
        content = bytearray(members[name])
        content[-1] ^= 0xFF
        members[name] = bytes(content)

    return mutate


def _make_public(path: str) -> Mutation:
    def mutate(document: dict[str, Any], members: dict[str, bytes]) -> None:
        next(entry for entry in _speech(document)["files"] if entry["path"] == path)["role"] = "public"

    return mutate


def _extra_member(name: str) -> Mutation:
    return lambda document, members: members.update({name: b"?"})


FAULTS: dict[str, tuple[Mutation, str]] = {
    "bad format": (_set("format", 2), "format: unsupported bundle format 2; this platform reads format 1"),
    "unknown evaluator": (_set("speech.evaluator_slug", "nope"), "tasks[1].evaluator_slug: unknown benchmark 'nope'"),
    "bad config": (
        _set("speech.config", {"language": "xx", "train_size": 25}),
        "tasks[1].config: config.language must be one of en, id, pt",
    ),
    "bad concealed config": (
        _set("speech.concealed_config", {"language": "en", "train_size": "many"}),
        "tasks[1].concealed_config: ",
    ),
    "missing file": (
        _drop_member("tasks/speech-en-25/eval.yaml"),
        "tasks[1].files[",  # completed below: the index depends on the sort order
    ),
    "wrong sha256": (
        _flip_byte("tasks/speech-en-25/notes/secret.txt"),
        "(notes/secret.txt): sha256 differs from bundle.yaml: the file is damaged or was changed",
    ),
    "hidden file marked public": (
        _make_public("eval.yaml"),
        "(eval.yaml): is hidden data for this benchmark (ground truth or evaluation set); it cannot be public",
    ),
    "division with an unknown task": (
        _set("divisions.1.tasks", ["speech-en-25", "ghost"]),
        "divisions[1].tasks: unknown task 'ghost' (the bundle's tasks: cleaning, speech-en-25)",
    ),
    "missing key": (lambda document, members: _speech(document).pop("title"), "tasks[1].title: required"),
    "wrong type": (_set("challenge.max_team_size", "three"), "challenge.max_team_size: must be a whole number"),
    "bad choice": (_set("divisions.0.kind", "secret"), "divisions[0].kind: Value 'secret' is not a valid choice."),
    "bad slug": (_set("speech.slug", "no spaces"), "tasks[1].slug: Enter a valid “slug”"),
    "bad time zone": (_set("challenge.time_zone", "Mars/Olympus"), "challenge.time_zone: 'Mars/Olympus' is not a time"),
    "naive date": (_set("challenge.starts_at", "2025-01-01T00:00:00"), "challenge.starts_at: must be a date and time"),
    "dates out of order": (_set("challenge.ends_at", "2000-01-01T00:00:00+00:00"), "challenge.ends_at: must be after"),
    "duplicate task slug": (_set("tasks.0.slug", "speech-en-25"), "tasks[1].slug: 'speech-en-25' is the slug of"),
    "undeclared file": (
        _extra_member("tasks/cleaning/extra.csv"),
        "tasks/cleaning/extra.csv: is in the archive but not listed in bundle.yaml",
    ),
    "negative weight": (_set("speech.weight", -1), "tasks[1].weight: must be at least 0"),
}


@pytest.mark.parametrize("fault", FAULTS)
def test_each_fault_is_named_and_nothing_is_created(bundle: Path, organizer: User, fault: str) -> None:
    mutate, expected = FAULTS[fault]
    changed = _rewrite(bundle, mutate)
    before = _counts()

    with pytest.raises(InvalidBundle) as caught:
        challenge_bundle_import(archive=changed, organizers=[organizer], slug="another", actor=organizer)

    assert any(expected in problem for problem in caught.value.problems), caught.value.problems
    assert _counts() == before
    with pytest.raises(InvalidBundle):
        challenge_bundle_validate(archive=changed, slug="another")


def test_a_missing_file_names_the_member_it_expected(bundle: Path) -> None:
    changed = _rewrite(bundle, _drop_member("tasks/speech-en-25/eval.yaml"))

    with pytest.raises(InvalidBundle) as caught:
        challenge_bundle_validate(archive=changed, slug="another")

    [problem] = [p for p in caught.value.problems if "(eval.yaml)" in p]
    assert problem.startswith("tasks[1].files[")
    assert problem.endswith("(eval.yaml): missing from the archive (expected at tasks/speech-en-25/eval.yaml)")


def test_every_problem_is_listed_at_once(bundle: Path) -> None:
    def two_faults(document: dict[str, Any], members: dict[str, bytes]) -> None:
        _set("speech.evaluator_slug", "nope")(document, members)
        _set("divisions.1.tasks", ["ghost"])(document, members)

    with pytest.raises(InvalidBundle) as caught:
        challenge_bundle_validate(archive=_rewrite(bundle, two_faults), slug="another")

    assert "tasks[1].evaluator_slug: unknown benchmark 'nope'" in caught.value.message
    assert "divisions[1].tasks: unknown task 'ghost'" in caught.value.message


def test_a_bundle_without_its_manifest_is_refused(bundle: Path, organizer: User) -> None:
    changed = _rewrite(bundle, lambda document, members: None, manifest=False)
    before = _counts()

    with pytest.raises(InvalidBundle) as caught:
        challenge_bundle_import(archive=changed, organizers=[organizer], slug="another", actor=organizer)

    assert caught.value.problems == ["bundle.yaml: missing at the root of the archive (is this a challenge bundle?)"]
    assert _counts() == before


def test_a_zip_slip_member_is_refused_before_anything_is_unpacked(
    bundle: Path, organizer: User, tmp_path: Path
) -> None:
    changed = tmp_path / "slip.zip"
    changed.write_bytes(bundle.read_bytes())
    with zipfile.ZipFile(changed, "a") as archive:
        archive.writestr("../../evil.txt", b"pwned")
    before = _counts()

    with pytest.raises(InvalidBundle) as caught:
        challenge_bundle_import(archive=changed, organizers=[organizer], slug="another", actor=organizer)

    assert caught.value.problems == ["the archive: archive member '../../evil.txt' points outside the archive ('..')"]
    assert not (tmp_path.parent / "evil.txt").exists()
    assert _counts() == before


def test_a_taken_slug_is_refused_unless_a_new_one_is_given(rich: Challenge, bundle: Path, organizer: User) -> None:
    before = _counts()

    with pytest.raises(InvalidBundle) as caught:
        challenge_bundle_import(archive=bundle, organizers=[organizer], actor=organizer)

    assert caught.value.problems == [
        "challenge.slug: a challenge with the slug 'speech-challenge' exists already; import this one under a new slug"
    ]
    assert _counts() == before
    assert challenge_bundle_validate(archive=bundle, slug="speech-2").slug == "speech-2"


def test_a_bad_new_slug_is_refused(bundle: Path) -> None:
    with pytest.raises(InvalidBundle) as caught:
        challenge_bundle_validate(archive=bundle, slug="not a slug")

    assert caught.value.problems[0].startswith("slug: Enter a valid “slug”")


def test_data_the_evaluator_cannot_load_is_refused(bundle: Path) -> None:
    # Declared with the right hash and size, and the right role, but not what the benchmark reads.
    garbage = b"this is not parquet"

    def corrupt(document: dict[str, Any], members: dict[str, bytes]) -> None:
        entry = next(e for e in _speech(document)["files"] if e["path"].startswith("train_embeddings/"))
        members[f"tasks/speech-en-25/{entry['path']}"] = garbage
        entry.update(sha256=hashlib.sha256(garbage).hexdigest(), size=len(garbage))

    with pytest.raises(InvalidBundle) as caught:
        challenge_bundle_validate(archive=_rewrite(bundle, corrupt), slug="another")

    [problem] = [p for p in caught.value.problems if p.startswith("tasks[1] (speech-en-25): data: ")]
    assert "tasks/speech-en-25/train_embeddings/" in problem
    assert "/tmp" not in problem


def test_yaml_aliases_are_refused(bundle: Path, tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w") as archive:
        archive.writestr("bundle.yaml", "format: 1\na: &a [x, x]\nb: [*a, *a]\n")

    with pytest.raises(InvalidBundle) as caught:
        challenge_bundle_validate(archive=bomb)

    assert "aliases (*name) are not allowed" in caught.value.message


def test_a_failure_while_creating_leaves_no_rows_and_no_files(
    bundle: Path, organizer: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(**_: Any) -> None:
        raise RuntimeError("disk full")

    # The last step, after every file was written.
    monkeypatch.setattr(bundle_importer, "audit_record", fail)
    _remove_orphan_folders()  # ids repeat across rolled-back tests on SQLite; their folders would confuse the count
    before = _counts()

    with pytest.raises(RuntimeError, match="disk full"):
        challenge_bundle_import(archive=bundle, organizers=[organizer], slug="another", actor=organizer)

    assert _counts() == before


def test_an_import_needs_an_organizer(bundle: Path) -> None:
    with pytest.raises(InvalidInput, match="at least one organizer"):
        challenge_bundle_import(archive=bundle, organizers=[], slug="another", actor=None)


# --- Management commands ------------------------------------------------------------------------------------


def test_the_commands_export_and_import_a_challenge(rich: Challenge, organizer: User, tmp_path: Path) -> None:
    target = tmp_path / "out" / "speech.zip"
    out = io.StringIO()

    call_command("export_challenge", "speech-challenge", str(target), stdout=out)
    call_command("import_challenge", str(target), "--organizer", "orga", "--slug", "speech-2", stdout=out)

    lines = out.getvalue().splitlines()
    assert lines[0].startswith(f"Exported speech-challenge (2 task(s)) to {target} (")
    assert lines[1] == f"Imported speech-2 from {target}: 2 task(s), 2 division(s), organizers orga."
    assert _state(Challenge.objects.get(slug="speech-2")) == _state(rich)


def test_the_import_command_can_only_check(rich: Challenge, bundle: Path, organizer: User) -> None:
    out = io.StringIO()
    before = _counts()

    call_command("import_challenge", str(bundle), "--organizer", "orga", "--slug", "x2", "--check", stdout=out)

    assert out.getvalue().startswith(f"{bundle} is valid: challenge x2, 2 task(s), 2 division(s), ")
    assert _counts() == before


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["export_challenge", "nope", "x.zip"], "No challenge has the slug 'nope'."),
        (["import_challenge", "{bundle}", "--organizer", "ghost"], "No user named 'ghost'."),
        (["import_challenge", "{tmp}/none.zip", "--organizer", "orga"], "none.zip: no such file."),
        (["import_challenge", "{bundle}", "--organizer", "orga"], "a challenge with the slug 'speech-challenge'"),
    ],
)
def test_the_commands_report_clear_errors(
    bundle: Path, organizer: User, tmp_path: Path, arguments: list[str], message: str
) -> None:
    filled = [arg.format(bundle=bundle, tmp=tmp_path) for arg in arguments]

    with pytest.raises(CommandError, match=message.replace("(", r"\(").replace(".", r"\.")):
        call_command(*filled)


# --- Admin --------------------------------------------------------------------------------------------------


def test_staff_download_a_challenge_as_a_bundle(staff: Client, rich: Challenge) -> None:
    response = staff.post(
        reverse("admin:challenges_challenge_changelist"), {"action": "export_bundle", "_selected_action": [rich.pk]}
    )

    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="speech-challenge.zip"'
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))  # type: ignore[attr-defined]
    assert "tasks/speech-en-25/eval.yaml" in archive.namelist()
    assert yaml.safe_load(archive.read("bundle.yaml"))["challenge"]["slug"] == "speech-challenge"


def test_the_export_action_takes_one_challenge_at_a_time(staff: Client, rich: Challenge) -> None:
    other = Challenge.objects.create(slug="other", title="Other", starts_at=rich.starts_at, ends_at=rich.ends_at)

    response = staff.post(
        reverse("admin:challenges_challenge_changelist"),
        {"action": "export_bundle", "_selected_action": [rich.pk, other.pk]},
        follow=True,
    )

    assert "Select exactly one challenge to export." in response.text


def test_staff_import_a_bundle_from_the_changelist_and_become_its_organizers(
    staff: Client, staff_user: User, bundle: Path
) -> None:
    changelist = staff.get(reverse("admin:challenges_challenge_changelist"))
    url = reverse("admin:challenges_challenge_import_bundle")
    assert url in changelist.text
    assert staff.get(url).status_code == 200

    upload = SimpleUploadedFile("rich.zip", bundle.read_bytes(), content_type="application/zip")
    response = staff.post(url, {"bundle": upload, "slug": "imported"})

    imported = Challenge.objects.get(slug="imported")
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:challenges_challenge_change", args=[imported.pk])
    assert list(imported.organizers.all()) == [staff_user]
    entry = AuditEntry.objects.get(challenge=imported)
    assert (entry.actor, entry.details["imported"]) == (staff_user, "rich.zip")


def test_the_import_page_lists_the_problems_and_creates_nothing(staff: Client, bundle: Path) -> None:
    changed = _rewrite(bundle, _make_public("eval.yaml"))
    before = _counts()

    response = staff.post(
        reverse("admin:challenges_challenge_import_bundle"),
        {"bundle": SimpleUploadedFile("bad.zip", changed.read_bytes()), "slug": "imported"},
    )

    assert response.status_code == 200
    assert "nothing was created" in response.text
    assert "it cannot be public" in response.text
    assert _counts() == before


def test_only_staff_reach_the_import_page_and_the_export_action(client: Client, rich: Challenge, bundle: Path) -> None:
    client.force_login(make_user("plain"))
    url = reverse("admin:challenges_challenge_import_bundle")

    refused = client.post(url, {"bundle": SimpleUploadedFile("b.zip", bundle.read_bytes()), "slug": "sneaky"})
    export = client.post(
        reverse("admin:challenges_challenge_changelist"), {"action": "export_bundle", "_selected_action": [rich.pk]}
    )

    assert refused.status_code == 302 and "/admin/login/" in refused["Location"]
    assert export.status_code == 302 and "/admin/login/" in export["Location"]
    assert not Challenge.objects.filter(slug="sneaky").exists()
