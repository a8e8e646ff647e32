"""The data ratchet: a challenge's ratchets and their rounds (figures, suite, test data), a closed round's frozen
standings, and validation (the next item to answer, its image or features, an answer)."""

from __future__ import annotations

import io
from typing import Any

from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.api.renderers import OctetStreamRenderer
from apps.api.schema import errors
from apps.api.serializers import (
    AnswerIn,
    AnswerOut,
    NextItemOut,
    RatchetDetailOut,
    RatchetOut,
    StandingOut,
)
from apps.api.views.common import caller, challenge_for
from apps.core.errors import Forbidden, NotFound
from apps.ratchets import selectors
from apps.ratchets.models import Ratchet, Round
from apps.ratchets.services import answer_record


def _ratchet_for(request: Request, slug: str, ratchet_slug: str) -> Ratchet:
    return selectors.ratchet_get(challenge=challenge_for(request, slug), slug=ratchet_slug, user=request.user)


class RatchetListView(APIView):
    @extend_schema(
        operation_id="ratchets_list", tags=["ratchets"], responses={200: RatchetOut(many=True), **errors(404)}
    )
    def get(self, request: Request, slug: str) -> Response:
        """The challenge's ratchets: each pairs a training-set task with a test-set task on the same ML task and
        runs in numbered rounds, with its settings and the round it is at."""
        challenge = challenge_for(request, slug)
        ratchets = selectors.ratchets_of_challenge(challenge=challenge, user=request.user).prefetch_related("rounds")
        return Response(RatchetOut(ratchets, many=True).data)


class RatchetDetailView(APIView):
    @extend_schema(operation_id="ratchets_get", tags=["ratchets"], responses={200: RatchetDetailOut, **errors(404)})
    def get(self, request: Request, slug: str, ratchet_slug: str) -> Response:
        """A ratchet with its rounds: status and dates, the figures of each (items collected and their statuses,
        Dynabench's model error rate MER and validated model error rate vMER, the suite's accuracy on accepted
        items, promotions), the suite its new items must fool (reference models and models trained on the best
        training sets, with their source), and the make-up of the training-set task's test data."""
        ratchet = _ratchet_for(request, slug, ratchet_slug)
        context = {
            "rounds": list(selectors.rounds_of(ratchet=ratchet)),
            "reference_models": selectors.reference_models(ratchet=ratchet),
            "makeup": selectors.test_data_makeup(ratchet=ratchet),
            "seed": selectors.seed_item_count(ratchet=ratchet),
        }
        return Response(RatchetDetailOut(ratchet, context=context).data)


class RoundStandingsView(APIView):
    @extend_schema(
        operation_id="ratchet_round_standings",
        tags=["ratchets"],
        responses={200: StandingOut(many=True), **errors(404)},
    )
    def get(self, request: Request, slug: str, ratchet_slug: str, number: int) -> Response:
        """A closed round's standings: the boards of the ratchet's tasks as they were when the round closed,
        frozen for good (each `document` is the leaderboard document `.../leaderboard/` served then). Only the
        splits you may see now. A round that is not closed has none yet: 404 (read the live boards)."""
        round_ = selectors.round_get(ratchet=_ratchet_for(request, slug, ratchet_slug), number=number)
        if round_.status != Round.Status.CLOSED:
            state = round_.get_status_display().lower()
            raise NotFound(f"Round {number} is {state}: its standings are frozen when it closes; read the live boards.")
        return Response(
            StandingOut(selectors.round_standings_visible(round_=round_, user=request.user), many=True).data
        )


class NextItemView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="ratchet_next_item", tags=["ratchets"], responses={200: NextItemOut, **errors(403, 404)}
    )
    def get(self, request: Request, slug: str, ratchet_slug: str) -> Response:
        """The next item for you to validate (the same one until you answer it), the labels to choose from and
        your progress; `item` is null when nothing is left for you now. For registered participants (never their
        own team's items) and the organizers. Fetch the image or features from `payload_url`, then post your
        answer to `.../items/{id}/answer/`."""
        ratchet = _ratchet_for(request, slug, ratchet_slug)
        user = caller(request)
        if not selectors.may_validate(ratchet=ratchet, user=user):
            raise Forbidden("Only registered participants and the organizers validate this challenge's items.")
        data = {
            "item": selectors.next_item(ratchet=ratchet, user=user),
            "labels": selectors.ratchet_labels(ratchet=ratchet),
            "progress": selectors.validation_progress(ratchet=ratchet, user=user),
        }
        response = Response(NextItemOut(data, context={"request": request, "ratchet": ratchet}).data)
        response["Cache-Control"] = "private, no-store"  # the item is this validator's alone
        return response


_PAYLOAD = {
    (200, media_type): OpenApiResponse(OpenApiTypes.BINARY, description="The item's image, or its features.")
    for media_type in selectors.PAYLOAD_TYPES
}


class _PngRenderer(OctetStreamRenderer):
    media_type = "image/png"


class _CsvRenderer(OctetStreamRenderer):
    media_type = "text/csv"


class ItemPayloadView(APIView):
    permission_classes = [IsAuthenticated]
    renderer_classes = [JSONRenderer, _PngRenderer, _CsvRenderer]

    @extend_schema(operation_id="ratchet_item_payload", tags=["ratchets"], responses=_PAYLOAD | errors(404))
    def get(self, request: Request, slug: str, ratchet_slug: str, item_id: int) -> FileResponse:
        """An item's image (PNG) or features (one CSV line), for validating it: to its round's validators while
        the round is open or validating (never their own team's items), and to the organizers."""
        ratchet = _ratchet_for(request, slug, ratchet_slug)
        payload = selectors.item_payload_for(ratchet=ratchet, item_id=item_id, user=request.user)
        response = FileResponse(
            io.BytesIO(payload.content), filename=payload.filename, content_type=payload.content_type
        )
        response["Cache-Control"] = "private, no-store"
        return response


class AnswerView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="ratchet_answer",
        tags=["ratchets"],
        request=AnswerIn,
        responses={200: AnswerOut, **errors(400, 403, 404)},
    )
    def post(self, request: Request, slug: str, ratchet_slug: str, item_id: int) -> Response:
        """Answer an item: `correct` (the claimed label is right), `incorrect` with the right `label`, or `flag`
        with a `reason` (not a valid item at all). Answers what was recorded and your progress, never what the
        answer did to the item. Refused: your own team's item or not a validator (403), an item already decided
        or already answered by you, a closed round or a malformed answer (400), answers faster than the ratchet's
        `answers_per_minute` (429 `too_fast`)."""
        ratchet = _ratchet_for(request, slug, ratchet_slug)
        form = AnswerIn(data=request.data)
        form.is_valid(raise_exception=True)
        data: dict[str, Any] = form.validated_data
        user = caller(request)
        item = answer_record(
            item_id=item_id,
            ratchet=ratchet,
            user=user,
            verdict=data["verdict"],
            label=data["label"],
            reason=data["reason"],
        )
        progress = selectors.validation_progress(ratchet=ratchet, user=user)
        return Response(AnswerOut({"id": item.pk, "verdict": data["verdict"], "progress": progress}).data)
