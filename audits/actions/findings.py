"""A statement's serious qualifications become one compliance incident."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings

from audits.domain import checks
from audits.models import AuditHistory, AuditStatement, StatementFinding
from history import actions as history

# Named as before the split, so log configuration and filters keep matching.
log = logging.getLogger("audits.actions")

INCIDENT_WHITEBOARD = "[ca-compliance] [audit-finding]"


# --- qualifications -> compliance incident ------------------------------------------------------


def _family_label(statement: AuditStatement) -> str:
    return ", ".join(sorted({c.family for c in statement.criteria.all()})) or "audit"


def _file_incident_if_qualified(statement: AuditStatement, *, actor: Any) -> None:
    """Numerous or serious qualifications: file the seed's compliance bug once per statement."""
    findings = list(statement.findings.all())
    if not findings or any(f.incident_id for f in findings):
        return
    probe = checks.Statement(
        id=statement.pk, criteria_family="ca", kind=statement.kind, period_start=statement.period_start,
        period_end=statement.period_end, statement_date=statement.statement_date,
        findings=tuple((f.severity, f.text) for f in findings),
    )
    if not checks.serious_qualifications([probe]):
        return
    try:
        from compliance.actions.incidents import incident_create
    except ImportError:  # the incidents feature is not installed: the finding still shows on the CA's page
        log.warning("audits: statement %s has serious qualifications but incidents cannot be filed", statement.pk)
        return
    owner = statement.ca_owner
    lines = "\n".join(f"- {f.get_severity_display()}: {f.text}" for f in findings)
    description = (
        f"The {_family_label(statement)} audit statement by {statement.auditor or 'an unnamed auditor'} for "
        f"{statement.period_start}..{statement.period_end} (issued {statement.statement_date}) reports "
        f"{len(findings)} qualification{'s' if len(findings) != 1 else ''}:\n\n{lines}\n\n"
        f"Immediate minimum response: {checks.SERIOUS_QUALIFICATIONS_ACTION}.\n\n"
        f"Also consider: {checks.SERIOUS_QUALIFICATIONS_CONSIDER}\n\n"
        f"Statement: {settings.SITE_URL}{statement.get_absolute_url()}"
    )
    incident = incident_create(
        actor=actor, ca_owner=owner, title=f"{owner.name}: Qualified audit statement "
        f"({statement.period_start}..{statement.period_end})", description=description,
        security_sensitive=False, source="audit", whiteboard=INCIDENT_WHITEBOARD,
    )
    StatementFinding.objects.filter(statement=statement, incident=None).update(incident=incident)
    history.record(actor=actor, subject=statement, action=AuditHistory.INCIDENT_FILED, summary=f"Filed {incident}",
        new={"incident": incident.pk})
