"""The answer form of the validation page and of the organizers' queue: it only parses the post; what an answer
may say (a label of the task, a reason for a flag) is the answer service's rule."""

from __future__ import annotations

from django import forms

from apps.ratchets.models import Answer


class AnswerForm(forms.Form):
    item = forms.IntegerField(min_value=1)
    verdict = forms.ChoiceField(choices=Answer.Verdict.choices)
    # No limits here: the service says which labels and how long a reason may be, in its own words.
    label = forms.CharField(required=False)
    reason = forms.CharField(required=False)

    def problem(self) -> str:
        """What is wrong with an invalid post, in one sentence for the person who sent it."""
        fields = ", ".join(sorted(self.errors))
        return f"The answer could not be read ({fields}): nothing was recorded. Answer with the page's buttons."
