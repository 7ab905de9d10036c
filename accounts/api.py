"""`/api/v1/me`: who a request is authenticated as, so a client can check its key."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import permissions
from accounts.models import ApiKey


class MeKeySerializer(serializers.Serializer):
    name = serializers.CharField()
    prefix = serializers.CharField()
    read_only = serializers.BooleanField()
    created_at = serializers.DateTimeField()


class MeSerializer(serializers.Serializer):
    authenticated = serializers.BooleanField()
    username = serializers.CharField(allow_null=True)
    role = serializers.ChoiceField(choices=[r.value for r in permissions.Role])
    represented_ca_owner_ids = serializers.ListField(child=serializers.IntegerField())
    key = MeKeySerializer(allow_null=True, help_text="The API key this request used; null for a session or none.")


class MeView(APIView):
    @extend_schema(
        operation_id="me",
        summary="Who this request is authenticated as",
        description="Check a key: its user, role and whether it is read-only. Anonymous requests answer too.",
        responses=MeSerializer,
        tags=["accounts"],
    )
    def get(self, request):
        user = request.user
        key = request.auth if isinstance(request.auth, ApiKey) else None
        data = {
            "authenticated": bool(user and user.is_authenticated),
            "username": user.username if user and user.is_authenticated else None,
            "role": permissions.role(user).value,
            "represented_ca_owner_ids": sorted(permissions.represented_owner_ids(user)),
            "key": MeKeySerializer(key).data if key else None,
        }
        return Response(MeSerializer(data).data)
