"""What the sweep looks for: one function per kind of finding, each a fixed number of queries.

A finder reads one source (incidents, audit statements, auditor qualifications, distrust
actions) as of `now` and returns Findings: a deadline with its subject and who should hear
of it, not yet resolved to users (actions.sweep_run resolves every finding's audience in a
few queries for all of them at once). The deadline arithmetic itself stays in the pure
modules: compliance.domain.deadlines (incidents) and audits.domain.checks (statements).

Finders import their source models inside the function, so an app that is missing or
half-built breaks only its own finder: the sweep records the error and runs the others.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from notifications.models import Kind, SubjectType

# Seed/issue numbers where the pure modules have none.
QUESTION_UNANSWERED_AFTER = timedelta(days=7)  # = compliance.domain.deadlines.QUESTION_WITHIN
STATEMENT_DUE_SOON_DAYS = 30
VERIFICATION_FOLLOW_UP_EVERY = timedelta(days=7)
VERIFICATION_MAX_FOLLOW_UPS = 3  # after the first request; then staff are told
AUDITOR_REVERIFICATION_NOTICE_DAYS = 30
DISTRUST_STALLED_AFTER = timedelta(days=14)


@dataclass(frozen=True)
class Finding:
    kind: str
    subject_type: str
    subject_id: int
    due_at: datetime
    title: str
    url: str = ""
    body: str = ""
    # Audience, resolved by actions.resolve_audience in bulk.
    ca_owner_id: int | None = None  # the CA owner's representatives
    user_ids: tuple[int, ...] = ()  # named people: the asked person, the assignee, the incident's CC list
    incident_id: int | None = None  # the incident (its CC list is in user_ids); None for non-incident subjects
    security_sensitive: bool = False  # then only those who may see the incident hear of it
    incident_owner_id: int | None = None  # the incident's CA owner, whose representatives may see it
    watchers: bool = False  # include the Watch rows on the CA owner
    staff: bool = False  # every active staff member
    emails: tuple[str, ...] = ()  # addresses that are not users (an auditor's verification contact)
    email_reason: str = "Auditor"  # Reason of those addresses
    extra: dict = field(default_factory=dict, compare=False, hash=False)
    # The visibility rule of what the finding tells about: (name of an accounts.permissions rule,
    # the object it is asked about). Every recipient must pass it, whoever else (watchers, named
    # people) the audience started from. Incidents use security_sensitive above.
    seen_as: tuple[str, object] | None = field(default=None, compare=False, hash=False)
    # Named people with why (Reason keys), for events; user_ids above read as "Named".
    user_reasons: tuple[tuple[int, str], ...] = ()
    exclude_user_ids: frozenset[int] = frozenset()  # e.g. whoever acted: nobody is mailed their own change
    thread: str = ""  # Notification.thread: one incident, one mail thread

    @property
    def due_date(self) -> date:
        return self.due_at.astimezone(UTC).date()


@dataclass(frozen=True)
class StatementSeen:
    """What accounts.permissions.can_view_statement reads of a statement, as a finding carries it."""

    ca_owner_id: int
    is_public: bool


def _eod(day: date) -> datetime:
    return datetime.combine(day, time(23, 59, 59), tzinfo=UTC)


# --- Incidents ---------------------------------------------------------------------------

_INCIDENT_KINDS = {
    # deadline kind -> (due soon kind, overdue kind)
    "first_response": (Kind.FIRST_RESPONSE_SOON, Kind.FIRST_RESPONSE_OVERDUE),
    "full_report": (Kind.FULL_REPORT_SOON, Kind.FULL_REPORT_OVERDUE),
    "next_update": (Kind.UPDATE_SOON, Kind.UPDATE_OVERDUE),
}
_INCIDENT_WORDS = {
    "first_response": "first response (preliminary or full report)",
    "full_report": "full incident report",
    "next_update": "next update of the incident report",
}


def _open_incidents(now: datetime):
    """Open incidents with everything their deadlines need, in 4 queries whatever their number.

    The related rows are read as plain rows and grouped here rather than by prefetch_related,
    whose per-incident managers cost ~9 s at 14,000 open incidents (the SQL itself ~1 s).
    """
    from collections import defaultdict

    from django.db.models import OuterRef, Subquery

    from compliance.models import Incident, Question, ReportVersion

    # Only what the deadlines and the findings read: a model object of every column costs more than the SQL.
    incidents = list(Incident.objects.open().select_related("ca_owner").only(
        "pk", "number", "title", "status", "whiteboard", "security_sensitive", "assignee_id", "ca_owner__name",
        "became_aware_at", "first_disclosed_at", "first_response_at", "full_report_at", "last_update_at",
        "action_item_changed_at", "imported_at", "created_at",
    ))
    open_ids = Incident.objects.open().values("pk")
    questions, reports, cc = defaultdict(list), defaultdict(list), defaultdict(list)
    for q in Question.objects.filter(closed_at__isnull=True, incident__in=open_ids).order_by("pk"):
        questions[q.incident_id].append(q)
    latest_full = ReportVersion.objects.filter(
        incident=OuterRef("incident"), kind=ReportVersion.Kind.FULL
    ).order_by("-version").values("pk")[:1]
    for r in ReportVersion.objects.filter(pk=Subquery(latest_full), incident__in=open_ids).only("pk", "incident_id", "data"):
        reports[r.incident_id].append(r)
    through = Incident.cc.through
    for incident_id, user_id in (through.objects.filter(incident__in=open_ids).order_by("pk")
                                 .values_list("incident_id", "user_id")):
        cc[incident_id].append(user_id)
    for incident in incidents:
        incident.open_questions = questions.get(incident.pk, [])
        incident.latest_full_reports = reports.get(incident.pk, [])
        incident.cc_user_ids = cc.get(incident.pk, [])
    return incidents


def _deadlines_of(incident, now: datetime):
    """The incidents selector's deadlines, fed the rows prefetched above (no query per incident)."""
    from compliance.selectors import incident_deadlines, whiteboard_of

    report = incident.latest_full_reports[0] if incident.latest_full_reports else None
    found = incident_deadlines(incident, now, questions=incident.open_questions, full_report=report)
    return found, lambda: whiteboard_of(incident, now)  # parsed again only when a finding needs it


def incident_deadlines(*, now: datetime) -> list[Finding]:
    """First response, full report and next update due within 24 hours or overdue; missed
    revocation-delay updates; questions unanswered for 7 days (or past the promised date)."""
    from django.urls import reverse

    from compliance.domain import deadlines as dl

    found: list[Finding] = []
    # One reverse() for the sweep, not one per incident (100,000 of them cost seconds).
    url_of = reverse("compliance:incident_detail", args=[0]).rsplit("0", 1)
    reminding = (dl.DeadlineState.DUE_SOON, dl.DeadlineState.OVERDUE)
    for incident in _open_incidents(now):
        deadlines, board_of = _deadlines_of(incident, now)
        if not any(d.met_at is None and dl.state(d, now) in reminding for d in deadlines):
            continue  # most open incidents: nothing due soon or overdue
        board = board_of()
        questions = {str(q.pk): q for q in incident.open_questions}
        owner = incident.ca_owner
        # The CC list (Bugzilla mails its CC list; watching an incident is being on it); who of them
        # may see a security-sensitive incident is decided when the audience is resolved.
        named = tuple(incident.cc_user_ids)
        assignee = (incident.assignee_id,) if incident.assignee_id else ()
        common = dict(
            ca_owner_id=incident.ca_owner_id,
            incident_id=incident.pk,
            incident_owner_id=incident.ca_owner_id,
            security_sensitive=incident.security_sensitive,
            url=f"{url_of[0]}{incident.number}{url_of[1]}",  # = incident.get_absolute_url()
        )
        for d in deadlines:
            if d.met_at is not None:
                continue
            st = dl.state(d, now)
            if st not in (dl.DeadlineState.DUE_SOON, dl.DeadlineState.OVERDUE):
                continue
            overdue = st is dl.DeadlineState.OVERDUE
            when = dl.describe(d, now)
            if d.kind in (dl.DeadlineKind.QUESTION, dl.DeadlineKind.QUESTION_FULL_ANSWER):
                if not overdue:
                    continue  # the issue asks for questions unanswered for 7 days, not before
                q = questions.get(str(d.subject))
                if q is None:
                    continue
                asked = (q.asked_user_id,) if q.asked_user_id else ()
                promised = d.kind == dl.DeadlineKind.QUESTION_FULL_ANSWER
                found.append(Finding(
                    kind=Kind.QUESTION_UNANSWERED,
                    subject_type=SubjectType.QUESTION,
                    subject_id=q.pk,
                    due_at=d.due_at,
                    title=f"Bug {incident.number}: "
                    + ("the promised full answer" if promised else "a question")
                    + f" is {when}",
                    body=f"A question asked on {q.asked_at:%Y-%m-%d %H:%M} UTC in bug {incident.number} "
                    f"({incident.title}) " + ("has not been fully answered by the promised date." if promised
                                              else "has not been answered within 7 days."),
                    user_ids=asked + assignee + named,
                    watchers=True,
                    **{**common, "ca_owner_id": None if asked else incident.ca_owner_id},
                ))
                continue
            soon_kind, overdue_kind = _INCIDENT_KINDS[str(d.kind)]
            kind = overdue_kind if overdue else soon_kind
            if d.kind == dl.DeadlineKind.NEXT_UPDATE and overdue and board.revocation_delay:
                kind = Kind.REVOCATION_UPDATE_OVERDUE
            found.append(Finding(
                kind=kind,
                subject_type=SubjectType.INCIDENT,
                subject_id=incident.pk,
                due_at=d.due_at,
                title=f"Bug {incident.number}: {_INCIDENT_WORDS[str(d.kind)]} {when}",
                body=f"{incident.title}\nCA owner: {owner.name if owner else 'unknown'}\n"
                f"The {_INCIDENT_WORDS[str(d.kind)]} is {when} (due {d.due_at:%Y-%m-%d %H:%M} UTC)."
                + ("\nThe whiteboard marks a revocation delay: updates are due every 3 days, each with "
                   "the counts revoked, not yet revoked, expired meanwhile, and the ETA." if board.revocation_delay
                   and d.kind == dl.DeadlineKind.NEXT_UPDATE else ""),
                user_ids=assignee + (named if overdue else ()),
                watchers=overdue,
                staff=overdue,
                **common,
            ))
    return found


# --- Audit statements --------------------------------------------------------------------


def statements_due(*, now: datetime) -> list[Finding]:
    """Per included CA owner and audit family, the next statement: due within 30 days, or overdue.

    The next statement is due 92 days after the end of the period following the latest one
    received (audits.domain.checks: add_one_year(period_end) + STATEMENT_DUE_DAYS). One query.
    """
    from audits.domain.checks import STATEMENT_DUE_DAYS, add_one_year
    from audits.models import AuditStatement
    from registry.models import CAOwner

    today = now.astimezone(UTC).date()
    rows = (
        AuditStatement.objects.exclude(verification=AuditStatement.Verification.DENIED)
        .filter(period_end__isnull=False, ca_owner__status=CAOwner.Status.INCLUDED)
        .values_list("pk", "ca_owner_id", "ca_owner__name", "period_end", "criteria__family", "is_public")
        .order_by()
    )
    latest: dict[tuple[int, str], tuple[date, int]] = {}
    names: dict[int, str] = {}
    public: dict[int, bool] = {}
    for pk, owner_id, owner_name, period_end, family, is_public in rows:
        names[owner_id] = owner_name
        public[pk] = is_public
        key = (owner_id, family or "")
        if key not in latest or (period_end, pk) > latest[key]:
            latest[key] = (period_end, pk)
    # A statement that is the latest of several families gives one reminder naming them all.
    by_statement: dict[int, tuple[int, date, list[str]]] = {}
    for (owner_id, family), (period_end, pk) in latest.items():
        by_statement.setdefault(pk, (owner_id, period_end, []))[2].append(family)
    found = []
    for pk, (owner_id, period_end, families) in sorted(by_statement.items()):
        due = add_one_year(period_end) + timedelta(days=STATEMENT_DUE_DAYS)
        overdue = today > due
        if not overdue and (due - today).days > STATEMENT_DUE_SOON_DAYS:
            continue
        label = ", ".join(sorted(f for f in families if f)) or "audit"
        words = f"overdue since {due + timedelta(days=1):%Y-%m-%d}" if overdue else f"due by {due:%Y-%m-%d}"
        found.append(Finding(
            kind=Kind.STATEMENT_OVERDUE if overdue else Kind.STATEMENT_DUE_SOON,
            subject_type=SubjectType.AUDIT_DUE,
            subject_id=pk,
            due_at=_eod(due),
            title=f"{names[owner_id]}: next {label} audit statement {words}",
            body=f"The latest {label} audit period of {names[owner_id]} ended {period_end:%Y-%m-%d}. The statement "
            f"for the following period is due within 92 days of its end: by {due:%Y-%m-%d}.",
            url=f"/audits/?ca={owner_id}",
            ca_owner_id=owner_id,
            watchers=True,
            staff=overdue,
            # The reminder dates a statement: one still pending its auditor is the CA's and staff's
            # to know of, not every watcher's (another CA's representative may watch any CA).
            seen_as=("can_view_statement", StatementSeen(ca_owner_id=owner_id, is_public=public[pk])),
        ))
    return found


def statements_unverified(*, now: datetime) -> list[Finding]:
    """CA-provided statements still unverified: the request again every 7 days, 3 times, then staff.

    `verification_requests_sent` counts the first request and each follow-up. Request n+1
    is due 7 x n days after the first request, and never sooner than 7 days after the last
    one (a request staff sent by hand pushes the next back). One query.
    """
    from django.db.models import Min

    from audits.models import AuditStatement

    found = []
    qs = (
        AuditStatement.objects.awaiting_verification()
        .select_related("ca_owner", "auditor")
        .annotate(first_requested_at=Min("verification_requests__created_at"))
    )
    for st in qs:
        sent, last = st.verification_requests_sent, st.verification_last_sent_at
        if not sent or last is None:
            continue  # the first request is the audits feature's (it needs the auditor's contact)
        first = st.first_requested_at or st.unverified_since or last
        due = max(first + VERIFICATION_FOLLOW_UP_EVERY * sent, last + VERIFICATION_FOLLOW_UP_EVERY)
        if due > now:
            continue
        auditor = st.auditor.name if st.auditor else "the auditor"
        period = f"{st.period_start or '?'}–{st.period_end or '?'}"
        if sent <= VERIFICATION_MAX_FOLLOW_UPS and st.auditor and st.auditor.contact_email:
            found.append(Finding(
                kind=Kind.VERIFICATION_FOLLOW_UP,
                subject_type=SubjectType.AUDIT_STATEMENT,
                subject_id=st.pk,
                due_at=due,
                title=f"{st.ca_owner.name}: verification request {sent + 1} to {auditor}",
                body=f"Follow-up {sent} of {VERIFICATION_MAX_FOLLOW_UPS}: {auditor} has not confirmed the "
                f"{period} statement {st.ca_owner.name} submitted.",
                url=st.get_absolute_url(),
                emails=(st.auditor.contact_email,),
                extra={"requests_sent": sent},
                seen_as=("can_view_statement", st),
            ))
        else:
            found.append(Finding(
                kind=Kind.VERIFICATION_UNANSWERED,
                subject_type=SubjectType.AUDIT_STATEMENT,
                subject_id=st.pk,
                due_at=due,
                title=f"{st.ca_owner.name}: {auditor} has not confirmed the {period} statement",
                body=f"The verification request was sent {sent} time(s), the last on {last:%Y-%m-%d}, without "
                f"an answer" + ("" if st.auditor and st.auditor.contact_email else
                                 " (the auditor has no verification contact)") + ". Contact the auditor directly.",
                url=st.get_absolute_url(),
                staff=True,
                seen_as=("can_view_statement", st),
            ))
    return found


def auditor_reverification(*, now: datetime) -> list[Finding]:
    """Auditor qualifications due for their yearly re-verification within 30 days (or past due).

    Only the latest qualification of each auditor and scheme counts: an older one is
    superseded by the verification that followed it. One query.
    """
    from django.db.models import Exists, OuterRef

    from audits.models import AuditorQualification

    today = now.astimezone(UTC).date()
    newer = AuditorQualification.objects.filter(
        auditor=OuterRef("auditor"), scheme=OuterRef("scheme"), verified_on__gt=OuterRef("verified_on")
    )
    found = []
    qs = (
        AuditorQualification.objects.due(by=today + timedelta(days=AUDITOR_REVERIFICATION_NOTICE_DAYS))
        .filter(~Exists(newer))
        .select_related("auditor")
    )
    for qual in qs:
        words = "was due" if qual.next_due < today else "is due"
        found.append(Finding(
            kind=Kind.AUDITOR_REVERIFICATION,
            subject_type=SubjectType.AUDITOR,
            subject_id=qual.pk,
            due_at=_eod(qual.next_due),
            title=f"{qual.auditor.name}: {qual.get_scheme_display()} re-verification {words} {qual.next_due:%Y-%m-%d}",
            body=f"Last verified {qual.verified_on:%Y-%m-%d} ({qual.get_method_display()}). Qualifications are "
            "verified again every year.",
            url=qual.auditor.get_absolute_url(),
            staff=True,
        ))
    return found


# --- Active distrust ---------------------------------------------------------------------


def distrust_stalled(*, now: datetime) -> list[Finding]:
    """Open distrust actions whose last history row (or creation) is 14 days old or more. One query."""
    from django.db.models.functions import Coalesce

    from distrust.models import DistrustAction
    from history import selectors as history

    qs = DistrustAction.objects.open().annotate(moved_at=Coalesce(history.latest_at(DistrustAction), "created_at"))
    found = []
    for action in qs.filter(moved_at__lte=now - DISTRUST_STALLED_AFTER):
        due = action.moved_at + DISTRUST_STALLED_AFTER
        found.append(Finding(
            kind=Kind.DISTRUST_STALLED,
            subject_type=SubjectType.DISTRUST_ACTION,
            subject_id=action.pk,
            due_at=due,
            title=f"Distrust: {action.title} has not moved since {action.moved_at:%Y-%m-%d}",
            body=f"The action waits at step {action.get_state_display()}.",
            url=action.get_absolute_url(),
            staff=True,
            seen_as=("can_view_distrust", action),
        ))
    return found


FINDERS: tuple[Callable[..., list[Finding]], ...] = (
    incident_deadlines,
    statements_due,
    statements_unverified,
    auditor_reverification,
    distrust_stalled,
)
