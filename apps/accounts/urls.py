from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import path

from apps.accounts import views

app_name = "accounts"
urlpatterns = [
    path("signup/", views.signup, name="signup"),
    path("login/", auth_views.LoginView.as_view(template_name="accounts/login.html"), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("tokens/", views.api_tokens, name="tokens"),
    path("tokens/<int:token_id>/revoke/", views.api_token_revoke_view, name="token_revoke"),
    path("teams/", views.teams, name="teams"),
    path("teams/<int:team_id>/", views.team_detail, name="team"),
    path("teams/<int:team_id>/invites/", views.team_invite_create_view, name="team_invite"),
    path(
        "teams/<int:team_id>/invites/<int:invite_id>/revoke/",
        views.team_invite_revoke_view,
        name="team_invite_revoke",
    ),
    path("teams/<int:team_id>/leave/", views.team_leave_view, name="team_leave"),
    path("teams/<int:team_id>/members/<int:user_id>/remove/", views.team_remove_member_view, name="team_remove"),
]
