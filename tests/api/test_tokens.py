"""API tokens: created on the account page and shown once, stored as a hash, revocable; token and session
authentication (the session with CSRF protection)."""

from __future__ import annotations

import hashlib
import re

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from apps.accounts.models import ApiToken
from apps.accounts.services import API_TOKEN_MAX_ACTIVE, api_token_create, api_token_revoke
from apps.core.errors import InvalidInput, NotFound
from tests.api.conftest import World

ME = "/api/v1/me/"


def _create_on_page(client: Client, name: str = "laptop") -> str:
    response = client.post(reverse("accounts:tokens"), {"name": name})
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    match = re.search(r'id="new-token-key">([^<]+)<', response.content.decode())
    assert match is not None
    return match.group(1)


def test_the_account_page_shows_a_new_key_once_and_stores_only_its_hash(client: Client, participant: User) -> None:
    client.force_login(participant)
    key = _create_on_page(client)

    token = ApiToken.objects.get(user=participant)
    assert token.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert key not in str(ApiToken.objects.filter(pk=token.pk).values().first())
    listing = client.get(reverse("accounts:tokens")).content.decode()
    assert key not in listing
    assert token.prefix in listing and key.startswith(token.prefix)


def test_the_account_page_needs_a_login(client: Client) -> None:
    response = client.get(reverse("accounts:tokens"))
    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]


def test_a_token_from_the_page_authenticates_until_it_is_revoked(client: Client, participant: User) -> None:
    client.force_login(participant)
    key = _create_on_page(client)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert api.get(ME).json()["username"] == participant.username
    assert ApiToken.objects.get(user=participant).last_used_at is not None

    token = ApiToken.objects.get(user=participant)
    response = client.post(reverse("accounts:token_revoke", args=[token.pk]))
    assert response.status_code == 302

    refused = api.get(ME)
    assert refused.status_code == 401
    assert refused.json() == {"detail": "Invalid or revoked token.", "code": "authentication_failed"}
    assert refused["WWW-Authenticate"] == "Token"
    assert "revoked" in client.get(reverse("accounts:tokens")).content.decode()


def test_nobody_revokes_another_users_token(client: Client, participant: User, other_participant: User) -> None:
    token, key = api_token_create(user=participant, name="mine")
    client.force_login(other_participant)
    assert client.post(reverse("accounts:token_revoke", args=[token.pk])).status_code == 404
    with pytest.raises(NotFound):
        api_token_revoke(user=other_participant, token_id=token.pk)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert api.get(ME).status_code == 200


def test_revoking_twice_keeps_the_first_revocation(participant: User) -> None:
    token, _ = api_token_create(user=participant, name="x")
    first = api_token_revoke(user=participant, token_id=token.pk).revoked_at
    assert first is not None
    assert api_token_revoke(user=participant, token_id=token.pk).revoked_at == first


def test_a_token_needs_a_name_and_a_user_has_a_bounded_number(participant: User) -> None:
    with pytest.raises(InvalidInput):
        api_token_create(user=participant, name="  ")
    for index in range(API_TOKEN_MAX_ACTIVE):
        api_token_create(user=participant, name=f"t{index}")
    with pytest.raises(InvalidInput, match="revoke one first"):
        api_token_create(user=participant, name="one too many")


def test_a_deactivated_users_token_no_longer_works(participant: User) -> None:
    _, key = api_token_create(user=participant, name="x")
    User.objects.filter(pk=participant.pk).update(is_active=False)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert api.get(ME).status_code == 401


@pytest.mark.parametrize(
    "header",
    ["Token", "Token a b", "Token not-a-key", "token dpt_unknown", "Token \u00e9t\u00e9"],
    ids=["no key", "two words", "unknown", "lower-case keyword", "non-ascii"],
)
def test_a_bad_token_is_refused_never_treated_as_anonymous(world: World, header: str) -> None:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=header.encode().decode("latin-1"))
    response = api.get("/api/v1/challenges/")  # public: an anonymous request would get 200
    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"


def test_other_authorization_schemes_are_left_to_the_session(world: World) -> None:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {world.tokens['participant_a']}")
    assert api.get(ME).status_code == 401
    assert api.get("/api/v1/challenges/").status_code == 200


def test_a_browser_session_works_and_its_writes_need_the_csrf_token(world: World) -> None:
    user = world.user("participant_a")
    api = APIClient(enforce_csrf_checks=True)
    api.force_login(user)
    assert api.get(ME).json()["username"] == user.username

    url = f"/api/v1/submissions/{world.submission.pk}/select-final/"
    refused = api.post(url, {"selected": True}, format="json")
    assert refused.status_code == 403
    assert "CSRF" in refused.json()["detail"]

    api.get(reverse("accounts:tokens"))  # any page sets the CSRF cookie
    csrf = api.cookies["csrftoken"].value
    accepted = api.post(url, {"selected": True}, format="json", HTTP_X_CSRFTOKEN=csrf)
    assert accepted.status_code == 200
    assert accepted.json()["is_selected_final"] is True


def test_a_token_request_needs_no_csrf_token(world: World) -> None:
    api = world.client("participant_a")
    api.handler.enforce_csrf_checks = True
    response = api.post(f"/api/v1/submissions/{world.submission.pk}/select-final/", {}, format="json")
    assert response.status_code == 200


def test_staff_revoke_a_token_in_the_admin_and_never_see_its_hash(client: Client, world: World) -> None:
    client.force_login(world.user("staff"))
    token = ApiToken.objects.get(user=world.user("participant_a"))
    page = client.get(reverse("admin:accounts_apitoken_change", args=[token.pk])).content.decode()
    assert token.prefix in page and token.key_hash not in page
    response = client.post(
        reverse("admin:accounts_apitoken_changelist"), {"action": "revoke", "_selected_action": [token.pk]}
    )
    assert response.status_code == 302
    assert world.client("participant_a").get(ME).status_code == 401


def test_the_navigation_links_the_token_page(client: Client, participant: User) -> None:
    client.force_login(participant)
    assert reverse("accounts:tokens") in client.get(reverse("challenges:list")).content.decode()
