"""Submissions: create (upload), list yours, follow one, select it as final, withdraw it."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import RequestDataTooBig
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import APIException
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.api.schema import errors
from apps.api.serializers import SelectFinalIn, SubmissionIn, SubmissionListQuery, SubmissionOut, SubmissionPageOut
from apps.api.views.common import caller, challenge_for, task_for
from apps.challenges import selectors as challenge_selectors
from apps.core.errors import InvalidInput, NotFound
from apps.core.files import human_size
from apps.core.uploads import UploadTooLarge, limit_uploads
from apps.divisions.selectors import division_of_task
from apps.jobs.pipeline import submission_select_final_and_rank, submission_withdraw_and_rank
from apps.submissions import selectors
from apps.submissions.models import Submission
from apps.submissions.services.intake import SubmissionInput, submission_create


class PayloadTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The upload is too large."
    default_code = "too_large"


def _upload_limit(slug: str, task_slug: str) -> int:
    """The upload limit of the task, looked up before authentication (a session's CSRF check reads the body) as
    an anonymous visitor sees the task, so that the answer tells nothing of a task the caller may not see;
    for any other, the platform's cap (the service holds every submission to its task's limit in the end)."""
    anonymous = AnonymousUser()
    try:
        challenge = challenge_selectors.challenge_get(slug=slug, user=anonymous)
        return challenge_selectors.task_get(challenge=challenge, slug=task_slug, user=anonymous).max_upload_bytes
    except NotFound:
        return int(settings.DATA_UPLOAD_MAX_BYTES)


class SubmissionCreateView(APIView):
    permission_classes = [IsAuthenticated]
    parser_classes = [MultiPartParser, FormParser]

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        # Before anything reads the body: an upload over the task's limit is refused by its Content-Length,
        # or stopped as it streams in, instead of being stored whole first.
        limit_uploads(
            request._request,
            max_file_bytes=_upload_limit(kwargs["slug"], kwargs["task_slug"]),
            max_files=2,
            what="submission file",
            accepted_by="this task",
        )
        super().initial(request, *args, **kwargs)

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, UploadTooLarge):
            exc = PayloadTooLarge(exc.message)
        elif isinstance(exc, RequestDataTooBig):  # a body without files, over DATA_UPLOAD_MAX_MEMORY_SIZE
            limit = human_size(settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 0)
            exc = PayloadTooLarge(
                f"The form's fields are larger than {limit}; send the artifact as a file (multipart)."
            )
        return super().handle_exception(exc)

    @extend_schema(
        operation_id="submissions_create",
        tags=["submissions"],
        request=SubmissionIn,
        responses={
            201: OpenApiResponse(SubmissionOut, description="Stored; validated (queued) or being validated."),
            422: OpenApiResponse(SubmissionOut, description="Stored but rejected by validation: see `message`."),
            **errors(400, 403, 404, 413),
        },
    )
    def post(self, request: Request, slug: str, task_slug: str) -> Response:
        """Submit an artifact (multipart upload) to the task, exactly as the web form does: small files are
        validated before the answer (201, or 422 with the evaluator's message when rejected, as the form
        answers); large ones are validated by a worker. Follow the evaluation at the submission's URL.
        A used-up quota answers 429 with `resets_at`; an upload over the task's `max_upload_bytes` answers 413
        (it is not stored)."""
        task = task_for(request, slug, task_slug)
        form = SubmissionIn(data=request.data)
        form.is_valid(raise_exception=True)
        data: dict[str, Any] = form.validated_data
        try:
            division = division_of_task(task=task, slug=data.get("division"))
        except NotFound as exc:
            raise InvalidInput(exc.message) from exc  # a division named in the body is input, not the resource
        submission = submission_create(
            task=task,
            division=division,
            user=caller(request),
            data=SubmissionInput(
                artifact=data["artifact"],
                artifact_name=data["artifact"].name,
                code_archive=data.get("code_archive"),
                method_description=data["method_description"],
                code_url=data.get("code_url", ""),
            ),
        )
        rejected = submission.status == Submission.Status.REJECTED
        code = status.HTTP_422_UNPROCESSABLE_ENTITY if rejected else status.HTTP_201_CREATED
        return Response(SubmissionOut(submission, context={"request": request}).data, status=code)


class SubmissionPagination(LimitOffsetPagination):
    default_limit = 100
    max_limit = 500


class SubmissionListView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="submissions_list",
        tags=["submissions"],
        parameters=[
            SubmissionListQuery,
            OpenApiParameter("limit", int, description="Page size (default 100, at most 500)."),
            OpenApiParameter("offset", int, description="Rows to skip."),
        ],
        responses={200: SubmissionPageOut, **errors(400, 404)},
    )
    def get(self, request: Request) -> Response:
        """Your teams' submissions, newest first, optionally of one challenge or task (paginated)."""
        query = SubmissionListQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        challenge_slug, task_slug = query.validated_data.get("challenge"), query.validated_data.get("task")
        task = task_for(request, challenge_slug, task_slug) if challenge_slug and task_slug else None
        submissions = selectors.submissions_of_user(user=request.user, task=task).select_related("submitted_by")
        if challenge_slug and task is None:
            submissions = submissions.filter(task__challenge=challenge_for(request, challenge_slug))
        paginator = SubmissionPagination()
        page = paginator.paginate_queryset(submissions, request, view=self) or []
        return paginator.get_paginated_response(SubmissionOut(page, many=True, context={"request": request}).data)


class SubmissionDetailView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(operation_id="submissions_get", tags=["submissions"], responses={200: SubmissionOut, **errors(404)})
    def get(self, request: Request, submission_id: int) -> Response:
        """A submission: its state, progress, message and (once scored) metrics. Visible to its team, the
        challenge's organizers and staff."""
        submission = selectors.submission_get(submission_id=submission_id, user=request.user)
        response = Response(SubmissionOut(submission, context={"request": request}).data)
        response["Cache-Control"] = "no-store"
        return response


class SubmissionSelectFinalView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="submissions_select_final",
        tags=["submissions"],
        request=SelectFinalIn,
        responses={200: SubmissionOut, **errors(400, 403, 404)},
    )
    def post(self, request: Request, submission_id: int) -> Response:
        """Select the submission as one of your team's final ones for its task and division (`selected: false`
        clears it). A team selects up to the task's `final_selections` there (400 beyond, naming its selections:
        clear one first); the private leaderboard ranks it by the best of them. The boards that depend on the
        selection are updated at once."""
        submission = selectors.submission_get(submission_id=submission_id, user=request.user)
        form = SelectFinalIn(data=request.data)
        form.is_valid(raise_exception=True)
        chosen = submission_select_final_and_rank(
            submission=submission, user=caller(request), selected=form.validated_data["selected"]
        )
        return Response(SubmissionOut(chosen, context={"request": request}).data)


class SubmissionWithdrawView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="submissions_withdraw",
        tags=["submissions"],
        request=None,
        responses={200: SubmissionOut, **errors(403, 404)},
    )
    def post(self, request: Request, submission_id: int) -> Response:
        """Withdraw the submission for good: it leaves the leaderboards (the quota it used is not refunded)."""
        submission = selectors.submission_get(submission_id=submission_id, user=request.user)
        withdrawn = submission_withdraw_and_rank(submission=submission, user=caller(request))
        return Response(SubmissionOut(withdrawn, context={"request": request}).data)
