from __future__ import annotations

from django.urls import path

from apps.leaderboards import views

TASK = "challenges/<slug:slug>/tasks/<slug:task_slug>/"

app_name = "leaderboards"
urlpatterns = [
    path("benchmarks/", views.benchmark_matrix, name="matrix"),
    path(TASK + "leaderboard/", views.task_leaderboard, name="task"),
    path(TASK + "leaderboard.json", views.task_leaderboard_json, name="task_json"),
    path(TASK + "leaderboard-history.json", views.task_leaderboard_history_json, name="task_history_json"),
    path(TASK + "leaderboard.csv", views.task_leaderboard_csv, name="task_csv"),
    path("challenges/<slug:slug>/leaderboard/", views.challenge_leaderboard, name="challenge"),
    path("challenges/<slug:slug>/leaderboard.csv", views.challenge_leaderboard_csv, name="challenge_csv"),
    path("challenges/<slug:slug>/exports/", views.challenge_exports, name="exports"),
    path("challenges/<slug:slug>/exports/<int:export_id>/download/", views.export_download, name="export_download"),
]
