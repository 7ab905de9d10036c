"""The home page by role (issue 15): the first thing each person sees after signing in, read here.

- A CA representative: the questions asked of them (open, with their due dates) and the reports and
  updates their CA owes (the open incidents' earliest pending deadline).
- Staff: new and unconfirmed incidents, overdue ones, statements awaiting their auditor's
  verification, distrust actions by step.
- Anyone signed in who is not staff (reviewers, and representatives too): the questions asked of them
  by name, and the incidents they comment on or are CC'd on, most recently changed first.
- Anonymous: nothing here; the page shows the public summary.

Every row passes accounts.permissions' visibility filters (incidents, statements, distrust actions), so
nobody learns of a question, an incident or an embargoed action they may not see. Each role's page runs
a fixed number of queries whatever the data (tests/test_home_by_role.py). This module sits on the top
floor because it reads compliance, audits and distrust.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone

from accounts import permissions as perm
from audits.models import AuditStatement
from compliance.domain import deadlines as dl
from compliance.models import Comment, Incident, Question
from compliance.selectors import DEADLINE_LABELS
from distrust.models import DistrustAction

ROWS = 10  # rows shown per section; the count beside it links to the whole filtered list


@dataclass(frozen=True)
class Count_:
    label: str
    count: int
    url: str


@dataclass(frozen=True)
class Row:
    text: str  # what the row is about, e.g. "Bug 12: Acme Trust: Bad OU"
    url: str
    detail: str = ""  # a label: a deadline kind, a status, a verification state
    when: str = ""  # e.g. "due 2026-12-08 21:00 UTC, in 6 days 23 hours"
    overdue: bool = False


def _at(value: datetime | None) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if value else ""


def _due(kind: str, due_at: datetime, now: datetime) -> dict[str, Any]:
    """A deadline as a row reads it: its label, when, and whether it has passed."""
    text = dl.describe(dl.Deadline(kind, due_at), now)
    return {"detail": DEADLINE_LABELS.get(kind, "Deadline"), "when": f"due {_at(due_at)}, {text}",
            "overdue": due_at < now}


@dataclass
class Section:
    key: str
    title: str
    count: int
    url: str = ""  # the filtered list the count links to ("" when no list shows exactly these)
    rows: list[Row] = field(default_factory=list)
    counts: list[Count_] = field(default_factory=list)
    empty: str = "Nothing here."


@dataclass
class Home:
    role: str  # "anonymous" | "staff" | "representative" | "member"
    sections: list[Section] = field(default_factory=list)


def _incident_text(incident: Incident) -> str:
    return f"Bug {incident.number}: {incident.title}"


# --- a CA's representative ---------------------------------------------------------------------


def _questions_for(user: Any, owners: frozenset[int], now: datetime) -> Section:
    asked = Q(asked_user_id=user.pk) | Q(asked_user__isnull=True, incident__ca_owner_id__in=owners)
    qs = (Question.objects.filter(asked, closed_at__isnull=True, incident__status__in=_open_statuses())
          .filter(perm.incident_visibility_q(user, prefix="incident__")))
    total = qs.count()
    rows = []
    for q in qs.select_related("incident").order_by("asked_at", "pk")[:ROWS]:
        if q.answered_at and q.promised_date:
            due = _due(dl.DeadlineKind.QUESTION_FULL_ANSWER, dl.end_of_day_utc(q.promised_date), now)
        else:
            due = _due(dl.DeadlineKind.QUESTION, dl.question_due(q.asked_at), now)
        rows.append(Row(text=_incident_text(q.incident), url=f"{q.incident.get_absolute_url()}#c{q.comment_id}", **due))
    # The list's filter shows a CA's incidents with open questions: exactly these only for one CA's
    # representative; a question asked of a person has no list of its own.
    url = f"/incidents/?open_questions=yes&ca={next(iter(owners))}" if len(owners) == 1 else ""
    return Section("questions", "Questions asked of you", total, url, rows,
                   empty="No question is waiting for your answer.")


def _due_for(user: Any, owners: frozenset[int], now: datetime) -> Section:
    qs = (Incident.objects.open().filter(ca_owner_id__in=owners, next_due_at__isnull=False)
          .filter(perm.incident_visibility_q(user)))
    counts = qs.aggregate(total=Count("pk"), overdue=Count("pk", filter=Q(next_due_at__lt=now)))
    rows = [
        Row(text=_incident_text(i), url=i.get_absolute_url(), **_due(i.next_due_kind, i.next_due_at, now))
        for i in qs.order_by("next_due_at", "-number")[:ROWS]
    ]
    one = f"&ca={next(iter(owners))}" if len(owners) == 1 else ""
    return Section("due", "Reports and updates due", counts["total"], f"/incidents/?status=open&sort=due{one}", rows,
                   counts=[Count_("Overdue", counts["overdue"], f"/incidents/?overdue=yes{one}")],
                   empty="Nothing is due from your CA.")


# --- staff ---------------------------------------------------------------------------------------


def _open_statuses() -> list[str]:
    return [s for s in Incident.Status.values if s != Incident.Status.RESOLVED]


def _staff_incidents(user: Any, now: datetime) -> list[Section]:
    S = Incident.Status
    visible = Incident.objects.filter(perm.incident_visibility_q(user))
    counts = visible.aggregate(
        unconfirmed=Count("pk", filter=Q(status=S.UNCONFIRMED)),
        new=Count("pk", filter=Q(status=S.NEW)),
        overdue=Count("pk", filter=Q(next_due_at__lt=now) & ~Q(status=S.RESOLVED)),
    )
    fresh = [
        Row(text=_incident_text(i), url=i.get_absolute_url(), detail=i.get_status_display())
        for i in visible.filter(status__in=[S.UNCONFIRMED, S.NEW]).order_by("-number")[:ROWS]
    ]
    late = [
        Row(text=_incident_text(i), url=i.get_absolute_url(), **_due(i.next_due_kind, i.next_due_at, now))
        for i in visible.overdue(now).order_by("next_due_at", "-number")[:ROWS]
    ]
    return [
        Section("new", "New and unconfirmed incidents", counts["unconfirmed"] + counts["new"], "", fresh, counts=[
            Count_(S.UNCONFIRMED.label, counts["unconfirmed"], f"/incidents/?status={S.UNCONFIRMED}"),
            Count_(S.NEW.label, counts["new"], f"/incidents/?status={S.NEW}"),
        ], empty="No incident waits for triage."),
        Section("overdue", "Overdue updates", counts["overdue"], "/incidents/?overdue=yes&sort=due", late,
                empty="No incident is overdue."),
    ]


def _statements_awaiting(user: Any) -> Section:
    qs = AuditStatement.objects.filter(perm.statement_visibility_q(user)).awaiting_verification()
    total = qs.count()
    rows = [
        Row(text=f"{s.ca_owner.name}: {s.period_start or '?'}..{s.period_end or '?'} statement", url=s.get_absolute_url(),
            detail=s.auditor.name if s.auditor else "Auditor not named",
            when=f"waiting since {_at(s.unverified_since)}" if s.unverified_since else "")
        for s in qs.select_related("ca_owner", "auditor").order_by("unverified_since", "pk")[:ROWS]
    ]
    return Section("statements", "Statements awaiting verification", total,
                   f"/audits/?verification={AuditStatement.Verification.PENDING}", rows,
                   empty="No statement waits for its auditor.")


def _distrust_by_step(user: Any) -> Section:
    by_state = dict(
        DistrustAction.objects.filter(perm.distrust_visibility_q(user)).exclude(state=DistrustAction.State.CLOSED)
        .values_list("state").annotate(n=Count("pk")).order_by()
    )
    counts = [Count_(label, by_state.get(value, 0), f"/distrust/?state={value}")
              for value, label in DistrustAction.State.choices if value != DistrustAction.State.CLOSED]
    return Section("distrust", "Distrust actions by step", sum(by_state.values()), "/distrust/?state=open",
                   counts=counts, empty="No distrust action is open.")


# --- anyone signed in ------------------------------------------------------------------------------


def _following(user: Any) -> Section:
    mine = Q(pk__in=user.cc_incidents.values("pk")) | Exists(
        Comment.objects.filter(incident=OuterRef("pk"), author_id=user.pk))
    qs = Incident.objects.filter(perm.incident_visibility_q(user)).filter(mine)
    total = qs.count()
    rows = [
        Row(text=_incident_text(i), url=i.get_absolute_url(),
            detail=i.get_status_display() + (f", {i.get_resolution_display()}" if i.resolution else ""),
            when=f"changed {_at(i.updated_at)}")
        for i in qs.order_by("-updated_at", "-number")[:ROWS]
    ]
    return Section("following", "Incidents you comment on or are CC'd on", total, "", rows,
                   empty="You have not commented on an incident nor joined a CC list yet.")


def home_for(user: Any, *, now: datetime | None = None) -> Home:
    now = now or timezone.now()
    if not getattr(user, "is_authenticated", False):
        return Home(role="anonymous")
    if perm.is_staff(user):
        return Home(role="staff", sections=[
            *_staff_incidents(user, now), _statements_awaiting(user), _distrust_by_step(user),
        ])
    owners = perm.represented_owner_ids(user)
    if owners:
        return Home(role="representative", sections=[
            _questions_for(user, owners, now), _due_for(user, owners, now), _following(user),
        ])
    return Home(role="member", sections=[_questions_for(user, owners, now), _following(user)])
