from __future__ import annotations

from typing import Any

from django import forms

from apps.divisions.models import Division


class SubmissionForm(forms.Form):
    division = forms.ModelChoiceField(queryset=Division.objects.none(), empty_label=None)
    artifact = forms.FileField(label="Submission file", help_text="The artifact in the task's submission format.")
    code_archive = forms.FileField(
        required=False,
        label="Code archive",
        help_text="Closed division: a zip or tar.gz archive of the code that produced the submission.",
    )
    method_description = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=5000,
        label="Method description",
        help_text="How you made this submission (required).",
    )
    code_url = forms.URLField(required=False, label="Code URL", assume_scheme="https")

    def __init__(self, *args: Any, divisions: list[Division], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["division"]
        assert isinstance(field, forms.ModelChoiceField)  # noqa: S101 - narrows the type for mypy
        field.queryset = Division.objects.filter(pk__in=[d.pk for d in divisions]).order_by("order", "slug")
