from __future__ import annotations

from django.urls import path

from apps.backoffice import views

app_name = "backoffice"
urlpatterns = [
    path("challenges/<slug:slug>/audit/", views.challenge_audit, name="audit"),
]
