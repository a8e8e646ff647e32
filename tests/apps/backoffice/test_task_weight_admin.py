"""Task weights in the admin: a weight the service refuses is an error on the form, never a server error."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from apps.challenges.models import AuditAction, AuditEntry, Task
from apps.leaderboards.models import TaskWeight


@pytest.mark.parametrize(
    ("weight", "message"),
    [("-1", "A weight is a number of at least 0 (0 leaves the task out)."), ("nan", "Enter a number.")],
)
def test_a_refused_weight_is_shown_on_the_form_and_changes_nothing(
    staff: Client, speech_task: Task, weight: str, message: str
) -> None:
    response = staff.post(reverse("admin:leaderboards_taskweight_add"), {"task": speech_task.pk, "weight": weight})

    assert response.status_code == 200
    assert message in response.content.decode()
    assert not TaskWeight.objects.filter(task=speech_task).exists()
    assert not AuditEntry.objects.filter(action=AuditAction.TASK_WEIGHT).exists()


def test_a_valid_weight_is_saved_through_the_service_with_its_audit_entry(staff: Client, speech_task: Task) -> None:
    response = staff.post(reverse("admin:leaderboards_taskweight_add"), {"task": speech_task.pk, "weight": "2.5"})

    assert response.status_code == 302
    assert TaskWeight.objects.get(task=speech_task).weight == 2.5
    assert AuditEntry.objects.filter(action=AuditAction.TASK_WEIGHT).count() == 1
