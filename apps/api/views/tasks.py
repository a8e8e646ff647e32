"""Tasks, their public data files (streamed, resumable) and your team's quota on them."""

from __future__ import annotations

from pathlib import Path

from django.http.response import HttpResponseBase
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.api.ranges import file_response
from apps.api.renderers import OctetStreamRenderer
from apps.api.schema import errors
from apps.api.serializers import QuotaOut, TaskDetailOut, TaskFilesOut, TaskSummaryOut
from apps.api.views.common import challenge_for, task_for
from apps.challenges import selectors
from apps.core.errors import Forbidden
from apps.submissions.services.quotas import quota_status


class TaskListView(APIView):
    @extend_schema(operation_id="tasks_list", tags=["tasks"], responses={200: TaskSummaryOut(many=True), **errors(404)})
    def get(self, request: Request, slug: str) -> Response:
        """The challenge's tasks you can see (published ones; organizers see all)."""
        challenge = challenge_for(request, slug)
        tasks = selectors.tasks_visible(challenge=challenge, user=request.user)
        return Response(TaskSummaryOut(tasks, many=True).data)


class TaskDetailView(APIView):
    @extend_schema(operation_id="tasks_get", tags=["tasks"], responses={200: TaskDetailOut, **errors(404)})
    def get(self, request: Request, slug: str, task_slug: str) -> Response:
        """A task: its benchmark and submission format, metrics, quotas, divisions and (for registered
        participants and organizers) its public data files."""
        task = task_for(request, slug, task_slug)
        try:
            files = list(selectors.task_public_files_for_download(task=task, user=request.user))
        except Forbidden:
            files = None
        return Response(TaskDetailOut(task, context={"request": request, "files": files}).data)


class TaskFilesView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(operation_id="task_files", tags=["tasks"], responses={200: TaskFilesOut, **errors(403, 404)})
    def get(self, request: Request, slug: str, task_slug: str) -> Response:
        """What a task directory for offline scoring holds: task.yaml's content and the public files.
        For registered participants and organizers."""
        task = task_for(request, slug, task_slug)
        files = selectors.task_public_files_for_download(task=task, user=request.user)
        return Response(TaskFilesOut(task, context={"request": request, "files": files}).data)


_BINARY = OpenApiResponse(OpenApiTypes.BINARY, description="The file's bytes (206: the requested range).")


class TaskFileDownloadView(APIView):
    permission_classes = [IsAuthenticated]
    renderer_classes = [JSONRenderer, OctetStreamRenderer]

    @extend_schema(
        operation_id="task_file_download",
        tags=["tasks"],
        parameters=[
            OpenApiParameter("Range", str, OpenApiParameter.HEADER, description="e.g. `bytes=1048576-` to resume"),
            OpenApiParameter("If-Range", str, OpenApiParameter.HEADER, description="The ETag the download began with"),
        ],
        responses={(200, "application/octet-stream"): _BINARY, (206, "application/octet-stream"): _BINARY}
        | errors(403, 404)
        | {416: OpenApiResponse(description="The range starts past the end of the file.")},
    )
    def get(self, request: Request, slug: str, task_slug: str, file_id: int) -> HttpResponseBase:
        """One public data file, streamed, with range requests (resume) and its SHA-256 as ETag and in
        `X-Content-SHA256`. For registered participants and organizers; hidden files are never served."""
        task = task_for(request, slug, task_slug)
        data_file = selectors.task_public_file_for_download(task=task, file_id=file_id, user=request.user)
        response = file_response(
            path=Path(data_file.file.path),
            filename=Path(data_file.relative_path).name,
            etag=f'"{data_file.sha256}"',
            range_header=request.headers.get("Range", ""),
            if_range=request.headers.get("If-Range", ""),
        )
        response["X-Content-SHA256"] = data_file.sha256
        return response


class TaskQuotaView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(operation_id="task_quota", tags=["tasks"], responses={200: QuotaOut, **errors(403, 404)})
    def get(self, request: Request, slug: str, task_slug: str) -> Response:
        """Your team's quota on the task: used, remaining, and when the daily quota resets."""
        task = task_for(request, slug, task_slug)
        team = selectors.competing_team(challenge=task.challenge, user=request.user)
        return Response(QuotaOut(quota_status(task=task, team=team)).data)
