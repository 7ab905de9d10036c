"""REST API of audits: /api/v1/audits/, /api/v1/auditors/, /api/v1/cas/{id}/audit-findings/.

Thin: parse with a serializer, ask accounts.permissions, call one action or selector.
"""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import permissions as perm
from accounts.idempotency import idempotent
from audits import actions, selectors
from audits.domain.criteria import FAMILIES
from audits.models import AuditStatement
from audits.serializers import (
    AuditorInputSerializer,
    AuditorSerializer,
    CAAuditFindingsSerializer,
    StatementDetailSerializer,
    StatementInputSerializer,
    StatementSerializer,
)
from config.api import query_choice, query_int
from config.errors import DomainError, NotPermitted


class StatementListCreate(generics.GenericAPIView):
    serializer_class = StatementSerializer
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    @extend_schema(
        summary="Audit statements you may see",
        parameters=[
            OpenApiParameter("ca_owner", int, description="Only this CA owner's statements."),
            OpenApiParameter("family", str, enum=list(FAMILIES), description="Only statements with a criterion of this family."),
            OpenApiParameter("verification", str, enum=AuditStatement.Verification.values),
            OpenApiParameter("source", str, enum=AuditStatement.Source.values),
        ],
        responses=StatementSerializer(many=True),
    )
    def get(self, request):
        qs = selectors.statement_list(
            user=request.user,
            ca_owner_id=query_int(request, "ca_owner", minimum=1),
            family=query_choice(request, "family", FAMILIES),
            verification=query_choice(request, "verification", AuditStatement.Verification.values),
            source=query_choice(request, "source", AuditStatement.Source.values),
        )
        page = self.paginate_queryset(qs)
        return self.get_paginated_response(StatementSerializer(page, many=True).data)

    @extend_schema(
        summary="Submit an audit statement",
        description="CA representatives submit for their CA (source 'ca': pending until the auditor confirms by "
        "the e-mailed link); staff for any CA, and may record a statement as received from the auditor.",
        request={"application/json": StatementInputSerializer, "multipart/form-data": StatementInputSerializer},
        responses={201: StatementDetailSerializer},
    )
    @idempotent
    def post(self, request):
        from registry.models import CAOwner

        if not request.user.is_authenticated:
            raise NotPermitted("Sign in (or use an API key) to submit audit statements.")
        data = StatementInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        d = data.validated_data
        owner = CAOwner.objects.filter(pk=d["ca_owner"]).first()
        if owner is None:
            raise DomainError(f"No CA owner with id {d['ca_owner']}.", errors={"ca_owner": ["Unknown CA owner."]})
        auditor = None
        if d["auditor"] is not None:
            auditor = selectors.visible_auditors(request.user).filter(pk=d["auditor"]).first()
            if auditor is None:
                raise DomainError(f"No auditor with id {d['auditor']}.", errors={"auditor": ["Unknown auditor."]})
        statement = actions.statement_submit(
            actor=request.user, ca_owner=owner, auditor=auditor, new_auditor_name=d["auditor_name"],
            source=d["source"], kind=d["kind"], period_start=d["period_start"], period_end=d["period_end"],
            statement_date=d["statement_date"], url=d["url"], file=d["file"],
            criteria=[actions.CriterionInput(c["key"], c["version"], tuple(c["policies"])) for c in d["criteria"]],
            fingerprints=d["fingerprints"],
            findings=[actions.FindingInput(f["severity"], f["text"]) for f in d["findings"]],
        )
        detail = selectors.statement_detail(user=request.user, pk=statement.pk)
        detail.fingerprint_count = detail.fingerprints.count()
        detail.finding_count = detail.findings.count()
        return Response(StatementDetailSerializer(detail).data, status=201)


class StatementDetail(APIView):
    @extend_schema(summary="One audit statement with its scope and qualifications",
                   responses=StatementDetailSerializer)
    def get(self, request, pk: int):
        statement = selectors.statement_detail(user=request.user, pk=pk)
        if statement is None:
            from django.http import Http404

            raise Http404("No such statement, or not one you may see.")
        statement.fingerprint_count = len(statement.fingerprints.all())
        statement.finding_count = len(statement.findings.all())
        return Response(StatementDetailSerializer(statement).data)


class AuditorListCreate(generics.GenericAPIView):
    serializer_class = AuditorSerializer

    @extend_schema(summary="Auditors and their verified qualifications", responses=AuditorSerializer(many=True))
    def get(self, request):
        qs = selectors.visible_auditors(request.user).prefetch_related("qualifications").order_by("name")
        page = self.paginate_queryset(qs)
        ctx = {"show_contacts": perm.can_view_auditor_contacts(request.user)}
        return self.get_paginated_response(AuditorSerializer(page, many=True, context=ctx).data)

    @extend_schema(summary="Add an auditor (staff)", request=AuditorInputSerializer, responses={201: AuditorSerializer})
    @idempotent
    def post(self, request):
        data = AuditorInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        auditor = actions.auditor_create(actor=request.user, **data.validated_data)
        return Response(AuditorSerializer(auditor, context={"show_contacts": True}).data, status=201)


class AuditorDetail(APIView):
    @extend_schema(summary="One auditor", responses=AuditorSerializer)
    def get(self, request, pk: int):
        auditor = get_object_or_404(selectors.visible_auditors(request.user).prefetch_related("qualifications"), pk=pk)
        ctx = {"show_contacts": perm.can_view_auditor_contacts(request.user)}
        return Response(AuditorSerializer(auditor, context=ctx).data)


class CAAuditFindings(APIView):
    @extend_schema(
        summary="Audit compliance findings for a CA owner",
        description="The audit checks (late or missing statements, gaps, periods over a year, point-in-time "
        "audits where a period is due, uncovered trusted certificates, unapproved auditors, numerous or serious "
        "qualifications) over the statements you may see.",
        responses=CAAuditFindingsSerializer,
    )
    def get(self, request, pk: int):
        from registry.models import CAOwner

        owner = get_object_or_404(CAOwner, pk=pk)
        today = timezone.localdate()
        findings = selectors.ca_audit_findings(user=request.user, ca_owner_id=owner.pk, today=today)
        return Response(CAAuditFindingsSerializer({"ca_owner": owner.pk, "as_of": today, "findings": findings}).data)
