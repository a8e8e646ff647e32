from __future__ import annotations

from django.urls import path

from apps.submissions import views

app_name = "submissions"
urlpatterns = [
    path("challenges/<slug:slug>/tasks/<slug:task_slug>/submit/", views.submission_new, name="new"),
    path("submissions/", views.submission_list, name="list"),
    path("submissions/<int:submission_id>/", views.submission_detail, name="detail"),
    path("submissions/<int:submission_id>/status.json", views.submission_status_json, name="status"),
]
