"""REST API of CA owner records (issue 14): create and change owners, grant and revoke
representation, attach intermediates by chaining. Thin: parse, ask accounts.permissions, call one
action (which enforces the same rule), answer."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import permissions
from accounts.idempotency import idempotent
from config.errors import DomainError, NotPermitted
from history import selectors as history
from registry import api, selectors, selectors_owners
from registry.actions.chaining import owners_attach_by_chaining
from registry.actions.owners import ca_owner_create, ca_owner_update, representation_grant, representation_revoke
from registry.models import CAOwner, RegistryHistory
from registry.serializers_owners import (
    CAOwnerInputSerializer,
    CAOwnerRecordSerializer,
    ChainingSummarySerializer,
    RepresentativeInputSerializer,
    RepresentativesSerializer,
)


def _signed_in(request) -> None:
    if not request.user.is_authenticated:
        raise exceptions.NotAuthenticated()


def _allowed(request, allowed: bool, refusal: str) -> None:
    _signed_in(request)
    if not allowed:
        raise NotPermitted(refusal)


def _input(request, *, partial: bool) -> dict:
    data = CAOwnerInputSerializer(data=request.data, partial=partial)
    if not data.is_valid():
        errors = {k: [str(m) for m in (v if isinstance(v, list) else [v])] for k, v in data.errors.items()}
        raise DomainError("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()), errors=errors)
    return dict(data.validated_data)


def _owner_data(request, pk: int) -> dict:
    annotated = get_object_or_404(selectors.ca_owner_list().prefetch_related("contacts", "urls"), pk=pk)
    return CAOwnerRecordSerializer(annotated, context={"request": request}).data


class CAOwnerListCreate(api.CAOwnerList):
    """CA owners with their counts, status label, URLs and (for staff and representatives) contacts;
    POST creates one (staff)."""

    serializer_class = CAOwnerRecordSerializer

    def get_queryset(self):
        return selectors.ca_owner_list().prefetch_related("contacts", "urls")

    @extend_schema(summary="Create a CA owner (staff)", request=CAOwnerInputSerializer, responses={201: CAOwnerRecordSerializer})
    @idempotent
    def post(self, request):
        _allowed(request, permissions.can_edit_ca_owner(request.user, None), "Only root program staff create CA owner records.")
        owner = ca_owner_create(actor=request.user, **_input(request, partial=False))
        return Response(_owner_data(request, owner.pk), status=201)


class CAOwnerDetailUpdate(api.CAOwnerDetail):
    """One CA owner; PATCH changes what is sent, PUT the whole record (staff)."""

    serializer_class = CAOwnerRecordSerializer

    def get_queryset(self):
        return selectors.ca_owner_list().prefetch_related("contacts", "urls")

    def _change(self, request, pk: int, *, partial: bool):
        owner = get_object_or_404(CAOwner, pk=pk)
        _allowed(request, permissions.can_edit_ca_owner(request.user, owner), "Only root program staff change CA owner records.")
        values = _input(request, partial=partial)
        if not partial:
            values.setdefault("contacts", [])
            values.setdefault("urls", [])
        ca_owner_update(actor=request.user, owner=owner, **values)
        return Response(_owner_data(request, owner.pk))

    @extend_schema(summary="Change a CA owner (staff)", request=CAOwnerInputSerializer, responses=CAOwnerRecordSerializer)
    def patch(self, request, pk: int):
        return self._change(request, pk, partial=True)

    @extend_schema(summary="Replace a CA owner's record (staff)", request=CAOwnerInputSerializer, responses=CAOwnerRecordSerializer)
    def put(self, request, pk: int):
        return self._change(request, pk, partial=False)


def _representatives(request, owner: CAOwner) -> dict:
    rows = history.for_subject(owner).filter(
        action__in=[RegistryHistory.REPRESENTATIVE_GRANTED, RegistryHistory.REPRESENTATIVE_REVOKED]
    )
    return RepresentativesSerializer({"representatives": list(selectors_owners.representatives_of(owner)), "history": list(rows)}).data


class CARepresentatives(APIView):
    """Who represents a CA owner and who granted or revoked it when (staff); POST grants."""

    def _owner(self, request, pk: int) -> CAOwner:
        owner = get_object_or_404(CAOwner, pk=pk)
        _allowed(request, permissions.can_manage_representation(request.user, owner), "Only root program staff manage CA representation.")
        return owner

    @extend_schema(summary="Representatives of a CA owner and the representation history (staff)", responses=RepresentativesSerializer)
    def get(self, request, pk: int):
        return Response(_representatives(request, self._owner(request, pk)))

    @extend_schema(summary="Grant CA representation (staff)", request=RepresentativeInputSerializer, responses={201: RepresentativesSerializer})
    @idempotent
    def post(self, request, pk: int):
        owner = self._owner(request, pk)
        data = RepresentativeInputSerializer(data=request.data)
        if not data.is_valid():
            raise DomainError("user: give a user name, e-mail address or id.", errors={"user": ["Required."]})
        user = selectors_owners.find_user(data.validated_data["user"])
        if user is None:
            raise DomainError(f"No account {data.validated_data['user']!r}.", errors={"user": ["No such account."]})
        representation_grant(actor=request.user, owner=owner, user=user)
        return Response(_representatives(request, owner), status=201)


class CARepresentativeRevoke(APIView):
    @extend_schema(summary="Revoke CA representation (staff)", responses={204: None})
    def delete(self, request, pk: int, user_id: int):
        owner = get_object_or_404(CAOwner, pk=pk)
        _allowed(request, permissions.can_manage_representation(request.user, owner), "Only root program staff manage CA representation.")
        user = get_object_or_404(selectors_owners.representatives_of(owner), pk=user_id)
        representation_revoke(actor=request.user, owner=owner, user=user)
        return Response(status=204)


class AttachByChaining(APIView):
    """Give every intermediate without an owner the owner of the root it chains to (staff); ambiguous
    ones (roots of several owners) stay unattached and are listed."""

    @extend_schema(summary="Attach intermediates to their owner by chaining (staff)", request=None, responses=ChainingSummarySerializer)
    @idempotent
    def post(self, request):
        _allowed(request, permissions.can_edit_registry(request.user), "Only root program staff attach owners.")
        summary = owners_attach_by_chaining(actor=request.user)
        return Response(ChainingSummarySerializer(summary).data)
