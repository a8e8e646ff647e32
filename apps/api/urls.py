"""/api/v1/ (one view per operation), the OpenAPI schema, and its Swagger UI and ReDoc pages."""

from __future__ import annotations

from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView

from apps.api.views import accounts, challenges, common, leaderboards, ratchets, submissions, tasks

TASK = "challenges/<slug:slug>/tasks/<slug:task_slug>/"
RATCHET = "challenges/<slug:slug>/ratchets/<slug:ratchet_slug>/"
ITEM = RATCHET + "items/<int:item_id>/"

v1 = [
    path("me/", accounts.MeView.as_view(), name="me"),
    path("challenges/", challenges.ChallengeListView.as_view(), name="challenges"),
    path("challenges/<slug:slug>/", challenges.ChallengeDetailView.as_view(), name="challenge"),
    path("challenges/<slug:slug>/participation/", challenges.ParticipationView.as_view(), name="participation"),
    path("challenges/<slug:slug>/register/", challenges.RegisterView.as_view(), name="register"),
    path("challenges/<slug:slug>/leaderboard/", leaderboards.ChallengeLeaderboardView.as_view(), name="challenge-lb"),
    path("challenges/<slug:slug>/tasks/", tasks.TaskListView.as_view(), name="tasks"),
    path(TASK, tasks.TaskDetailView.as_view(), name="task"),
    path(TASK + "files/", tasks.TaskFilesView.as_view(), name="task-files"),
    path(TASK + "files/<int:file_id>/", tasks.TaskFileDownloadView.as_view(), name="task-file"),
    path(TASK + "quota/", tasks.TaskQuotaView.as_view(), name="task-quota"),
    path(TASK + "submissions/", submissions.SubmissionCreateView.as_view(), name="submission-create"),
    path(TASK + "leaderboard/", leaderboards.TaskLeaderboardView.as_view(), name="leaderboard"),
    path(TASK + "leaderboard/history/", leaderboards.TaskLeaderboardHistoryView.as_view(), name="history"),
    path("submissions/", submissions.SubmissionListView.as_view(), name="submissions"),
    path("submissions/<int:submission_id>/", submissions.SubmissionDetailView.as_view(), name="submission"),
    path(
        "submissions/<int:submission_id>/select-final/",
        submissions.SubmissionSelectFinalView.as_view(),
        name="select-final",
    ),
    path("submissions/<int:submission_id>/withdraw/", submissions.SubmissionWithdrawView.as_view(), name="withdraw"),
    path("benchmarks/", leaderboards.BenchmarkMatrixView.as_view(), name="matrix"),
    path("challenges/<slug:slug>/ratchets/", ratchets.RatchetListView.as_view(), name="ratchets"),
    path(RATCHET, ratchets.RatchetDetailView.as_view(), name="ratchet"),
    path(RATCHET + "rounds/<int:number>/standings/", ratchets.RoundStandingsView.as_view(), name="ratchet-standings"),
    path(RATCHET + "next-item/", ratchets.NextItemView.as_view(), name="ratchet-next-item"),
    path(ITEM + "payload/", ratchets.ItemPayloadView.as_view(), name="ratchet-item-payload"),
    path(ITEM + "answer/", ratchets.AnswerView.as_view(), name="ratchet-answer"),
]

app_name = "api"
urlpatterns = [
    path("v1/", include(v1)),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
    # Our own ReDoc page: drf-spectacular's loads fonts from a CDN.
    path("redoc/", SpectacularRedocView.as_view(url_name="api:schema", template_name="api/redoc.html"), name="redoc"),
    # Any other /api/ URL: a JSON 404 in the API's error shape, not the site's HTML page.
    re_path(r"^", common.not_found, name="not-found"),
]
