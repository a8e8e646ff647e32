"""Teams. Every participant competes as a team; a new user gets a personal team of one.

A named team grows by invitation links (`TeamInvite`); every membership change is a `TeamEvent`. What a team
may do in a challenge (its size, who may be in it) is the challenges app's business: it enforces those rules
when a team registers or a member joins."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models


class Team(models.Model):
    name = models.CharField(max_length=100, unique=True)
    personal_owner = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="personal_team",
        help_text="Set for the team of one created with each account.",
    )
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, through="TeamMembership", related_name="teams")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class TeamMembership(models.Model):
    class Role(models.TextChoices):
        OWNER = "owner", "Owner"
        MEMBER = "member", "Member"

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)
    joined_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["team", "user"], name="accounts_membership_unique")]

    def __str__(self) -> str:
        return f"{self.user} in {self.team}"


class TeamInvite(models.Model):
    """A link that lets whoever holds it join a team until it expires or its owner revokes it.

    Only the SHA-256 of the link's token is stored (the token has 256 random bits, as API keys do): the link
    is shown once, to the owner who creates it, and a leaked table cannot be turned back into links.
    """

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="invites")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    token_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=12, help_text="The first characters of the token, to recognise the link.")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"Invitation to {self.team} ({self.prefix}…)"

    def is_usable_at(self, moment: dt.datetime) -> bool:
        return self.revoked_at is None and moment < self.expires_at


class TeamEvent(models.Model):
    """One change of a team's membership, shown on the team page. Append-only."""

    class Action(models.TextChoices):
        CREATED = "created", "created the team"
        INVITED = "invited", "created an invitation link"
        JOINED = "joined", "joined"
        LEFT = "left", "left"
        REMOVED = "removed", "was removed"

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="events")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The member concerned (none for an invitation).",
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    action = models.CharField(max_length=10, choices=Action.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["team", "created_at"], name="accounts_teamevent_team_idx")]

    def __str__(self) -> str:
        return f"{self.team}: {self.user or self.actor} {self.get_action_display()}"


class ApiToken(models.Model):
    """A personal API token. Only a SHA-256 hash of the key is stored: the key is shown once, at creation.

    The key has 256 bits of randomness, so a fast hash is enough (no salt or stretching needed: a leaked
    table cannot be brute-forced); the prefix lets the owner tell their tokens apart on the account page.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=12, help_text="The first characters of the key, to recognise it.")
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
