"""Reads for incident pages, the API and the reminders sweep.

Every list goes through `accounts.permissions` visibility filters and runs a fixed number
of queries whatever its length (select_related / prefetch / subquery annotations).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db.models import Count, OuterRef, Prefetch, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from accounts import permissions as perm
from compliance.domain import deadlines as dl
from compliance.domain import responses
from compliance.domain.whiteboard import Whiteboard, parse_whiteboard
from compliance.filters import IncidentFilter
from compliance.models import (
    Comment,
    Decision,
    Incident,
    IncidentRelation,
    IncidentTag,
    Question,
    ReportVersion,
)
from config import stale
from config.filters import error_lines
from history import selectors as history
from history.models import Event

DEADLINE_LABELS = {
    dl.DeadlineKind.FIRST_RESPONSE: "First response",
    dl.DeadlineKind.FULL_REPORT: "Full report",
    dl.DeadlineKind.QUESTION: "Answer to question",
    dl.DeadlineKind.QUESTION_FULL_ANSWER: "Promised full answer",
    dl.DeadlineKind.NEXT_UPDATE: "Next update",
}

# --------------------------------------------------------------------------- lists


class InvalidFilter(ValueError):
    """Query parameters IncidentFilter refuses; `errors` maps each parameter to its messages."""

    def __init__(self, errors) -> None:
        super().__init__("; ".join(error_lines(errors)))
        self.errors = errors


def incidents_visible_to(user: Any) -> QuerySet[Incident]:
    """Every incident `user` may see (accounts.permissions), unfiltered and unannotated."""
    return Incident.objects.visible_to(user)


def incident_filter(*, user: Any, params: Mapping[str, Any] | None, now: datetime | None = None) -> IncidentFilter:
    """IncidentFilter over `params` (query parameters) on the incidents `user` may see: a filter
    only narrows that set. Pages and exports show its errors; incident_rows lists its result."""
    return IncidentFilter(params, queryset=incidents_visible_to(user), user=user, now=now)


def incident_rows(filters: IncidentFilter) -> QuerySet[Incident]:
    """The incidents a valid filter selects, sorted, with what a list row shows (3 queries a page)."""
    if not filters.is_valid():
        raise InvalidFilter(filters.errors)
    return with_list_data(filters.qs, filters.user)


def incident_list(*, user: Any, params: Mapping[str, Any] | None = None, now: datetime | None = None) -> QuerySet[Incident]:
    """Incidents `user` may see, filtered and sorted by IncidentFilter's query parameters in `params`."""
    return incident_rows(incident_filter(user=user, params=params, now=now))


def with_list_data(qs: QuerySet[Incident], user: Any) -> QuerySet[Incident]:
    open_q = (
        Question.objects.filter(incident=OuterRef("pk"), closed_at__isnull=True)
        .order_by()
        .values("incident")
        .annotate(c=Count("pk"))
        .values("c")
    )
    comments = Comment.objects.filter(perm.comment_visibility_q(user), incident=OuterRef("pk"))
    comment_count = comments.order_by().values("incident").annotate(c=Count("pk")).values("c")
    return (
        qs.select_related("ca_owner", "assignee", "reporter")
        .prefetch_related(Prefetch("tags", queryset=IncidentTag.objects.only("incident_id", "tag")))
        .annotate(
            open_question_count=Coalesce(Subquery(open_q), Value(0)),
            comment_count=Coalesce(Subquery(comment_count), Value(0)),
        )
    )


def incident_for(user: Any, number: int) -> Incident | None:
    """The incident numbered `number` if `user` may see it (None otherwise: pages answer 404)."""
    incident = Incident.objects.select_related("ca_owner", "assignee", "reporter").filter(number=number).first()
    if incident is None or not perm.can_view_incident(user, incident):
        return None
    return incident


def comments_for(incident: Incident, user: Any) -> QuerySet[Comment]:
    qs = incident.comments.filter(perm.comment_visibility_q(user))
    return qs.select_related("author", "question", "report_version").order_by("created_at", "pk")


def questions_for(incident: Incident, user: Any) -> QuerySet[Question]:
    # Questions are never private (see actions.question_ask), so the incident's visibility decides.
    return incident.questions.select_related("asked_user", "comment__author", "answered_by__author")


def events_for(incident: Incident, user: Any) -> QuerySet[Event]:
    """The incident's history rows `user` may read (the staff assessment's rows are staff-only; the CC
    list's rows, which name logins, for those who may read the CC list)."""
    events = history.for_subject(incident, include_staff_only=perm.can_view_private_comments(user))
    return events if perm.can_view_cc_list(user, incident) else events.exclude(field="cc")


def relations_for(incident: Incident, user: Any) -> list[tuple[str, Incident]]:
    """(label, other incident) pairs in both directions, limited to incidents `user` may see."""
    rows = [
        (rel.get_kind_display(), rel.target)
        for rel in IncidentRelation.objects.filter(source=incident).select_related("target")
        if perm.can_view_incident(user, rel.target)
    ]
    rows += [
        (IncidentRelation.INVERSE_LABELS[rel.kind], rel.source)
        for rel in IncidentRelation.objects.filter(target=incident).select_related("source")
        if perm.can_view_incident(user, rel.source)
    ]
    return sorted(rows, key=lambda r: (r[0], r[1].number))


def latest_report(incident: Incident, kind: str) -> ReportVersion | None:
    return incident.report_versions.filter(kind=kind).order_by("-version").first()


def report_versions_for(incident: Incident, user: Any) -> QuerySet[ReportVersion]:
    return incident.report_versions.select_related("author", "comment").order_by("kind", "version")


# ----------------------------------------------------------------------- deadlines


@dataclass(frozen=True)
class DeadlineRow:
    kind: str
    label: str
    due_at: datetime
    met_at: datetime | None
    state: str
    text: str
    subject: str | None


def whiteboard_of(incident: Incident, now: datetime) -> Whiteboard:
    return parse_whiteboard(incident.whiteboard or "", today=now.date())


def latest_full_report(incident: Incident) -> ReportVersion | None:
    return incident.report_versions.filter(kind=ReportVersion.Kind.FULL).order_by("-version").first()


def _slipped_action_item_at(report: ReportVersion | None, now: datetime, after: datetime | None) -> datetime | None:
    """When an open action item of the latest full report passed its due date (IRG: update within 3 days)."""
    if report is None:
        return None
    slips = []
    for item in (report.data or {}).get("action_items") or []:
        if not isinstance(item, dict) or item.get("status") not in ("Ongoing", "Delayed"):
            continue
        try:
            slipped = dl.end_of_day_utc(date.fromisoformat(str(item.get("due_date"))))
        except (ValueError, dl.DeadlineError):
            continue
        if slipped <= now and (after is None or slipped > after):
            slips.append(slipped)
    return min(slips) if slips else None


_FETCH = object()


def incident_deadlines(
    incident: Incident, now: datetime, *, questions=None, full_report: ReportVersion | None | object = _FETCH
) -> list[dl.Deadline]:
    """Every deadline of `incident` as of `now` (compliance.domain.deadlines does the arithmetic).

    `questions` and `full_report` may be passed in already fetched (the reminders sweep
    prefetches them for every open incident at once); otherwise they are queried here.

    Imported incidents keep their report history in Bugzilla: their first-response and
    full-report deadlines are not computed (unless a report was posted here), and their
    update cadence runs from their Bugzilla record (last change, else creation) and the
    whiteboard's "Next update", never from the day of the import.
    """
    board = whiteboard_of(incident, now)
    questions = [
        dl.OpenQuestion(str(q.pk), q.asked_at, q.answered_at, q.promised_date if q.closed_at is None else None)
        for q in (incident.questions.all() if questions is None else questions)
    ]
    if full_report is _FETCH:
        full_report = latest_full_report(incident)
    last_update = incident.last_update_at
    if incident.imported_at is not None and last_update is None:
        last_update = incident.created_at
    last_posted = max(filter(None, [last_update, incident.full_report_at, incident.first_response_at]), default=None)
    changed = max(
        filter(None, [incident.action_item_changed_at, _slipped_action_item_at(full_report, now, last_posted)]),
        default=None,
    )
    found = dl.incident_deadlines(
        became_aware_at=incident.became_aware_at,
        first_disclosed_at=incident.first_disclosed_at,
        first_response_at=incident.first_response_at,
        full_report_at=incident.full_report_at,
        last_update_at=last_update,
        whiteboard_next_update=board.next_update,
        action_item_changed_at=changed,
        revocation_delay=board.revocation_delay,
        open_questions=questions,
        is_open=incident.is_open,
        now=now,
    )
    if incident.imported_at is not None:
        report_kinds = (dl.DeadlineKind.FIRST_RESPONSE, dl.DeadlineKind.FULL_REPORT)
        found = [d for d in found if d.kind not in report_kinds or d.met_at is not None]
    return found


def deadline_rows(incident: Incident, now: datetime) -> list[DeadlineRow]:
    return [
        DeadlineRow(
            kind=str(d.kind),
            label=DEADLINE_LABELS.get(d.kind, str(d.kind)),
            due_at=d.due_at,
            met_at=d.met_at,
            state=str(dl.state(d, now)),
            text=dl.describe(d, now),
            subject=d.subject,
        )
        for d in incident_deadlines(incident, now)
    ]


def next_pending(deadlines: list[dl.Deadline]) -> dl.Deadline | None:
    pending = [d for d in deadlines if d.met_at is None]
    return min(pending, key=lambda d: d.due_at) if pending else None


def list_deadline(incident: Incident, now: datetime) -> dict[str, Any] | None:
    """The earliest pending deadline from the cached columns (no query): for list rows."""
    if not incident.is_open or incident.next_due_at is None:
        return None
    d = dl.Deadline(incident.next_due_kind or "deadline", incident.next_due_at)
    return {
        "kind": incident.next_due_kind,
        "label": DEADLINE_LABELS.get(incident.next_due_kind, incident.next_due_kind),
        "due_at": incident.next_due_at,
        "state": str(dl.state(d, now)),
        "text": dl.describe(d, now),
    }


# ------------------------------------------------------------------------ assessment


@dataclass(frozen=True)
class ResponseRow:
    problem: str
    response: responses.Response
    applies: bool


def response_table(problem: str | None) -> list[ResponseRow]:
    """The seed's whole problem -> response table, with the row that applies marked."""
    return [ResponseRow(str(p), r, str(p) == problem) for p, r in responses.RESPONSES.items()]


def decisions_for(incident: Incident, user: Any) -> QuerySet[Decision]:
    """The decisions `user` may read: staff-only ones only for staff (accounts.permissions)."""
    return incident.decisions.filter(perm.decision_visibility_q(user)).select_related("decided_by")


# ------------------------------------------------------------------- versions (config.stale)
# The editable fields of each object edited through a form or the API: their digest is the version
# pages carry in `base` and the API serves as its ETag.

INCIDENT_EDITABLE = ("title", "status", "resolution", "whiteboard", "next_update", "assignee", "security_sensitive",
                     "ca_owner", "source", "became_aware_at", "severity")


def incident_snapshot(incident: Incident) -> dict[str, Any]:
    return stale.canonical({
        f: getattr(incident, f"{f}_id") if f in ("assignee", "ca_owner") else getattr(incident, f)
        for f in INCIDENT_EDITABLE
    })


def incident_version(incident: Incident) -> str:
    return stale.version_of(incident_snapshot(incident))


def assessment_snapshot(assessment: Any) -> dict[str, Any]:
    """The assessment form's fields (each consideration's answer and note apart, as the form names them);
    None (not assessed yet) reads as the empty form."""
    from compliance.domain import responses as resp

    a = assessment
    snapshot: dict[str, Any] = {
        "cert_type": a.cert_type if a else "", "count": a.count if a else None,
        "enumerable": a.enumerable if a else None, "audit_problem": a.audit_problem if a else False,
        "notes": a.notes if a else "",
    }
    stored = (a.considerations if a else None) or {}
    for c in resp.CONSIDERATIONS:
        snapshot[f"{c.key}__answer"] = (stored.get(c.key) or {}).get("answer", "")
        snapshot[f"{c.key}__note"] = (stored.get(c.key) or {}).get("note", "")
    return stale.canonical(snapshot)
