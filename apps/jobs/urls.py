"""A team's choices on a submission, under the submissions' URLs (included at /submissions/)."""

from __future__ import annotations

from django.urls import path

from apps.jobs import views

app_name = "jobs"
urlpatterns = [
    path("<int:submission_id>/final/", views.submission_final, name="final"),
    path("<int:submission_id>/withdraw/", views.submission_withdraw, name="withdraw"),
]
