from __future__ import annotations

from django.urls import path

from apps.challenges import views

app_name = "challenges"
urlpatterns = [
    path("", views.challenge_list, name="list"),
    path("challenges/<slug:slug>/", views.challenge_detail, name="detail"),
    path("challenges/<slug:slug>/register/", views.challenge_register, name="register"),
    path("challenges/<slug:slug>/registrations/", views.registration_review, name="registrations"),
    path(
        "challenges/<slug:slug>/registrations/<int:participation_id>/approve/",
        views.registration_approve,
        name="registration_approve",
    ),
    path(
        "challenges/<slug:slug>/registrations/<int:participation_id>/reject/",
        views.registration_reject,
        name="registration_reject",
    ),
    path("teams/join/<str:token>/", views.team_join_view, name="team_join"),
    path("challenges/<slug:slug>/tasks/<slug:task_slug>/", views.task_detail, name="task"),
    path("challenges/<slug:slug>/tasks/<slug:task_slug>/data.zip", views.task_data_archive, name="task_data_zip"),
    path(
        "challenges/<slug:slug>/tasks/<slug:task_slug>/algorithm-example.zip",
        views.task_algorithm_example,
        name="task_algorithm_example",
    ),
    path(
        "challenges/<slug:slug>/tasks/<slug:task_slug>/data/<int:file_id>/",
        views.task_data_download,
        name="task_data",
    ),
]
