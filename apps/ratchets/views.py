"""The ratchet's pages: a column's page (its rounds, suites, validation and the ratchet chart), one round's
figures and frozen standings, the validation page, an item's payload, and the organizers' queue. Thin adapters
over the ratchet's selectors (access rules included) and its answer service; whoever may see the challenge sees
the pages, validators and organizers act on them. Answers are plain form posts (no script needed) that come
back to their page with a message (post, redirect, get)."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from apps.challenges.selectors import challenge_get, user_is_organizer
from apps.core.errors import DomainError, NotFound
from apps.core.markdown import render_markdown
from apps.core.users import signed_in_user
from apps.ratchets import charts, selectors
from apps.ratchets.forms import AnswerForm
from apps.ratchets.models import Answer, Item, Ratchet, Round, Standing
from apps.ratchets.selectors import LIVE_ROUNDS, RoundFigures
from apps.ratchets.services import answer_record

LABEL_KEYS = "1234567890"
"""The keys that pick the first ten labels on the validation page."""


def _ratchet(request: HttpRequest, slug: str, ratchet_slug: str) -> Ratchet:
    challenge = challenge_get(slug=slug, user=request.user)
    return selectors.ratchet_get(challenge=challenge, slug=ratchet_slug, user=request.user)


# -- The ratchet's page ----------------------------------------------------------------------------------------


def _round_rows(
    rounds: Sequence[Round], figures: Mapping[int, RoundFigures], makeup: Mapping[int, int], seed: int | None
) -> list[dict[str, Any]]:
    """The rounds table: each round with its figures and its test data (the seed plus every item promoted into
    it, cumulative: a promotion holds from its round on)."""
    rows, promoted = [], 0
    for round_ in rounds:
        promoted += makeup.get(round_.number, 0)
        total = None if seed is None else seed + promoted
        row = {
            "round": round_,
            "figures": figures[round_.number],
            "seed": seed,
            "promoted": promoted,
            "test_items": total,
        }
        rows.append(row)
    return rows


def _suites(ratchet: Ratchet, rounds: Sequence[Round]) -> list[dict[str, Any]]:
    """Each round's suite: the reference models, then the models trained on the best training sets."""
    reference = selectors.reference_models(ratchet=ratchet)
    return [
        {"round": round_, "reference": reference, "trained": list(round_.suite_models.all())}
        for round_ in rounds
        if round_.status != Round.Status.DRAFT
    ]


def _live_progress(rounds: Sequence[Round], figures: Mapping[int, RoundFigures]) -> list[dict[str, Any]]:
    """Validation of the rounds that run now: items decided of those collected."""
    progress = []
    for round_ in rounds:
        if round_.status not in LIVE_ROUNDS:
            continue
        found = figures[round_.number]
        decided = found.statuses.get(Item.Status.ACCEPTED, 0) + found.statuses.get(Item.Status.REJECTED, 0)
        percent = round(100 * decided / found.collected) if found.collected else 0
        progress.append({"round": round_, "collected": found.collected, "decided": decided, "percent": percent})
    return progress


def _viewer(request: HttpRequest, ratchet: Ratchet) -> dict[str, Any]:
    """What the viewer may do here: validate (and how far they got), see the organizers' queue."""
    may_validate = selectors.may_validate(ratchet=ratchet, user=request.user)
    is_organizer = user_is_organizer(challenge=ratchet.challenge, user=request.user)
    user = request.user if isinstance(request.user, User) else None
    return {
        "may_validate": may_validate,
        "my_progress": selectors.validation_progress(ratchet=ratchet, user=user) if may_validate and user else None,
        "is_organizer": is_organizer,
        "queue_count": selectors.organizer_queue(ratchet=ratchet).count() if is_organizer else 0,
    }


@require_GET
def ratchet_detail(request: HttpRequest, slug: str, ratchet_slug: str) -> HttpResponse:
    ratchet = _ratchet(request, slug, ratchet_slug)
    rounds = list(selectors.rounds_of(ratchet=ratchet))
    figures = {round_.number: selectors.round_figures(round_=round_) for round_ in rounds}
    makeup = selectors.test_data_makeup(ratchet=ratchet)
    context = {
        "challenge": ratchet.challenge,
        "ratchet": ratchet,
        "description_html": render_markdown(ratchet.description),
        "round_rows": _round_rows(rounds, figures, makeup, selectors.seed_item_count(ratchet=ratchet)),
        "suites": _suites(ratchet, rounds),
        "live_progress": _live_progress(rounds, figures),
        "validators": selectors.validators_board(ratchet=ratchet),
        "chart": charts.ratchet_chart(ratchet=ratchet, rounds=rounds, figures=figures),
        **_viewer(request, ratchet),
    }
    return render(request, "ratchets/detail.html", context)


# -- One round -------------------------------------------------------------------------------------------------


def _shown(value: float | None, scale: float) -> str:
    """A score as the leaderboard page shows it (static/js/leaderboard.js `formatScore`)."""
    if value is None:
        return ""
    return f"{value * scale:.{4 if scale == 1 else 2}f}"


def _standing_table(standing: Standing) -> dict[str, Any]:
    """A frozen board's table: rank, team (a baseline by its method), the primary score and the metric columns
    of its document, as the live board shows them."""
    document = standing.document
    primary = document["primary"]
    columns = [c for c in document["columns"] if c.get("column") and c["name"] != primary["name"]]
    rows = [
        {
            "rank": row["rank"],
            "label": row["label"],
            "is_baseline": row["is_baseline"],
            "primary": _shown(row["primary"], primary["scale"]),
            "metrics": [_shown(row["metrics"].get(column["name"]), column["scale"]) for column in columns],
        }
        for row in document["rows"]
    ]
    return {"standing": standing, "primary": primary, "columns": columns, "rows": rows}


def _standings(round_: Round, request: HttpRequest) -> list[dict[str, Any]]:
    """The round's frozen boards whose split the viewer may see now (a private board once it is revealed)."""
    visible = selectors.round_standings_visible(round_=round_, user=request.user)
    return [_standing_table(standing) for standing in visible]


@require_GET
def round_detail(request: HttpRequest, slug: str, ratchet_slug: str, number: int) -> HttpResponse:
    ratchet = _ratchet(request, slug, ratchet_slug)
    round_ = selectors.round_get(ratchet=ratchet, number=number)
    closed = round_.status == Round.Status.CLOSED
    context = {
        "challenge": ratchet.challenge,
        "ratchet": ratchet,
        "round": round_,
        "figures": selectors.round_figures(round_=round_),
        "suites": _suites(ratchet, [round_]),
        "standings": _standings(round_, request) if closed else [],
        "live": round_.status in LIVE_ROUNDS,
        "may_validate": selectors.may_validate(ratchet=ratchet, user=request.user),
    }
    return render(request, "ratchets/round.html", context)


# -- Validation ------------------------------------------------------------------------------------------------


def _recorded(verdict: str, label: str, reason: str) -> str:
    """The message after an answer: what was recorded, never what it did to the item (a gold item, whose
    answers decide nothing, must read like any other)."""
    if verdict == Answer.Verdict.INCORRECT:
        return f"Recorded: incorrect, the right label is {label.strip()}."
    if verdict == Answer.Verdict.FLAG:
        return f"Recorded: flagged ({' '.join(reason.split())})."
    return "Recorded: correct."


def _answer(request: HttpRequest, ratchet: Ratchet, user: User) -> Item | None:
    """Record the posted answer (`answer_record`); the outcome, or why nothing was recorded, as a message."""
    form = AnswerForm(request.POST)
    if not form.is_valid():
        messages.error(request, form.problem())
        return None
    data = form.cleaned_data
    try:
        item = answer_record(
            item_id=data["item"],
            ratchet=ratchet,
            user=user,
            verdict=data["verdict"],
            label=data["label"],
            reason=data["reason"],
        )
    except DomainError as exc:
        messages.error(request, exc.message)
        return None
    messages.success(request, _recorded(data["verdict"], data["label"], data["reason"]))
    return item


def _features(item: Item) -> list[tuple[str, str]]:
    """A features item's values, each under a generic name, numbers written alike: a gold item (from the task's
    training file) and a new one (from a submission) look the same."""
    with item.payload.open("rb") as handle:
        rows = [row for row in csv.reader(io.StringIO(handle.read().decode("utf-8-sig"))) if row]
    values = rows[-1] if rows else []
    return [(f"Feature {index}", _number(value)) for index, value in enumerate(values, start=1)]


def _number(text: str) -> str:
    try:
        return f"{float(text):.6g}"
    except ValueError:
        return text.strip()


def _label_choices(ratchet: Ratchet, item: Item) -> list[dict[str, Any]]:
    """The labels an "incorrect" answer picks from, each with its key (1-9, 0: the first ten); the claimed one
    is shown but not pickable (the service would refuse it)."""
    return [
        {
            "value": label,
            "key": LABEL_KEYS[index] if index < len(LABEL_KEYS) else "",
            "claimed": label == item.claimed_label,
        }
        for index, label in enumerate(selectors.ratchet_labels(ratchet=ratchet))
    ]


def _item_context(ratchet: Ratchet, item: Item | None) -> dict[str, Any]:
    if item is None:
        return {"item": None}
    features = _features(item) if item.payload_type == "text/csv" else None
    return {"item": item, "features": features, "labels": _label_choices(ratchet, item)}


@require_http_methods(["GET", "POST"])
@login_required
def validate(request: HttpRequest, slug: str, ratchet_slug: str) -> HttpResponse:
    """One item at a time, Dynabench style: correct, incorrect (with the right label) or flag (with a reason)."""
    ratchet = _ratchet(request, slug, ratchet_slug)
    user = signed_in_user(request)
    if not selectors.may_validate(ratchet=ratchet, user=user):
        refused = {"challenge": ratchet.challenge, "ratchet": ratchet}
        return render(request, "ratchets/validate_refused.html", refused, status=403)
    if request.method == "POST":
        _answer(request, ratchet, user)
        return redirect("ratchets:validate", slug=ratchet.challenge.slug, ratchet_slug=ratchet.slug)
    item = selectors.next_item(ratchet=ratchet, user=user)
    context = {
        "challenge": ratchet.challenge,
        "ratchet": ratchet,
        "progress": selectors.validation_progress(ratchet=ratchet, user=user),
        **_item_context(ratchet, item),
    }
    response = render(request, "ratchets/validate.html", context)
    response["Cache-Control"] = "private, no-store"  # the item is this validator's alone
    return response


@require_GET
def item_payload(request: HttpRequest, slug: str, ratchet_slug: str, item_id: int) -> FileResponse:
    """An item's image or features, to whoever may see them (`item_payload_visible`); 404 to anyone else."""
    ratchet = _ratchet(request, slug, ratchet_slug)
    payload = selectors.item_payload_for(ratchet=ratchet, item_id=item_id, user=request.user)
    response = FileResponse(io.BytesIO(payload.content), content_type=payload.content_type, filename=payload.filename)
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


# -- The organizers' queue -------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@login_required
def organizer_queue(request: HttpRequest, slug: str, ratchet_slug: str) -> HttpResponse:
    """Flagged and disputed items with every answer given, and the organizer's final answer on each."""
    ratchet = _ratchet(request, slug, ratchet_slug)
    user = signed_in_user(request)
    if not user_is_organizer(challenge=ratchet.challenge, user=user):
        raise NotFound("No such page.")
    if request.method == "POST":
        item = _answer(request, ratchet, user)
        if item is not None:
            messages.info(request, f"Item #{item.pk} is now {item.get_status_display().lower()}.")
        return redirect("ratchets:queue", slug=ratchet.challenge.slug, ratchet_slug=ratchet.slug)
    items = selectors.organizer_queue(ratchet=ratchet).prefetch_related("answers__user", "claims__team")
    context = {
        "challenge": ratchet.challenge,
        "ratchet": ratchet,
        "items": [
            {"item": item, "features": _features(item) if item.payload_type == "text/csv" else None} for item in items
        ],
        "labels": selectors.ratchet_labels(ratchet=ratchet),
    }
    return render(request, "ratchets/queue.html", context)
