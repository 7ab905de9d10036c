"""REST API of incidents: `/api/v1/incidents/` and its comments, questions, reports and status.

Thin: parse with an input serializer, ask accounts.permissions (through the selectors and
actions), call one action or selector. An incident the client may not see is a 404.
"""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status as http
from rest_framework.exceptions import NotFound
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import permissions as perm
from accounts.idempotency import idempotent
from accounts.models import User
from compliance import selectors as sel
from compliance.actions import incidents as act
from compliance.filters import IncidentFilter
from compliance.models import Incident, Question
from compliance.serializers import (
    AnswerInput,
    CommentInput,
    CommentSerializer,
    IncidentCreateInput,
    IncidentSerializer,
    IncidentStatusSerializer,
    IncidentUpdateInput,
    QuestionInput,
    QuestionSerializer,
    ReportInput,
    ReportPreviewSerializer,
    ReportVersionSerializer,
)
from config import stale
from config.api import ApiPagination
from config.errors import DomainError, NotPermitted
from config.filters import FilterBackend, db_int
from registry.models import CAOwner

TAGS = ["incidents"]


def _incident(request, number: int) -> Incident:
    incident = sel.incident_for(request.user, number)
    if incident is None:
        raise NotFound(f"No incident {number}, or not one you may see.")
    return incident


def _owner(value: str) -> CAOwner | None:
    value = (value or "").strip()
    pk = db_int(value)
    if pk is not None:
        return CAOwner.objects.filter(pk=pk).first()
    return CAOwner.objects.filter(name=value).first()


def _user(username: str | None) -> User | None:
    if not username:
        return None
    user = User.objects.filter(username=username, is_active=True).first()
    if user is None:
        raise DomainError(f"No user named {username!r}.", errors={"asked_user": ["unknown user"]})
    return user


def _valid(serializer_class, data):
    s = serializer_class(data=data)
    s.is_valid(raise_exception=True)
    return s.validated_data


class IncidentList(GenericAPIView):
    pagination_class = ApiPagination
    # The query parameters, their validation (a 400 naming the parameter) and their OpenAPI
    # description all come from IncidentFilter, the list page's and the CSV export's filter too.
    filter_backends = [FilterBackend]
    filterset_class = IncidentFilter

    def get_queryset(self):
        return sel.incidents_visible_to(self.request.user)

    @extend_schema(operation_id="incidents_list", summary="List incidents you may see", tags=TAGS,
                   responses=IncidentSerializer(many=True))
    def get(self, request):
        now = timezone.now()
        qs = sel.with_list_data(self.filter_queryset(self.get_queryset()), request.user)
        page = self.paginate_queryset(qs)
        return self.get_paginated_response(IncidentSerializer(page, many=True, context={"now": now}).data)

    @extend_schema(operation_id="incidents_create", summary="File an incident", tags=TAGS,
                   request=IncidentCreateInput, responses={201: IncidentSerializer})
    @idempotent
    def post(self, request):
        if not perm.can_create_incident(request.user):
            raise NotPermitted("Authenticate to file an incident.")
        d = _valid(IncidentCreateInput, request.data)
        owner = _owner(d["ca_owner"])
        if owner is None:
            raise DomainError(f"Unknown CA owner {d['ca_owner']!r}: give its id or exact name.",
                              errors={"ca_owner": ["unknown CA owner"]})
        incident = act.incident_create(
            actor=request.user, ca_owner=owner, title=d["title"], description=d["description"],
            security_sensitive=d["security_sensitive"], source=d["source"],
            whiteboard=d["whiteboard"] if perm.can_set_whiteboard_on_filing(request.user) else "", became_aware_at=d["became_aware_at"],
        )
        row = sel.with_list_data(Incident.objects.filter(pk=incident.pk), request.user).get()
        return Response(IncidentSerializer(row, context={"now": timezone.now()}).data, status=http.HTTP_201_CREATED)


class IncidentDetail(APIView):
    @extend_schema(operation_id="incidents_retrieve", summary="One incident", tags=TAGS, responses=IncidentSerializer)
    def get(self, request, number: int):
        incident = _incident(request, number)
        row = sel.with_list_data(Incident.objects.filter(pk=incident.pk), request.user).get()
        return stale.with_etag(Response(IncidentSerializer(row, context={"now": timezone.now()}).data),
                               sel.incident_version(row))

    @extend_schema(operation_id="incidents_update", summary="Triage an incident (staff)", tags=TAGS,
                   request=IncidentUpdateInput, parameters=[stale.if_match_parameter()],
                   responses={200: IncidentSerializer,
                              412: OpenApiResponse(description="Changed since the version If-Match names")},
                   description="Send the ETag of your GET as `If-Match` to refuse (412) a change made on a stale "
                               "version; without If-Match the change is applied whatever changed meanwhile.")
    def patch(self, request, number: int):
        incident = _incident(request, number)
        d = dict(_valid(IncidentUpdateInput, request.data))
        if "assignee" in d:
            d["assignee"] = _user(d["assignee"]) if d["assignee"] else None
        act.incident_update(actor=request.user, incident=incident, base_version=stale.if_match(request), **d)
        row = sel.with_list_data(Incident.objects.filter(pk=incident.pk), request.user).get()
        return stale.with_etag(Response(IncidentSerializer(row, context={"now": timezone.now()}).data),
                               sel.incident_version(row))


class IncidentComments(APIView):
    pagination_class = ApiPagination

    @extend_schema(operation_id="incidents_comments_list", summary="Comments you may see, in time order", tags=TAGS,
                   responses=CommentSerializer(many=True))
    def get(self, request, number: int):
        incident = _incident(request, number)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(sel.comments_for(incident, request.user), request, view=self)
        return paginator.get_paginated_response(CommentSerializer(page, many=True).data)

    @extend_schema(operation_id="incidents_comments_create", summary="Post a comment or an update", tags=TAGS,
                   request=CommentInput, responses={201: CommentSerializer})
    @idempotent
    def post(self, request, number: int):
        incident = _incident(request, number)
        d = _valid(CommentInput, request.data)
        comment = act.comment_create(actor=request.user, incident=incident, **d)
        return Response(CommentSerializer(comment).data, status=http.HTTP_201_CREATED)


class IncidentQuestions(APIView):
    @extend_schema(operation_id="incidents_questions_list", summary="Questions (needinfo) of an incident", tags=TAGS,
                   responses=QuestionSerializer(many=True))
    def get(self, request, number: int):
        incident = _incident(request, number)
        return Response(QuestionSerializer(sel.questions_for(incident, request.user), many=True).data)

    @extend_schema(operation_id="incidents_questions_create", summary="Ask the CA or a person (due in 7 days)",
                   tags=TAGS, request=QuestionInput, responses={201: QuestionSerializer})
    @idempotent
    def post(self, request, number: int):
        incident = _incident(request, number)
        d = _valid(QuestionInput, request.data)
        question = act.question_ask(actor=request.user, incident=incident, body=d["body"],
                                    asked_user=_user(d["asked_user"]))
        return Response(QuestionSerializer(question).data, status=http.HTTP_201_CREATED)


class QuestionAnswer(APIView):
    @extend_schema(operation_id="incidents_questions_answer", summary="Answer a question (the asked party only)",
                   tags=TAGS, request=AnswerInput, responses={201: CommentSerializer})
    @idempotent
    def post(self, request, number: int, question_id: int):
        incident = _incident(request, number)
        question = Question.objects.filter(pk=question_id, incident=incident).select_related("incident").first()
        if question is None:
            raise NotFound(f"No question {question_id} on incident {number}.")
        d = _valid(AnswerInput, request.data)
        comment = act.question_answer(actor=request.user, question=question, **d)
        return Response(CommentSerializer(comment).data, status=http.HTTP_201_CREATED)


class IncidentReports(APIView):
    @extend_schema(operation_id="incidents_reports_list", summary="Every version of every report", tags=TAGS,
                   responses=ReportVersionSerializer(many=True))
    def get(self, request, number: int):
        incident = _incident(request, number)
        return Response(ReportVersionSerializer(sel.report_versions_for(incident, request.user), many=True).data)

    @extend_schema(operation_id="incidents_reports_create",
                   summary="Post a preliminary, full or closure report (or preview it)", tags=TAGS,
                   request=ReportInput, responses={201: ReportVersionSerializer, 200: ReportPreviewSerializer})
    @idempotent
    def post(self, request, number: int):
        incident = _incident(request, number)
        d = _valid(ReportInput, request.data)
        if not perm.can_file_report(request.user, incident):
            raise NotPermitted("Reports are filed by the CA's representatives (or staff).")
        if d["preview"]:
            _, text = act.report_preview(kind=d["kind"], data=d["data"])
            return Response({"kind": d["kind"], "markdown": text})
        version = act.report_post(actor=request.user, incident=incident, kind=d["kind"], data=d["data"],
                                  base_version=d.get("base_version"))
        return Response(ReportVersionSerializer(version).data, status=http.HTTP_201_CREATED)


class IncidentStatus(APIView):
    @extend_schema(operation_id="incidents_status", summary="Compact state for clients that poll", tags=TAGS,
                   responses=IncidentStatusSerializer)
    def get(self, request, number: int):
        incident = _incident(request, number)
        now = timezone.now()
        rows = sel.deadline_rows(incident, now)
        questions = [q for q in sel.questions_for(incident, request.user) if q.is_open]
        due = {r.subject: r.due_at for r in rows if r.kind == "question"}
        data = {
            "id": incident.number, "status": incident.status, "resolution": incident.resolution,
            "next_update": incident.next_update, "updated_at": incident.updated_at,
            "deadlines": [r.__dict__ for r in rows],
            "open_questions": [
                {"id": q.pk, "asked_at": q.asked_at, "due_at": due.get(str(q.pk)), "promised_date": q.promised_date,
                 "asks": q.asked_user.username if q.asked_user_id else "ca"}
                for q in questions
            ],
        }
        return Response(IncidentStatusSerializer(data).data)
