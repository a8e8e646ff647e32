from __future__ import annotations

from typing import Any

from django import forms

from apps.accounts.models import Team


class RegistrationForm(forms.Form):
    """Registering for a challenge: which of the user's teams competes, and the rules accepted.

    Whether the rules were accepted is the service's rule (`participation_register`), so the box is not
    required here: one rule, one message, for the pages and the API alike.
    """

    team = forms.ModelChoiceField(
        queryset=Team.objects.none(),
        required=False,
        empty_label=None,
        help_text="A team you own. Every member competes with it; nobody may be in two teams of one challenge.",
    )
    accept_rules = forms.BooleanField(required=False, label="I accept the rules of this challenge")

    def __init__(self, *args: Any, teams: list[Team], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["team"]
        assert isinstance(field, forms.ModelChoiceField)  # noqa: S101 - narrows the type for mypy
        field.queryset = Team.objects.filter(pk__in=[team.pk for team in teams])
        field.choices = [(team.pk, team.name) for team in teams]
