"""The ratchet's pages, under their challenge's URLs."""

from __future__ import annotations

from django.urls import path

from apps.ratchets import views

RATCHET = "challenges/<slug:slug>/ratchets/<slug:ratchet_slug>/"

app_name = "ratchets"
urlpatterns = [
    path(RATCHET, views.ratchet_detail, name="detail"),
    path(RATCHET + "rounds/<int:number>/", views.round_detail, name="round"),
    path(RATCHET + "validate/", views.validate, name="validate"),
    path(RATCHET + "items/<int:item_id>/payload", views.item_payload, name="payload"),
    path(RATCHET + "queue/", views.organizer_queue, name="queue"),
]
