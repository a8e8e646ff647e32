"""A task with a private split, through the real evaluator and the pipeline: every evaluation stores public and
private scores (each computed on its own part, as the evaluator computes them offline), keeps the whole set's
values sealed, and lands on both boards; without a split nothing changes."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User

from apps.challenges.evaluators import task_loaded
from apps.challenges.models import Task
from apps.jobs.pipeline import evaluate_and_rank
from apps.leaderboards.models import LeaderboardEntry
from apps.submissions.models import Score, Submission
from apps.submissions.selectors import submission_metrics
from apps.submissions.services.evaluation import WHOLE_SET_KEY
from evaluators import EvaluationResult
from evaluators.taskdir import clear_task_cache

pytestmark = pytest.mark.django_db
Submit = Callable[..., Submission]


@pytest.fixture
def split_task(speech_task: Task) -> Task:
    speech_task.config = {**speech_task.config, "private_fraction": 0.5, "split_seed": 424242}
    speech_task.save(update_fields=["config"])
    clear_task_cache()
    return speech_task


def _scores(submission: Submission) -> dict[str, dict[str, float]]:
    submission.refresh_from_db()
    assert submission.current_evaluation_id is not None
    found: dict[str, dict[str, float]] = {}
    scores = Score.objects.filter(evaluation_id=submission.current_evaluation_id)
    for split, metric, value in scores.values_list("split", "metric", "value"):
        found.setdefault(split, {})[metric] = value
    return found


def _offline(task: Task, selection: dict[str, Any], tmp_path: Path) -> EvaluationResult:
    evaluator, loaded = task_loaded(task)
    path = tmp_path / "selection.json"
    path.write_text(json.dumps(selection), encoding="utf-8")
    return evaluator.evaluate(loaded, evaluator.validate(loaded, path))


def test_each_part_is_scored_as_offline_and_the_whole_set_is_sealed(
    split_task: Task, submit: Submit, registered: User, speech_selections: dict[str, Any], tmp_path: Path
) -> None:
    selection = speech_selections["first-k"]
    submission = submit(registered, selection)

    evaluate_and_rank(submission_id=submission.pk)

    expected = _offline(split_task, selection, tmp_path)
    scores = _scores(submission)
    assert set(scores) == {"public", "private"}
    for split in ("public", "private"):
        part = expected.splits[split]
        assert scores[split] == {"macro_f1": part.primary, **part.metrics}
    assert scores["public"]["macro_f1"] != expected.primary  # a part, not the whole set
    evaluation = submission.current_evaluation
    assert evaluation is not None
    assert evaluation.details["sealed"][WHOLE_SET_KEY]["primary"] == expected.primary
    boards = LeaderboardEntry.objects.filter(submission=submission).values_list("leaderboard__split", "primary")
    assert dict(boards) == {"public": scores["public"]["macro_f1"], "private": scores["private"]["macro_f1"]}


def test_the_team_sees_the_public_part_only_while_the_organizers_see_everything(
    split_task: Task, submit: Submit, registered: User, organizer: User, speech_selections: dict[str, Any]
) -> None:
    submission = submit(registered, speech_selections["first-k"])
    evaluate_and_rank(submission_id=submission.pk)
    submission.refresh_from_db()
    public = _scores(submission)["public"]["macro_f1"]

    team_view = submission_metrics(submission=submission, viewer=registered)
    organizer_view = submission_metrics(submission=submission, viewer=organizer)

    assert team_view["primary"]["value"] == public
    assert team_view["private"] is None and team_view["whole_set"] is None
    assert "sealed" not in team_view["details"]
    assert organizer_view["private"]["primary"]["value"] == _scores(submission)["private"]["macro_f1"]
    assert submission.current_evaluation is not None
    whole_set = submission.current_evaluation.details["sealed"][WHOLE_SET_KEY]
    assert organizer_view["whole_set"]["primary"]["value"] == whole_set["primary"]


def test_without_a_split_the_public_score_is_the_whole_set_and_nothing_is_sealed(
    speech_task: Task, submit: Submit, registered: User, speech_selections: dict[str, Any], tmp_path: Path
) -> None:
    selection = speech_selections["first-k"]
    submission = submit(registered, selection)

    evaluate_and_rank(submission_id=submission.pk)

    expected = _offline(speech_task, selection, tmp_path)
    assert expected.splits == {}
    assert _scores(submission) == {"public": {"macro_f1": expected.primary, **expected.metrics}}
    assert submission.current_evaluation is not None
    assert WHOLE_SET_KEY not in submission.current_evaluation.details.get("sealed", {})
