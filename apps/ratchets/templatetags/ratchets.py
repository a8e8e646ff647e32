"""Links to the ratchet from the pages of the layers below it (a task's page and board, the challenge's page and
board), which may not import this app: they load these tags instead. Also the pages' number formats."""

from __future__ import annotations

from typing import Any

from django import template

from apps.challenges.models import Challenge, Task
from apps.ratchets.selectors import LIVE_ROUNDS, may_validate, ratchet_of_task_id, ratchets_of_challenge, rounds_of

register = template.Library()


@register.inclusion_tag("ratchets/_task_links.html", takes_context=True)
def ratchet_links(context: template.Context, task: Task) -> dict[str, Any]:
    """The ratchet a task belongs to, the side it is on, its running round, and the validation link for a
    validator. Nothing when the task is in no ratchet."""
    user = context["request"].user
    ratchet = ratchet_of_task_id(task.pk)
    if ratchet is None or not ratchets_of_challenge(challenge=task.challenge, user=user).filter(pk=ratchet.pk).exists():
        return {"ratchet": None}
    ratchet.challenge = task.challenge
    live = [round_ for round_ in rounds_of(ratchet=ratchet) if round_.status in LIVE_ROUNDS]
    return {
        "ratchet": ratchet,
        "challenge": task.challenge,
        "is_training": ratchet.training_task_id == task.pk,
        "round": live[-1] if live else None,
        "may_validate": may_validate(ratchet=ratchet, user=user),
    }


@register.inclusion_tag("ratchets/_challenge_links.html", takes_context=True)
def challenge_ratchets(context: template.Context, challenge: Challenge) -> dict[str, Any]:
    """The challenge's ratchets the viewer may see, each with links to its page and its rounds."""
    ratchets = ratchets_of_challenge(challenge=challenge, user=context["request"].user)
    return {"challenge": challenge, "ratchets": list(ratchets)}


@register.filter
def percent(value: float | None) -> str:
    """A share as a percentage with one decimal (an en dash when there is none)."""
    return "\N{EN DASH}" if value is None else f"{100 * value:.1f}%"
