from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.accounts.forms import ApiTokenForm, SignUpForm, TeamForm, TeamInviteForm
from apps.accounts.models import Team
from apps.accounts.selectors import (
    api_tokens_of_user,
    team_events,
    team_get,
    team_invites_open,
    team_members,
    team_role,
    teams_of_user,
)
from apps.accounts.services import (
    AccountError,
    api_token_create,
    api_token_revoke,
    team_create,
    team_invite_create,
    team_invite_revoke,
    team_leave,
    team_remove_member,
    user_sign_up,
)
from apps.core.errors import DomainError
from apps.core.users import signed_in_user


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = user_sign_up(
                username=form.cleaned_data["username"],
                email=form.cleaned_data["email"],
                password=form.cleaned_data["password1"],
            )
        except AccountError as exc:
            form.add_error("username", str(exc))
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            target = request.GET.get("next", "")
            safe = url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()})
            return redirect(target if target and safe else "challenges:list")
    return render(request, "accounts/signup.html", {"form": form})


@require_http_methods(["GET", "POST"])
@login_required
def api_tokens(request: HttpRequest) -> HttpResponse:
    """The user's API tokens; a POST creates one and shows its key on this response only (never stored)."""
    form = ApiTokenForm(request.POST or None)
    new_key = ""
    if request.method == "POST" and form.is_valid():
        try:
            _, new_key = api_token_create(user=signed_in_user(request), name=form.cleaned_data["name"])
        except DomainError as exc:
            form.add_error("name", exc.message)
        else:
            form = ApiTokenForm()
    context = {
        "form": form,
        "new_key": new_key,
        "tokens": api_tokens_of_user(user=request.user),
        "api_url": request.build_absolute_uri("/"),
    }
    response = render(request, "accounts/tokens.html", context, status=400 if form.errors else 200)
    # The key must not linger in a cache or in the browser's history of this page.
    response["Cache-Control"] = "no-store"
    return response


@require_POST
@login_required
def api_token_revoke_view(request: HttpRequest, token_id: int) -> HttpResponse:
    token = api_token_revoke(user=signed_in_user(request), token_id=token_id)
    messages.success(request, f"Token {token.name} is revoked: it no longer works.")
    return redirect("accounts:tokens")


@require_http_methods(["GET", "POST"])
@login_required
def teams(request: HttpRequest) -> HttpResponse:
    """The user's teams; a POST creates a named team owned by them."""
    form = TeamForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            team = team_create(user=signed_in_user(request), name=form.cleaned_data["name"])
        except DomainError as exc:
            form.add_error("name", exc.message)
        else:
            messages.success(request, f"Team {team.name} is created. Invite members with a link.")
            return redirect("accounts:team", team_id=team.pk)
    context = {"form": form, "teams": teams_of_user(user=request.user).select_related("personal_owner")}
    return render(request, "accounts/teams.html", context, status=400 if form.errors else 200)


@require_GET
@login_required
def team_detail(request: HttpRequest, team_id: int) -> HttpResponse:
    return _team_page(request, team_get(team_id=team_id, user=request.user))


@require_POST
@login_required
def team_invite_create_view(request: HttpRequest, team_id: int) -> HttpResponse:
    """Create an invitation link and show it on this response only: only its hash is stored."""
    team = team_get(team_id=team_id, user=request.user)
    form = TeamInviteForm(request.POST)
    if not form.is_valid():
        return _team_page(request, team, invite_form=form)
    try:
        _, token = team_invite_create(
            team=team, user=signed_in_user(request), lifetime=dt.timedelta(days=form.cleaned_data["days"])
        )
    except DomainError as exc:
        form.add_error(None, exc.message)
        return _team_page(request, team, invite_form=form)
    link = request.build_absolute_uri(reverse("challenges:team_join", args=[token]))
    response = _team_page(request, team, new_link=link)
    # The link works for anyone who has it: keep it out of caches and the browser's history of this page.
    response["Cache-Control"] = "no-store"
    return response


@require_POST
@login_required
def team_invite_revoke_view(request: HttpRequest, team_id: int, invite_id: int) -> HttpResponse:
    team = team_get(team_id=team_id, user=request.user)
    invite = team_invite_revoke(team=team, user=signed_in_user(request), invite_id=invite_id)
    messages.success(request, f"The invitation link {invite.prefix}… is revoked: it no longer works.")
    return redirect("accounts:team", team_id=team.pk)


@require_POST
@login_required
def team_leave_view(request: HttpRequest, team_id: int) -> HttpResponse:
    team = team_get(team_id=team_id, user=request.user)
    try:
        team_leave(team=team, user=signed_in_user(request))
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("accounts:team", team_id=team.pk)
    messages.success(request, f"You left team {team.name}.")
    return redirect("accounts:teams")


@require_POST
@login_required
def team_remove_member_view(request: HttpRequest, team_id: int, user_id: int) -> HttpResponse:
    team = team_get(team_id=team_id, user=request.user)
    try:
        team_remove_member(team=team, user=signed_in_user(request), member_id=user_id)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "The member is removed from the team.")
    return redirect("accounts:team", team_id=team.pk)


def _team_page(
    request: HttpRequest, team: Team, *, new_link: str = "", invite_form: TeamInviteForm | None = None
) -> HttpResponse:
    role = team_role(team=team, user=request.user)
    context = {
        "team": team,
        "role": role,
        "is_owner": role == "owner",
        "members": team_members(team=team),
        "events": team_events(team=team),
        "invites": team_invites_open(team=team, user=request.user),
        "invite_form": invite_form or TeamInviteForm(),
        "new_link": new_link,
    }
    status = 400 if invite_form is not None and invite_form.errors else 200
    return render(request, "accounts/team.html", context, status=status)
