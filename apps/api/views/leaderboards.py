"""Leaderboards (per task, division and split; per challenge) and the benchmark matrix."""

from __future__ import annotations

from django.http import HttpResponse
from django.http.response import HttpResponseBase
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.api.schema import errors
from apps.api.serializers import (
    ChallengeLeaderboardOut,
    HistoryPointOut,
    LeaderboardOut,
    LeaderboardQuery,
    MatrixOut,
)
from apps.api.views.common import challenge_for
from apps.challenges import selectors as challenge_selectors
from apps.leaderboards import documents, selectors
from evaluators import available_slugs, get_evaluator


def _read(request: Request, slug: str, task_slug: str) -> selectors.BoardRead:
    division, split = None, "public"  # LeaderboardQuery's defaults: a read naming nothing has nothing to check
    if request.query_params:
        query = LeaderboardQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        division, split = query.validated_data.get("division"), query.validated_data["split"]
    return selectors.board_read(
        challenge_slug=slug, task_slug=task_slug, division_slug=division, split=split, user=request.user
    )


class TaskLeaderboardView(APIView):
    @extend_schema(
        operation_id="leaderboard_get",
        tags=["leaderboards"],
        parameters=[
            LeaderboardQuery,
            OpenApiParameter("If-None-Match", str, OpenApiParameter.HEADER, description="A previous ETag."),
        ],
        responses={
            200: LeaderboardOut,
            304: OpenApiResponse(description="Unchanged since the ETag sent in If-None-Match."),
            **errors(400, 404),
        },
    )
    def get(self, request: Request, slug: str, task_slug: str) -> HttpResponseBase:
        """A task's leaderboard in one division and split: one ranked row per team, baselines marked (the same
        document as the page's `leaderboard.json`). On the private split each row carries its public rank (the
        shake-up). A split the caller may not see answers 404, as one that does not exist; boards other than the
        public one are sent `Cache-Control: private`. Send the ETag back in If-None-Match to get 304 while
        nothing changed (each rebuild bumps the version)."""
        return documents.document_response(
            _read(request, slug, task_slug), documents.BOARD, if_none_match=request.headers.get("If-None-Match", "")
        )


class TaskLeaderboardHistoryView(APIView):
    @extend_schema(
        operation_id="leaderboard_history",
        tags=["leaderboards"],
        parameters=[
            LeaderboardQuery,
            OpenApiParameter("If-None-Match", str, OpenApiParameter.HEADER, description="A previous ETag."),
        ],
        responses={
            200: HistoryPointOut(many=True),
            304: OpenApiResponse(description="Unchanged since the ETag sent in If-None-Match."),
            **errors(400, 404),
        },
    )
    def get(self, request: Request, slug: str, task_slug: str) -> HttpResponseBase:
        """Every ranked submission's primary score on the split over time, with the best so far (the page's
        chart). The same access rule as the board."""
        return documents.document_response(
            _read(request, slug, task_slug), documents.HISTORY, if_none_match=request.headers.get("If-None-Match", "")
        )


class ChallengeLeaderboardView(APIView):
    @extend_schema(
        operation_id="challenge_leaderboard",
        tags=["leaderboards"],
        responses={200: ChallengeLeaderboardOut, **errors(404)},
    )
    def get(self, request: Request, slug: str) -> HttpResponse:
        """The challenge at a glance: the public leaderboard of every visible task in each of its divisions
        (each board the document `.../leaderboard/` serves)."""
        challenge = challenge_for(request, slug)
        reads = selectors.public_board_reads(challenge=challenge, user=request.user)
        return HttpResponse(documents.challenge_boards_json(challenge.slug, reads), content_type="application/json")


class BenchmarkMatrixView(APIView):
    @extend_schema(operation_id="benchmark_matrix", tags=["leaderboards"], responses={200: MatrixOut, **errors()})
    def get(self, request: Request) -> Response:
        """The paper's Table 2: benchmark types x ML tasks, each cell with its public tasks and leaders."""
        benchmarks = [(slug, get_evaluator(slug).title) for slug in available_slugs()]
        tasks = challenge_selectors.tasks_public(user=request.user)
        matrix = selectors.benchmark_matrix(tasks=tasks, benchmarks=benchmarks)
        return Response(MatrixOut(matrix).data)
