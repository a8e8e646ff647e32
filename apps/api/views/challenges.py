"""Challenges, and registering for one."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.api.schema import errors
from apps.api.serializers import ChallengeDetailOut, ChallengeOut, ParticipationOut, RegistrationIn
from apps.api.views.common import caller, challenge_for
from apps.challenges import selectors
from apps.challenges.services import participation_register


class ChallengeListView(APIView):
    @extend_schema(
        operation_id="challenges_list", tags=["challenges"], responses={200: ChallengeOut(many=True), **errors()}
    )
    def get(self, request: Request) -> Response:
        """The challenges you can see: public ones, and those you organize."""
        challenges = selectors.challenges_listed(user=request.user)
        return Response(ChallengeOut(challenges, many=True, context={"request": request}).data)


class ChallengeDetailView(APIView):
    @extend_schema(
        operation_id="challenges_get", tags=["challenges"], responses={200: ChallengeDetailOut, **errors(404)}
    )
    def get(self, request: Request, slug: str) -> Response:
        """A challenge with its rules, divisions, tasks and your participation."""
        challenge = challenge_for(request, slug)
        return Response(ChallengeDetailOut(challenge, context={"request": request}).data)


class ParticipationView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="participation_get", tags=["challenges"], responses={200: ParticipationOut, **errors(404)}
    )
    def get(self, request: Request, slug: str) -> Response:
        """Your participation in the challenge (`registered: false` if none) and your team."""
        challenge = challenge_for(request, slug)
        participation = selectors.participation_of(challenge=challenge, user=request.user)
        return Response(ParticipationOut().to_representation(participation))


class RegisterView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="register",
        tags=["challenges"],
        request=RegistrationIn,
        responses={200: ParticipationOut, 201: ParticipationOut, **errors(400, 403, 404)},
    )
    def post(self, request: Request, slug: str) -> Response:
        """Register your team for the challenge, accepting its rules. 201 when registered now, 200 when you
        already were (idempotent); the status is `pending` where organizers approve registrations."""
        challenge = challenge_for(request, slug)
        data = RegistrationIn(data=request.data)
        data.is_valid(raise_exception=True)
        existed = selectors.participation_of(challenge=challenge, user=request.user) is not None
        participation = participation_register(
            challenge=challenge, user=caller(request), accept_rules=data.validated_data["accept_rules"]
        )
        code = status.HTTP_200_OK if existed else status.HTTP_201_CREATED
        return Response(ParticipationOut().to_representation(participation), status=code)
