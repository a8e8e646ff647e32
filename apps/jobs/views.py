"""A team's choices from a submission's page: select it as final (or clear the selection), withdraw it.

Plain form posts (no script needed) that call the pipeline's services, which rebuild the leaderboards in the
same transaction; they live here because apps.submissions may not import the pipeline. Each answers with a
redirect to the submission's page and a message: what was done, or the service's reason for refusing.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from apps.core.errors import DomainError
from apps.core.users import signed_in_user
from apps.jobs.pipeline import submission_select_final_and_rank, submission_withdraw_and_rank
from apps.submissions.models import Submission
from apps.submissions.selectors import final_selections_of, submission_get

_SELECTED = {"1": True, "0": False}
"""The form's `selected` field: 1 selects the submission as final, 0 clears the selection."""

CONFIRM = "yes"
"""The value of the withdrawal form's `confirm` checkbox: a withdrawal cannot be undone."""


@require_POST
@login_required
def submission_final(request: HttpRequest, submission_id: int) -> HttpResponse:
    submission = submission_get(submission_id=submission_id, user=request.user)
    selected = _SELECTED.get(request.POST.get("selected", ""))
    if selected is None:
        return HttpResponseBadRequest("The form's field 'selected' must be 1 (select) or 0 (clear).")
    user = signed_in_user(request)
    try:
        chosen = submission_select_final_and_rank(submission=submission, user=user, selected=selected)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _selection_message(chosen))
    return redirect("submissions:detail", submission_id=submission.pk)


def _selection_message(chosen: Submission) -> str:
    selections = final_selections_of(submissions=[chosen])[0]
    count = f"{selections.selected} of {selections.allowed} selected for this task in this division"
    if chosen.is_selected_final:
        return f"Submission #{chosen.pk} is selected as final ({count})."
    return f"Submission #{chosen.pk} is no longer selected as final ({count})."


@require_POST
@login_required
def submission_withdraw(request: HttpRequest, submission_id: int) -> HttpResponse:
    submission = submission_get(submission_id=submission_id, user=request.user)
    if request.POST.get("confirm") != CONFIRM:
        messages.error(request, "Tick the box to confirm: a withdrawal cannot be undone. Nothing was changed.")
        return redirect("submissions:detail", submission_id=submission.pk)
    user = signed_in_user(request)
    try:
        withdrawn = submission_withdraw_and_rank(submission=submission, user=user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            f"Submission #{withdrawn.pk} is withdrawn: it no longer ranks on any leaderboard. "
            "The quota it used is not refunded.",
        )
    return redirect("submissions:detail", submission_id=submission.pk)
