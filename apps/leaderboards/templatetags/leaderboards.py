"""What the pages of the layers below the leaderboards show of them (a submission's page), which may not import
this app: they load these tags instead."""

from __future__ import annotations

from typing import Any

from django import template

from apps.leaderboards.selectors import submission_standings
from apps.submissions.models import Submission

register = template.Library()


@register.inclusion_tag("leaderboards/_standing.html", takes_context=True)
def submission_standing(context: template.Context, submission: Submission) -> dict[str, Any]:
    """The rank a submission reached on each board of its task and division the viewer may see, or why it is
    not ranked (`selectors.submission_standings`)."""
    standings, reason = submission_standings(submission=submission, user=context["request"].user)
    return {
        "submission": submission,
        "standings": standings,
        "reason": reason,
        # Still on its way to a first score: the page's script says so when the score lands.
        "pending": reason == "not scored yet" and submission.status not in Submission.TERMINAL,
    }
