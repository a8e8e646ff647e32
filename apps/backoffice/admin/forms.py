"""The intermediate forms of the back-office actions."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.db.models import QuerySet

from apps.submissions.models import Award


class DiscoveredSliceForm(forms.Form):
    column = forms.CharField(help_text="The submission's score column (its name, or 0-based position).")
    name = forms.SlugField(max_length=60, help_text="The new ground-truth slice's name.")
    threshold = forms.FloatField(initial=0.5, help_text="Members: examples scored above this.")
    complement = forms.BooleanField(required=False, help_text="Take the complement (score at most the threshold).")


class DisqualifyForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=2000,
        help_text="Shown to the team on the submission's page (and kept in the audit log).",
    )


class AwardForm(forms.Form):
    name = forms.CharField(max_length=120, help_text="E.g. 'Best closed-division submission'.")
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=2000)


class RevokeAwardsForm(forms.Form):
    awards = forms.ModelMultipleChoiceField(
        queryset=Award.objects.none(), widget=forms.CheckboxSelectMultiple, help_text="The awards to revoke."
    )

    def __init__(self, *args: Any, awards: QuerySet[Award], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast("forms.ModelMultipleChoiceField[Award]", self.fields["awards"]).queryset = awards


class RevealForm(forms.Form):
    confirm = forms.BooleanField(label="Reveal now: participants may see it at once, and it cannot be undone.")
