"""The private split's new code paths (issue 13) under generated input, as the validators are fuzzed:

- `SplitConfig.from_mapping` on any JSON-ish value for `private_fraction` and `split_seed`: a valid
  `SplitConfig` or a `TaskConfigError`, never another exception;
- `challenges.services.task_config_validate` with a split on every benchmark's demo config: a normalised dict
  that keeps the seed, or `InvalidInput`;
- the private board's rule (`ranking._final_choices` through `rank_candidates(competing=...)`) on random
  candidate sets: one row per team, each team's row is the best private score among its selected submissions
  (or its `allowed` best public ones), ranks 1..k with ties shared, baselines kept;
- the API's select-final endpoint with random ids, bodies and callers: never a 5xx, never more selections
  than the task allows, and the stored boards always equal to the ones from scratch.

Derandomized: the same examples on every run.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
from collections import Counter
from typing import Any

import pytest
from django.db import transaction
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from apps.challenges.models import Task
from apps.challenges.services import task_config_validate
from apps.core.errors import InvalidInput
from apps.leaderboards import ranking
from apps.leaderboards.ranking import Candidate, rank_candidates
from apps.leaderboards.selectors import leaderboard_view, leaderboard_view_from_scratch
from apps.leaderboards.services import leaderboards_rebuild_for_task
from apps.submissions.models import Score, Submission
from evaluators import available_slugs, get_evaluator
from evaluators.base import TaskConfigError
from evaluators.demo import demo_module
from evaluators.splits import PRIVATE_FRACTION_KEY, SPLIT_SEED_KEY, SplitConfig, participant_config
from tests.api.conftest import World, _fresh_state, _no_broker, world
from tests.apps.conftest import PRIMARY, make_scored_submission

# Re-exported: pytest finds fixtures by the module's attributes (the API world and its autouse fixtures).
__all__ = ["_fresh_state", "_no_broker", "world"]

FUZZ = settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
TOO_LARGE_FOR_A_FLOAT = 10**400
"""An integer JSON reads exactly but no float holds (json.loads("1" + "0" * 400))."""

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(2**64), max_value=2**64)
    | st.floats()
    | st.floats(min_value=-0.5, max_value=1.5)
    | st.text(max_size=8)
    | st.sampled_from([0, 0.0, -0.0, 0.5, 1, 1.0, 0.999999, 2**63 - 1, 2**63, -1, "0.5", "1", TOO_LARGE_FOR_A_FLOAT])
)
JSONISH = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)
VALID_FRACTIONS = st.floats(min_value=0, max_value=1, exclude_max=True) | st.sampled_from([0, 0.5, 5e-324])
VALID_SEEDS = st.integers(min_value=0, max_value=2**63 - 1)
SPLIT_KEYS = st.fixed_dictionaries(
    {},
    optional={
        PRIVATE_FRACTION_KEY: VALID_FRACTIONS | JSONISH,
        SPLIT_SEED_KEY: VALID_SEEDS | JSONISH,
    },
)


# --- The split settings ------------------------------------------------------------------------------------


def _assert_a_sound_split(split: SplitConfig, raw: dict[str, Any]) -> None:
    assert 0 <= split.private_fraction < 1 and math.isfinite(split.private_fraction)
    assert 0 <= split.seed < 2**63 and type(split.seed) is int
    if split.enabled:
        assert raw[SPLIT_SEED_KEY] == split.seed, "a private fraction without its seed"
        assert split.as_dict() == {PRIVATE_FRACTION_KEY: split.private_fraction, SPLIT_SEED_KEY: split.seed}
    elif split.withheld:
        assert raw[SPLIT_SEED_KEY] is None and split.private_fraction > 0, "withheld without a null seed"
        assert split.as_dict() == {PRIVATE_FRACTION_KEY: split.private_fraction, SPLIT_SEED_KEY: None}
    else:
        assert split.as_dict() == {}


@FUZZ
@given(config=SPLIT_KEYS, other=st.dictionaries(st.text(max_size=5), JSONISH, max_size=2))
@example(config={PRIVATE_FRACTION_KEY: TOO_LARGE_FOR_A_FLOAT}, other={})
@example(config={PRIVATE_FRACTION_KEY: 0.5, SPLIT_SEED_KEY: TOO_LARGE_FOR_A_FLOAT}, other={})
def test_split_settings_are_a_split_or_a_task_config_error(config: dict[str, Any], other: dict[str, Any]) -> None:
    raw = {**other, **config}
    try:
        split = SplitConfig.from_mapping(raw)
    except TaskConfigError as exc:
        assert str(exc).startswith("config."), f"the message names no key: {exc}"
        return
    _assert_a_sound_split(split, raw)
    shown = participant_config(raw)
    assert shown.get(SPLIT_SEED_KEY) is None, "the seed reaches participants"
    # What participants get validates offline (the whole set is scored there).
    assert not SplitConfig.from_mapping(shown).enabled


# --- A task's config with a split, on every benchmark -------------------------------------------------------

SLUGS = [slug for slug in available_slugs() if get_evaluator(slug).demo_module]


def _demo_config(slug: str) -> dict[str, Any]:
    module = demo_module(get_evaluator(slug))
    assert module is not None
    return dict(module.DEMO_TASKS[0].config)


@pytest.mark.parametrize("slug", SLUGS)
@FUZZ
@given(split=SPLIT_KEYS)
@example(split={PRIVATE_FRACTION_KEY: TOO_LARGE_FOR_A_FLOAT, SPLIT_SEED_KEY: 1})
def test_a_config_with_a_split_is_normalised_with_its_seed_or_invalid(slug: str, split: dict[str, Any]) -> None:
    raw = {**_demo_config(slug), **split}
    try:
        normalised = task_config_validate(evaluator_slug=slug, config=raw)
    except InvalidInput as exc:
        assert exc.message.strip()
        return
    assert isinstance(normalised, dict)
    asked, kept = SplitConfig.from_mapping(raw), SplitConfig.from_mapping(normalised)
    if asked.enabled:
        assert kept == asked, "the split changed on its way through the evaluator"
        assert normalised[SPLIT_SEED_KEY] == raw[SPLIT_SEED_KEY]
    else:
        assert PRIVATE_FRACTION_KEY not in normalised and SPLIT_SEED_KEY not in normalised
    assert task_config_validate(evaluator_slug=slug, config=normalised) == normalised, "not a fixed point"


# --- The private board's rule ------------------------------------------------------------------------------

T0 = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
VALUES = st.sampled_from([0.0, 0.25, 0.5, 0.75, 1.0]) | st.floats(min_value=0, max_value=1)


@st.composite
def boards(draw: st.DrawFn) -> tuple[list[Candidate], dict[int, float], int, bool]:
    """Candidates of a private board (team, baseline, minute submitted, private value, selected), the public
    values of some of them, the number of final selections and the metric's direction."""
    rows = draw(
        st.lists(st.tuples(st.integers(1, 4), st.booleans(), st.integers(0, 5), VALUES, st.booleans()), max_size=14)
    )
    found = [
        Candidate(pk, team, baseline, T0 + dt.timedelta(minutes=minute), value, {PRIMARY: value}, final)
        for pk, (team, baseline, minute, value, final) in enumerate(rows, start=1)
    ]
    # A submission may lack a public value (none counts as the worst).
    public = {c.submission_id: draw(VALUES) for c in found if draw(st.integers(0, 5))}
    return found, public, draw(st.integers(1, 4)), draw(st.booleans())


def _chosen_pool(own: list[Candidate], public: dict[int, float], allowed: int, higher: bool) -> list[Candidate]:
    """The rule, stated again: the team's selected submissions (else all of them), its `allowed` best by public
    value (none counts as the worst), ties to the earlier submission."""
    pool = [c for c in own if c.is_selected_final] or own
    worst = -math.inf if higher else math.inf

    def public_value(c: Candidate) -> float:
        value = public.get(c.submission_id, worst)
        return -value if higher else value

    return sorted(pool, key=lambda c: (public_value(c), c.submitted_at, c.submission_id))[:allowed]


@FUZZ
@given(board=boards())
def test_the_private_board_ranks_each_team_by_its_final_choices(
    board: tuple[list[Candidate], dict[int, float], int, bool],
) -> None:
    found, public, allowed, higher = board
    rows = rank_candidates(
        found,
        higher_is_better=higher,
        competing=lambda c: ranking._final_choices(c, public=public, allowed=allowed, higher_is_better=higher),
    )
    teams = [c.team_id for _, c, _ in rows if not c.is_baseline]
    assert sorted(teams) == sorted({c.team_id for c in found if not c.is_baseline}), "one row per team"
    assert {c.submission_id for _, c, _ in rows if c.is_baseline} == {c.submission_id for c in found if c.is_baseline}
    best = max if higher else min
    for _, row, count in rows:
        if row.is_baseline:
            continue
        own = [c for c in found if c.team_id == row.team_id and not c.is_baseline]
        pool = _chosen_pool(own, public, allowed, higher)
        assert row in pool, f"team {row.team_id} is shown by #{row.submission_id}, not one of its final choices"
        assert row.primary == best(c.primary for c in pool)
        assert count == len(own)
    ranks = [rank for rank, _, _ in rows]
    for index, (rank, row, _) in enumerate(rows):
        if index == 0:
            assert rank == 1
        elif row.primary == rows[index - 1][1].primary:
            assert rank == ranks[index - 1], "equal values share a rank"
        else:
            assert rank == index + 1
            assert (row.primary < rows[index - 1][1].primary) == higher, "rows out of order"


@FUZZ
@given(board=boards())
def test_final_choices_keep_the_baselines_and_at_most_the_allowed_per_team(
    board: tuple[list[Candidate], dict[int, float], int, bool],
) -> None:
    found, public, allowed, higher = board
    kept = ranking._final_choices(found, public=public, allowed=allowed, higher_is_better=higher)
    assert [c for c in found if c.is_baseline] == [c for c in kept if c.is_baseline]
    for team in {c.team_id for c in found if not c.is_baseline}:
        own = [c for c in found if c.team_id == team and not c.is_baseline]
        assert {c.submission_id for c in kept if c.team_id == team and not c.is_baseline} == {
            c.submission_id for c in _chosen_pool(own, public, allowed, higher)
        }


# --- The select-final endpoint ------------------------------------------------------------------------------

ROLES = ("anonymous", "participant_a", "participant_b", "organizer", "staff")
ANSWERS = {200, 400, 401, 403, 404, 415}
"""Done; a bad body or a refusal of the service (over the budget, a withdrawn or rejected submission); no
credentials; not a member of the team (an organizer); not the caller's submission; not JSON."""
BODIES = (
    st.builds(lambda selected: ("application/json", json.dumps({"selected": selected}).encode()), st.booleans())
    | st.builds(lambda selected: ("application/json", json.dumps({"selected": selected}).encode()), JSONISH)
    | st.builds(lambda value: ("application/json", json.dumps(value).encode()), JSONISH)
    | st.tuples(st.sampled_from(["application/json", "text/plain", "multipart/form-data", ""]), st.binary(max_size=40))
)


@pytest.fixture
def selectable(world: World) -> list[int]:
    """The world's task with a private split and one final selection per team; A holds four scored
    submissions (one withdrawn, one rejected), B one; each has a private score, and the boards are built.
    Their ids."""
    task = world.task
    config = {**task.config, PRIVATE_FRACTION_KEY: 0.5, SPLIT_SEED_KEY: 123456789}
    Task.objects.filter(pk=task.pk).update(config=config, final_selections=1)
    task.refresh_from_db()
    alice, bob = world.user("participant_a"), world.user("participant_b")
    made = [world.submission]
    for index, user in enumerate([alice, alice, alice, bob]):
        made.append(make_scored_submission(task=task, division=world.division, user=user, primary=0.2 + index / 10))
    Submission.objects.filter(pk=made[2].pk).update(is_withdrawn=True)
    Submission.objects.filter(pk=made[3].pk).update(status=Submission.Status.REJECTED)
    for index, submission in enumerate(made):
        assert submission.current_evaluation_id is not None
        Score.objects.create(
            evaluation_id=submission.current_evaluation_id, split=Score.Split.PRIVATE, metric=PRIMARY, value=index / 7
        )
    leaderboards_rebuild_for_task(task=task)
    return [submission.pk for submission in made]


def _rows(world: World, split: str) -> tuple[Any, Any]:
    served = leaderboard_view(task=world.task, division=world.division, split=split)
    scratch = leaderboard_view_from_scratch(task=world.task, division=world.division, split=split)
    return (
        json.loads(json.dumps(dataclasses.asdict(served)["rows"], default=str)),
        json.loads(json.dumps(dataclasses.asdict(scratch)["rows"], default=str)),
    )


def _check_invariants(world: World, *, changed: bool) -> None:
    """No team over the budget, nothing withdrawn selected; after a change, the stored boards (rebuilt in the
    change's transaction) equal the ones from scratch."""
    for team_id in Submission.objects.filter(task=world.task).values_list("team_id", flat=True).distinct():
        selected = Submission.objects.filter(task=world.task, team_id=team_id, is_selected_final=True)
        assert selected.count() <= world.task.final_selections
        assert not selected.filter(is_withdrawn=True).exists()
    if not changed:
        return
    for split in (Score.Split.PUBLIC, Score.Split.PRIVATE):
        served, scratch = _rows(world, split)
        assert served == scratch, f"the stored {split} board differs from the one from scratch"


def _post(client: APIClient, submission_id: int, body: tuple[str, bytes]) -> int:
    content_type, data = body
    url = f"/api/v1/submissions/{submission_id}/select-final/"
    # Django's client sends bytes as they are; DRF's stubs say str.
    return client.generic("POST", url, data, content_type=content_type).status_code  # type: ignore[arg-type]


def test_select_final_never_fails_nor_breaks_the_budget_or_the_boards(world: World, selectable: list[int]) -> None:
    """Sequences of calls, each rolled back after its checks; every answer of `ANSWERS` is met at least once
    (a fuzzer that is only ever refused would test nothing)."""
    answers: Counter[int] = Counter()
    # One client per role: each new client loads the middleware again (whitenoise walks the static files).
    clients = {role: world.client(role) for role in ROLES}
    ids = st.sampled_from(selectable) | st.integers(min_value=0) | st.sampled_from([0, 2**63, 10**30])

    @settings(FUZZ, max_examples=120)
    @given(calls=st.lists(st.tuples(st.sampled_from(ROLES), ids, BODIES), min_size=1, max_size=6))
    def calls_keep_the_invariants(calls: list[tuple[str, int, tuple[str, bytes]]]) -> None:
        with transaction.atomic():
            for role, submission_id, body in calls:
                status = _post(clients[role], submission_id, body)
                assert status in ANSWERS, f"{role} POST #{submission_id} {body!r}: {status}"
                answers[status] += 1
                _check_invariants(world, changed=status == 200)
            transaction.set_rollback(True)

    calls_keep_the_invariants()
    assert set(answers) == ANSWERS, answers
