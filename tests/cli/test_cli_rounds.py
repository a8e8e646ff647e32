"""`dataperf rounds` and `dataperf validate` against a live test server (no worker: the ratchet's rows are made by
the factories, and the broker is replaced, so an answer that decides an item sends nothing)."""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.core.files.base import ContentFile

from apps.challenges.models import Challenge
from apps.challenges.services import participation_register
from apps.divisions.models import Division
from apps.ratchets.models import Answer, Item, Promotion, Ratchet, Round
from apps.submissions.models import Submission
from apps.submissions.services import dispatch
from dataperf_cli.main import main
from tests.apps.conftest import make_scored_submission
from tests.apps.ratchets.factories import make_item, make_ratchet, make_round
from tests.cli.conftest import DATAPERF, Cli, Result
from tests.conftest import make_user

pytestmark = [pytest.mark.e2e]


@pytest.fixture(autouse=True)
def _no_broker(monkeypatch: pytest.MonkeyPatch) -> None:
    """The live server runs in this process: what an answer would send is dropped here."""
    monkeypatch.setattr(dispatch, "_send", lambda name, queue, object_id, countdown: None)


def _login(cli: Cli, token: str) -> None:
    result = cli("login", "--url", cli.url, "--token", token)
    assert result.code == 0, result.err


def _typed(cli: Cli, lines: list[str], *args: str) -> Result:
    """`dataperf ARGS` with LINES typed on its standard input."""
    done = subprocess.run(
        [str(DATAPERF), *args],
        input="".join(f"{line}\n" for line in lines),
        cwd=cli.home,
        env=cli.env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return Result(done.returncode, done.stdout, done.stderr)


@pytest.fixture
def ratchet(challenge: Challenge, registered: User) -> Ratchet:
    """A column whose round 1 is closed (two items: one accepted and promoted, one rejected) and round 2 open."""
    column = make_ratchet(challenge)
    first = make_round(column, 1, Round.Status.CLOSED)
    second = make_round(column, 2, Round.Status.OPEN)
    accepted = make_item(first, claimed="vii", status=Item.Status.ACCEPTED)
    make_item(first, claimed="ii", fooled=False, status=Item.Status.REJECTED)
    Promotion.objects.create(round=second, item=accepted, test_id="r1-1", label="vii")
    return column


@pytest.fixture
def bobs(ratchet: Ratchet, other_participant: User, open_division: Division) -> Submission:
    """Bob's test-set submission: its items are for Alice to validate."""
    participation_register(challenge=ratchet.challenge, user=other_participant, accept_rules=True)
    return make_scored_submission(task=ratchet.test_task, division=open_division, user=other_participant, primary=0.5)


def test_rounds_lists_each_ratchets_rounds_with_their_figures(
    cli: Cli, registered: User, ratchet: Ratchet, token_of: Callable[[User], str]
) -> None:
    planned = make_round(ratchet, 3, Round.Status.DRAFT)
    planned.starts_at = planned.ends_at = dt.datetime(2031, 5, 4, 12, tzinfo=dt.UTC)
    planned.save()
    _login(cli, token_of(registered))

    result = cli("rounds", ratchet.challenge.slug)

    assert result.code == 0, result.err
    header, _, first, second, third, legend = result.out.splitlines()
    assert header.split() == [
        "RATCHET",
        "ROUND",
        "STATUS",
        "OPENED",
        "CLOSED",
        "COLLECTED",
        "ACCEPTED",
        "PROMOTED",
        "MER",
        "vMER",
    ]
    day = r"\d{4}-\d\d-\d\d"
    assert re.fullmatch(rf"roman +1 +closed +{day} +{day} +2 +1 +1 +50\.0% +100\.0%", first), first
    assert re.fullmatch(rf"roman +2 +open +{day} +0 +0 +0", second), second
    assert re.fullmatch(r"roman +3 +draft +\(starts 2031-05-04\) +\(ends 2031-05-04\) +0 +0 +0", third), third
    assert legend.startswith("MER: ")

    as_json = cli("rounds", ratchet.challenge.slug, "--json")
    assert as_json.code == 0, as_json.err
    [described] = json.loads(as_json.out)
    assert described["slug"] == "roman"
    assert [(r["number"], r["test_data"]["added"]) for r in described["rounds"]] == [(1, 0), (2, 1), (3, 0)]


def test_rounds_of_a_challenge_without_ratchets_or_unknown(
    cli: Cli, registered: User, challenge: Challenge, token_of: Callable[[User], str]
) -> None:
    _login(cli, token_of(registered))

    none = cli("rounds", challenge.slug)
    assert (none.code, none.out) == (0, "speech-challenge has no ratchets.\n")
    unknown = cli("rounds", "nope")
    assert unknown.code == 4 and unknown.err.startswith("dataperf: not found: ")


def test_validate_records_one_answer_from_a_script(
    cli: Cli, registered: User, ratchet: Ratchet, bobs: Submission, token_of: Callable[[User], str]
) -> None:
    item = make_item(ratchet.rounds.get(number=2), bobs, claimed="iv")
    _login(cli, token_of(registered))

    result = cli(
        "validate", ratchet.challenge.slug, "roman", "--item", str(item.pk), "--verdict", "incorrect", "--label", "vi"
    )

    assert result.code == 0, result.err
    assert result.out == f"Item #{item.pk}: recorded incorrect, the right label is vi. 0 left for you.\n"
    answer = Answer.objects.get()
    assert (answer.item_id, answer.user, answer.verdict, answer.label) == (item.pk, registered, "incorrect", "vi")

    again = cli("validate", ratchet.challenge.slug, "roman", "--item", str(item.pk), "--verdict", "correct")
    assert again.code == 2
    assert again.err == "dataperf: You have already answered this item.\n"
    half = cli("validate", ratchet.challenge.slug, "roman", "--verdict", "correct")
    assert half.code == 2 and "give both --item ID and --verdict" in half.err


def test_validate_refuses_your_own_teams_item_and_answers_too_fast(
    cli: Cli,
    registered: User,
    ratchet: Ratchet,
    bobs: Submission,
    open_division: Division,
    token_of: Callable[[User], str],
) -> None:
    Ratchet.objects.filter(pk=ratchet.pk).update(answers_per_minute=1)
    current = ratchet.rounds.get(number=2)
    alices = make_scored_submission(task=ratchet.test_task, division=open_division, user=registered, primary=0.5)
    own = make_item(current, alices)
    first, second = make_item(current, bobs, claimed="v"), make_item(current, bobs, claimed="vi")
    _login(cli, token_of(registered))
    slug = ratchet.challenge.slug

    refused = cli("validate", slug, "roman", "--item", str(own.pk), "--verdict", "correct")
    assert refused.code == 3
    assert refused.err == "dataperf: not allowed: This item comes from your own team: other teams validate it.\n"

    assert cli("validate", slug, "roman", "--item", str(first.pk), "--verdict", "correct").code == 0
    throttled = cli("validate", slug, "roman", "--item", str(second.pk), "--verdict", "correct")
    assert throttled.code == 5
    assert throttled.err.startswith("dataperf: too many requests: At most 1 answers a minute")


def test_validate_shows_one_item_at_a_time_and_posts_what_is_typed(
    cli: Cli, registered: User, ratchet: Ratchet, bobs: Submission, token_of: Callable[[User], str]
) -> None:
    current = ratchet.rounds.get(number=2)
    image = make_item(current, bobs, claimed="iv")  # it fools the suite: served first
    features = make_item(current, bobs, claimed="ix", fooled=False)
    features.payload_type = "text/csv"
    features.payload.save("features.csv", ContentFile(b"f1,f2,f3\n0.5,1.25,-3\n"))
    _login(cli, token_of(registered))

    typed = ["x", "i", "zz", "vi", "s"]
    result = _typed(cli, typed, "validate", ratchet.challenge.slug, "roman")

    assert result.code == 0, result.err
    out = result.out
    assert re.search(rf"Item #{image.pk} \(round 2; 0 answered, 2 left\)\n  image: \S+/item-{image.pk}\.png\n", out)
    assert "  claimed label: iv\n" in out
    assert "answer c, i, f, s or q." in out and "'zz' is not one of the labels." in out
    assert f"Item #{image.pk}: recorded incorrect, the right label is vi. 1 left for you." in out
    assert "  features: " in out and "  values: 0.5, 1.25, -3\n" in out
    assert f"Item #{features.pk}, which you skipped, is still the next one for you: stopping." in out
    assert out.endswith("1 answered in this session.\n")
    assert list(Answer.objects.values_list("item_id", "verdict", "label")) == [(image.pk, "incorrect", "vi")]

    flagged = _typed(cli, ["f", "a scan of a pool image"], "validate", ratchet.challenge.slug, "roman")
    assert flagged.code == 0, flagged.err
    assert f"Item #{features.pk}: recorded flag (a scan of a pool image). 0 left for you." in flagged.out
    assert "Nothing left to validate for you now." in flagged.out


def test_validate_is_for_participants_and_organizers(
    cli: Cli, ratchet: Ratchet, token_of: Callable[[User], str]
) -> None:
    outsider = make_user("carol")
    _login(cli, token_of(outsider))

    result = _typed(cli, [], "validate", ratchet.challenge.slug, "roman")

    assert result.code == 3
    assert result.err.startswith("dataperf: not allowed: Only registered participants and the organizers")


def test_the_help_lists_the_ratchet_commands(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    assert "    rounds" in out and "    validate" in out
    with pytest.raises(SystemExit):
        main(["validate", "--help"])
    assert "--verdict {correct,incorrect,flag}" in capsys.readouterr().out
