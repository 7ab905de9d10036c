"""REST API of root store releases (published ones public, the draft staff-only) and the staff trust edit.

Thin over registry.selectors_releases and registry.actions; writes are staff only (403 otherwise).
"""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import generics
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import permissions
from accounts.idempotency import idempotent
from config.errors import DomainError, NotPermitted
from registry import selectors_releases as selectors
from registry.actions.certdata import root_store_entry_update
from registry.actions.releases import release_publish
from registry.models import Release, RootStoreEntry
from registry.serializers import RootStoreEntrySerializer
from registry.serializers_releases import (
    EntryTrustSerializer,
    ReleaseDetailSerializer,
    ReleasePublishSerializer,
    ReleaseSerializer,
)

TAG = ["registry"]


def _release(request, pk: int) -> Release:
    release = selectors.release_for(request.user, pk)
    if release is None:
        raise NotFound(f"No release {pk}, or not one you may see.")
    return release


def _editor(request) -> None:
    if not permissions.can_change_root_store(request.user):
        raise NotPermitted("Only root program staff change the root store and its releases.")


def _valid(serializer_class, data):
    ser = serializer_class(data=data)
    if not ser.is_valid():
        errors = {k: [str(e) for e in v] for k, v in ser.errors.items()}
        raise DomainError("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()), errors=errors)
    return ser.validated_data


@extend_schema(tags=TAG)
class ReleaseList(generics.ListAPIView):
    """Root store releases, newest first (the draft, staff only, first); a fixed number of queries."""

    serializer_class = ReleaseSerializer

    def get_queryset(self):
        return selectors.releases_for(self.request.user)


@extend_schema(tags=TAG)
class ReleaseDetail(APIView):
    """One release with every change it shipped."""

    @extend_schema(responses=ReleaseDetailSerializer)
    def get(self, request, pk: int):
        release = _release(request, pk)
        release.change_list = list(selectors.release_changes(release))
        release.change_count = len(release.change_list)
        return Response(ReleaseDetailSerializer(release).data)


@extend_schema(tags=TAG)
class ReleaseCertdata(APIView):
    """The certdata.txt the release shipped (text/plain), byte for byte."""

    @extend_schema(responses={(200, "text/plain"): OpenApiTypes.STR})
    def get(self, request, pk: int):
        release = _release(request, pk)
        return HttpResponse(selectors.release_certdata_text(release), content_type="text/plain; charset=utf-8")


@extend_schema(tags=TAG)
class ReleasePublish(APIView):
    """Publish the draft release (staff): its version, kind and date; it keeps the certdata.txt the store exports."""

    @idempotent
    @extend_schema(request=ReleasePublishSerializer, responses=ReleaseSerializer)
    def post(self, request, pk: int):
        _editor(request)
        release = _release(request, pk)
        data = _valid(ReleasePublishSerializer, request.data)
        release = release_publish(actor=request.user, release=release, **data)
        release.change_count = release.changes.count()
        return Response(ReleaseSerializer(release).data)


@extend_schema(tags=TAG)
class EntryTrust(APIView):
    """A root store entry's trust bits and distrust-after dates; staff change them (PATCH), each change
    recorded in the history and in the next (draft) release."""

    @extend_schema(responses=RootStoreEntrySerializer)
    def get(self, request, pk: int):
        return Response(RootStoreEntrySerializer(get_object_or_404(RootStoreEntry, pk=pk)).data)

    @extend_schema(request=EntryTrustSerializer, responses=RootStoreEntrySerializer)
    def patch(self, request, pk: int):
        _editor(request)
        entry = get_object_or_404(RootStoreEntry, pk=pk)
        changes = dict(_valid(EntryTrustSerializer, request.data))
        if not changes:
            raise DomainError("Give at least one of trust_server, trust_email, server_distrust_after, email_distrust_after.")
        entry = root_store_entry_update(actor=request.user, entry=entry, **changes)
        return Response(RootStoreEntrySerializer(entry).data)
