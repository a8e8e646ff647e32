"""Who the caller is, and their teams."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.selectors import teams_of_user
from apps.api.schema import errors
from apps.api.serializers import MeOut
from apps.api.views.common import caller


class MeView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(operation_id="me", tags=["accounts"], responses={200: MeOut, **errors()})
    def get(self, request: Request) -> Response:
        """The authenticated user and their teams (the CLI's `login` checks a token with this)."""
        user = caller(request)
        teams = teams_of_user(user=user).select_related("personal_owner")
        return Response(MeOut({"username": user.get_username(), "is_staff": user.is_staff, "teams": teams}).data)
