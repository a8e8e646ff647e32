"""Directory artifacts through the platform's intake: an archive of the folder itself (`zip -r rankings.zip
rankings`, what most archive tools make) is accepted like an archive of its content, for every benchmark that
takes a directory; the one rule is `evaluators.inputs.wrapping_folder`."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from django.contrib.auth.models import User

from apps.challenges.models import Challenge, Task
from apps.divisions.models import Division
from apps.submissions.models import Submission
from apps.submissions.services.intake import SubmissionInput, submission_create
from evaluators import get_evaluator
from evaluators.taskdir import load_task_dir
from tests.apps.conftest import upload
from tests.conftest import put_task_data

pytestmark = pytest.mark.django_db
CASES = Path(__file__).resolve().parents[2] / "fixtures" / "reference_cases"
# A valid reference submission of every benchmark whose artifact is a directory.
DIRECTORY_CASES = {
    "acquisition": ("two_markets", "uniform10"),
    "adversarial-test-set": ("small_pool", "mixed"),
    "debugging-vision": ("synC", "oracle"),
    "selection-vision": ("pool4000_3concepts", "balanced200"),
    "training-set-creation": ("digits_features", "relabelled_with_new_rows"),
}


def _zip(folder: Path, *, wrapper: str | None, noise: bool = False) -> bytes:
    """The folder's files zipped at the root, or under `wrapper/` with its directory entry (as `zip -r`)."""
    buffer = io.BytesIO()
    prefix = f"{wrapper}/" if wrapper else ""
    with zipfile.ZipFile(buffer, "w") as archive:
        if wrapper:
            archive.writestr(prefix, b"")
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            archive.write(path, prefix + path.relative_to(folder).as_posix())
        if noise:
            archive.writestr(f"__MACOSX/{prefix}._first", b"\x00\x05")
            archive.writestr(".DS_Store", b"\x00")
    return buffer.getvalue()


def _task(challenge: Challenge, slug: str, case: str) -> Task:
    task_dir = CASES / slug / case / "task"
    task = Task.objects.create(
        challenge=challenge,
        slug=slug,
        title=slug,
        evaluator_slug=slug,
        ml_task=Task.MLTask.IMAGE_CLASSIFICATION,
        config=load_task_dir(task_dir).config,
    )
    put_task_data(task, task_dir)
    return task


def _submit(task: Task, division: Division, user: User, content: bytes) -> Submission:
    data = SubmissionInput(
        artifact=upload(content, "submission.zip"), artifact_name="submission.zip", method_description="m"
    )
    return submission_create(task=task, division=division, user=user, data=data)


def test_the_cases_cover_every_benchmark_that_takes_a_directory() -> None:
    slugs = {slug for slug in DIRECTORY_CASES if get_evaluator(slug).submission_is_directory}
    builtin = {path.name for path in CASES.iterdir() if get_evaluator(path.name).submission_is_directory}
    assert slugs == builtin == set(DIRECTORY_CASES)


@pytest.mark.parametrize("slug", sorted(DIRECTORY_CASES))
@pytest.mark.parametrize("wrapper", [None, "my-submission"], ids=["flat", "wrapped"])
def test_an_archive_of_the_folder_is_accepted_like_an_archive_of_its_content(
    challenge: Challenge, open_division: Division, registered: User, slug: str, wrapper: str | None
) -> None:
    case, submission_name = DIRECTORY_CASES[slug]
    task = _task(challenge, slug, case)
    content = _zip(CASES / slug / case / "submissions" / submission_name, wrapper=wrapper)

    submission = _submit(task, open_division, registered, content)

    assert (submission.status, submission.message) == (Submission.Status.QUEUED, "")


def test_archiver_noise_beside_the_wrapping_folder_does_not_hide_it(
    challenge: Challenge, open_division: Division, registered: User
) -> None:
    task = _task(challenge, "debugging-vision", "synC")
    rankings = CASES / "debugging-vision" / "synC" / "submissions" / "oracle"

    submission = _submit(task, open_division, registered, _zip(rankings, wrapper="rankings", noise=True))

    assert submission.status == Submission.Status.QUEUED


def test_a_folder_beside_the_ranking_files_is_still_refused_with_the_specific_message(
    challenge: Challenge, open_division: Division, registered: User
) -> None:
    task = _task(challenge, "debugging-vision", "synC")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.write(CASES / "debugging-vision" / "synC" / "submissions" / "oracle" / "synC_oracle.txt", "synC_a.txt")
        archive.writestr("extra/notes.txt", b"x")

    submission = _submit(task, open_division, registered, buffer.getvalue())

    assert submission.status == Submission.Status.REJECTED
    assert '"extra" is a directory: put the ranking files at the top level of the archive' in submission.message
