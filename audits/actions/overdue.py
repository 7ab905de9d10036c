"""Missing or late audit statements -> one compliance incident per overdue statement (issue 15).

Seed, "Potential Problems, Prevention, Response": "CA failed to supply proper audit documentation"; the
immediate minimum response is to "File a CA compliance bug, request that the CA respond with remediation
plans, and request an incident report" (audits.domain.checks.SERIOUS_QUALIFICATIONS_ACTION, the same
problem's wording). The reminders (notifications.finders.statements_due) still remind; this files the bug.

A statement is overdue, for an included CA owner and an audit family, when (audits.domain.checks):
- a statement recorded for a period has not been received 92 days after the period's end; or
- no statement follows the latest one: the next period (ending one year after it) is 92 days past its
  end with nothing recorded.
Denied statements do not count. Each overdue statement is keyed by (CA owner, family, end of its
period) in audits.models.OverdueStatementIncident (unique): filed exactly once, whatever the number of
sweeps, concurrent ones included, and never again once it was filed (even if the statement then comes
in or the incident is resolved). The families of one overdue period of one CA share one incident.

audits and compliance are both floor 3; audits calls compliance's action (as actions.findings does) and
compliance never imports audits' actions, so there is no circle. notifications' sweep runs it (floor 5).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts import permissions as perm
from audits.domain import checks
from audits.models import AuditStatement, OverdueStatementIncident
from config.errors import NotPermitted
from registry.models import CAOwner

INCIDENT_WHITEBOARD = "[ca-compliance] [audit-delay]"
# The same labels as the CA audit page (audits.selectors.FAMILY_LABELS); "" is a statement naming no criteria.
FAMILY_LABELS = {
    "ca": "CA (general criteria)",
    "netsec": "Network security",
    "tls-baseline": "TLS Baseline Requirements",
    "ev": "EV (Extended Validation)",
    "smime": "S/MIME Baseline Requirements",
    "": "audit",
}


@dataclass(frozen=True)
class OverdueStatement:
    ca_owner_id: int
    family: str
    period_start: date | None
    period_end: date
    due: date  # last day on which it was on time
    recorded: bool  # True: recorded but not received; False: the next period, never recorded


def overdue_statements(*, today: date) -> list[OverdueStatement]:
    """Every overdue statement of the included CA owners as of `today` (see the module docstring). One query."""
    rows = (
        AuditStatement.objects.exclude(verification=AuditStatement.Verification.DENIED)
        .filter(period_end__isnull=False, ca_owner__status=CAOwner.Status.INCLUDED)
        .values_list("ca_owner_id", "period_start", "period_end", "statement_date", "criteria__family")
        .order_by()
    )
    found: dict[tuple[int, str, date], OverdueStatement] = {}
    latest: dict[tuple[int, str], date] = {}
    for owner_id, start, end, received, family in rows:
        family = family or ""
        due = end + timedelta(days=checks.STATEMENT_DUE_DAYS)
        if received is None and today > due:
            found[(owner_id, family, end)] = OverdueStatement(owner_id, family, start, end, due, recorded=True)
        if (owner_id, family) not in latest or end > latest[(owner_id, family)]:
            latest[(owner_id, family)] = end
    for (owner_id, family), last_end in latest.items():
        next_end = checks.add_one_year(last_end)
        due = next_end + timedelta(days=checks.STATEMENT_DUE_DAYS)
        if today > due:
            found.setdefault((owner_id, family, next_end), OverdueStatement(
                owner_id, family, last_end + timedelta(days=1), next_end, due, recorded=False))
    return [found[k] for k in sorted(found)]


def _description(owner: CAOwner, items: list[OverdueStatement]) -> str:
    first = items[0]
    labels = ", ".join(FAMILY_LABELS.get(i.family, i.family) for i in items)
    if first.recorded:
        what = (f"The {labels} audit statement of {owner.name} for {first.period_start or '?'}..{first.period_end} "
                f"was due by {first.due} (92 days after the end of its period) and has not been received.")
    else:
        what = (f"No {labels} audit statement of {owner.name} follows the period ending "
                f"{first.period_start - timedelta(days=1) if first.period_start else '?'}: the statement "
                f"for the next period (ending {first.period_end}) was due by {first.due} and has not been received.")
    return (
        f"{what}\n\nProblem: CA failed to supply proper audit documentation.\n\n"
        f"Immediate minimum response: {checks.SERIOUS_QUALIFICATIONS_ACTION}.\n\n"
        f"Also consider: {checks.SERIOUS_QUALIFICATIONS_CONSIDER}\n\n"
        f"The CA's audits: {settings.SITE_URL}/audits/?ca={owner.pk}"
    )


def overdue_statement_incidents_file(*, actor: Any = None, now: datetime | None = None) -> list[Any]:
    """File the compliance incident of every overdue statement not filed yet; return the new incidents.

    `actor` None is the system (the sweep); a person must be staff. Each incident is filed in its own
    transaction with its key rows: an error stops the run, the incidents filed before it stay, and the
    one that failed is filed by the next run.
    """
    from compliance.actions.incidents import incident_create

    if actor is not None and not perm.is_staff(actor):
        raise NotPermitted("Only root program staff file incidents for overdue audit statements.")
    now = now or timezone.now()
    overdue = overdue_statements(today=now.astimezone(UTC).date())
    if not overdue:
        return []
    filed_keys = set(
        OverdueStatementIncident.objects.filter(ca_owner_id__in={o.ca_owner_id for o in overdue})
        .values_list("ca_owner_id", "family", "period_end")
    )
    # One incident per CA and overdue period, naming its families.
    groups: dict[tuple[int, date, bool], list[OverdueStatement]] = defaultdict(list)
    for item in overdue:
        if (item.ca_owner_id, item.family, item.period_end) not in filed_keys:
            groups[(item.ca_owner_id, item.period_end, item.recorded)].append(item)
    owners = CAOwner.objects.in_bulk({owner_id for owner_id, _, _ in groups})
    incidents = []
    for (owner_id, period_end, _), items in sorted(groups.items()):
        owner = owners[owner_id]
        labels = ", ".join(FAMILY_LABELS.get(i.family, i.family) for i in items)
        try:
            with transaction.atomic():
                # The key rows first: a concurrent sweep that got here first makes this one fail (unique),
                # before any incident is written.
                keys = OverdueStatementIncident.objects.bulk_create([
                    OverdueStatementIncident(ca_owner_id=owner_id, family=i.family, period_end=i.period_end,
                                             due=i.due, created_at=now) for i in items
                ])
                incident = incident_create(
                    actor=actor, ca_owner=owner, source="audit", whiteboard=INCIDENT_WHITEBOARD,
                    title=f"Audit statement overdue ({labels}, period ending {period_end})",
                    description=_description(owner, items), security_sensitive=False,
                )
                OverdueStatementIncident.objects.filter(
                    ca_owner_id=owner_id, period_end=period_end, family__in=[k.family for k in keys]
                ).update(incident=incident)
        except IntegrityError:
            continue  # filed by a concurrent run
        incidents.append(incident)
    return incidents
