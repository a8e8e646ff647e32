from __future__ import annotations

from django.urls import path

from apps.leaderboards import views

app_name = "leaderboards"
urlpatterns = [
    path("benchmarks/", views.benchmark_matrix, name="matrix"),
    path("challenges/<slug:slug>/tasks/<slug:task_slug>/leaderboard/", views.task_leaderboard, name="task"),
    path(
        "challenges/<slug:slug>/tasks/<slug:task_slug>/leaderboard.json", views.task_leaderboard_json, name="task_json"
    ),
]
