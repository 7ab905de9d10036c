"""Submitting and changing audit statements, with their criteria, scope and qualifications."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import date
from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts import permissions as perm
from audits import selectors
from audits.actions._common import _invalid, _user_or_none
from audits.actions.auditors import _auditor_named
from audits.actions.findings import _file_incident_if_qualified
from audits.actions.inputs import (
    CriterionInput,
    FindingInput,
    _validate_criteria,
    _validate_dates,
    _validate_findings,
    _validate_fingerprints,
    validate_pdf,
)
from audits.actions.verification import _invalidate_changed_links, _request_verification
from audits.domain.criteria import CRITERIA
from audits.models import (
    AuditHistory,
    Auditor,
    AuditStatement,
    StatementCertificate,
    StatementCriterion,
    StatementFinding,
)
from config import stale
from config.errors import NotPermitted
from history import actions as history
from history import selectors as history_sel


def _set_criteria(statement: AuditStatement, criteria: Sequence[CriterionInput]) -> None:
    statement.criteria.all().delete()
    StatementCriterion.objects.bulk_create([
        StatementCriterion(statement=statement, key=c.key, family=CRITERIA[c.key].family, version=c.version,
                           policies=",".join(c.policies))
        for c in criteria
    ])


def _set_fingerprints(statement: AuditStatement, fingerprints: Sequence[str]) -> None:
    from registry.models import Certificate

    wanted = set(fingerprints)
    statement.fingerprints.exclude(sha256__in=wanted).delete()
    have = set(statement.fingerprints.values_list("sha256", flat=True))
    known = dict(Certificate.objects.filter(sha256__in=wanted - have).values_list("sha256", "pk"))
    StatementCertificate.objects.bulk_create([
        StatementCertificate(statement=statement, sha256=fp, certificate_id=known.get(fp))
        for fp in fingerprints if fp not in have
    ])


def _set_findings(statement: AuditStatement, findings: Sequence[FindingInput]) -> None:
    """Replace the qualifications; unchanged ones keep the incident they caused."""
    existing = list(statement.findings.all())
    keep: set[int] = set()
    new: list[StatementFinding] = []
    for f in findings:
        match = next((e for e in existing if e.pk not in keep and e.severity == f.severity and e.text == f.text), None)
        if match is not None:
            keep.add(match.pk)
        else:
            new.append(StatementFinding(statement=statement, severity=f.severity, text=f.text))
    statement.findings.exclude(pk__in=keep).delete()
    StatementFinding.objects.bulk_create(new)


def _snapshot(statement: AuditStatement) -> dict:
    return {
        "auditor": statement.auditor_id, "kind": statement.kind, "source": statement.source,
        "period_start": str(statement.period_start), "period_end": str(statement.period_end),
        "statement_date": str(statement.statement_date), "url": statement.url,
        "file": statement.file.name if statement.file else "",
        "criteria": sorted(f"{c.key} {c.version}".strip() for c in statement.criteria.all()),
        "fingerprints": sorted(statement.fingerprints.values_list("sha256", flat=True)),
        "findings": [f"{f.severity}: {f.text}" for f in statement.findings.all()],
        "verification": statement.verification,
    }


# --- statements ----------------------------------------------------------------------


@transaction.atomic
def statement_submit(
    *, actor: Any, ca_owner, auditor: Auditor | None, source: str, kind: str,
    period_start: date | None, period_end: date | None, statement_date: date | None, url: str = "", file=None,
    criteria: Sequence[CriterionInput], fingerprints: Sequence[str] = (), findings: Sequence[FindingInput] = (),
    new_auditor_name: str = "", today: date | None = None,
) -> AuditStatement:
    """Record an audit statement. A CA-provided one waits for its auditor; one from the auditor counts at once."""
    today = today or timezone.localdate()
    if not perm.can_submit_statement(actor, ca_owner.pk):
        raise NotPermitted(f"You may not submit audit statements for {ca_owner}.")
    if source not in AuditStatement.Source.values:
        raise _invalid("source", f"Source {source!r} is not 'auditor' or 'ca'.")
    if source == AuditStatement.Source.AUDITOR and not perm.can_record_statement_from_auditor(actor):
        raise NotPermitted("Only root program staff record a statement as received from the auditor; CA "
                           "representatives submit it as provided by the CA, and Rootwatch verifies it.")
    if auditor is None and not new_auditor_name.strip():
        raise _invalid("auditor", "Name the auditor who issued the statement.")
    period_start, period_end = _validate_dates(
        kind=kind, period_start=period_start, period_end=period_end, statement_date=statement_date, today=today
    )
    criteria = _validate_criteria(criteria)
    fingerprints = _validate_fingerprints(fingerprints)
    findings = _validate_findings(findings)
    validate_pdf(file)
    if not url and file is None:
        raise _invalid("url", "Give the statement's URL or upload its PDF.")

    if auditor is None:
        auditor = _auditor_named(new_auditor_name, actor=actor)
    now = timezone.now()
    from_auditor = source == AuditStatement.Source.AUDITOR
    statement = AuditStatement(
        ca_owner=ca_owner, auditor=auditor, source=source, kind=kind, period_start=period_start,
        period_end=period_end, statement_date=statement_date, url=url,
        verification=AuditStatement.Verification.FROM_AUDITOR if from_auditor else AuditStatement.Verification.PENDING,
        is_public=from_auditor, unverified_since=None if from_auditor else now,
        verified_at=now if from_auditor else None, submitted_by=_user_or_none(actor),
    )
    if file is not None:
        statement.file.save(f"statement-{secrets.token_hex(8)}.pdf", file, save=False)
    statement.save()
    _set_criteria(statement, criteria)
    _set_fingerprints(statement, fingerprints)
    _set_findings(statement, findings)
    history.record(actor=actor, subject=statement, action=AuditHistory.STATEMENT_SUBMITTED, new=_snapshot(statement),
        summary=statement.get_source_display())
    if from_auditor:
        _file_incident_if_qualified(statement, actor=actor)
    elif auditor.contact_email:
        _request_verification(statement, actor=actor, now=now)
    return statement


@transaction.atomic
def statement_update(
    *, actor: Any, statement: AuditStatement, auditor: Auditor | None, kind: str,
    period_start: date | None, period_end: date | None, statement_date: date | None, url: str = "", file=None,
    criteria: Sequence[CriterionInput], fingerprints: Sequence[str] = (), findings: Sequence[FindingInput] = (),
    today: date | None = None, base_version: Any = None, base: Any = None,
) -> AuditStatement:
    """Change a statement. `base` (the edit page: the statement as the form showed it) or `base_version`:
    what the editor left as it was is not written; what someone else changed meanwhile is a conflict."""
    today = today or timezone.localdate()
    statement = AuditStatement.objects.select_for_update().get(pk=statement.pk)
    if not perm.can_change_statement(actor, statement):
        raise NotPermitted("You may not change this statement.")
    if auditor is None:
        raise _invalid("auditor", "Name the auditor who issued the statement.")
    if base_version is not None or base is not None:
        criteria, fingerprints = _validate_criteria(criteria), _validate_fingerprints(fingerprints)
        findings = _validate_findings(findings)
        kept = stale.merge(
            current=selectors.statement_snapshot(statement), base_version=base_version, base=base,
            proposed={"auditor": auditor, "kind": kind, "period_start": period_start,
                      "period_end": period_end if kind == AuditStatement.Kind.PERIOD else None,
                      "statement_date": statement_date, "url": url, "criteria": selectors.criteria_key(criteria),
                      "fingerprints": sorted(fingerprints), "findings": selectors.findings_key(findings)},
            changed_by=lambda field: history_sel.last_changed_by(statement, field))
        # What the editor left as it was stays as it is now (someone else may have changed it).
        auditor = auditor if "auditor" in kept else statement.auditor
        kind = kind if "kind" in kept else statement.kind
        period_start = period_start if "period_start" in kept else statement.period_start
        period_end = period_end if "period_end" in kept else statement.period_end
        statement_date = statement_date if "statement_date" in kept else statement.statement_date
        url = url if "url" in kept else statement.url
        if "criteria" not in kept:
            criteria = [CriterionInput(c.key, c.version, tuple(p for p in c.policies.split(",") if p))
                        for c in statement.criteria.all()]
        if "fingerprints" not in kept:
            fingerprints = list(statement.fingerprints.values_list("sha256", flat=True))
        if "findings" not in kept:
            findings = [FindingInput(f.severity, f.text) for f in statement.findings.all()]
    period_start, period_end = _validate_dates(
        kind=kind, period_start=period_start, period_end=period_end, statement_date=statement_date, today=today
    )
    criteria = _validate_criteria(criteria)
    fingerprints = _validate_fingerprints(fingerprints)
    findings = _validate_findings(findings)
    validate_pdf(file)
    if not url and file is None and not statement.file:
        raise _invalid("url", "Give the statement's URL or upload its PDF.")
    old = _snapshot(statement)
    auditor_changed = auditor.pk != statement.auditor_id
    statement.auditor, statement.kind, statement.url = auditor, kind, url
    statement.period_start, statement.period_end, statement.statement_date = period_start, period_end, statement_date
    if file is not None:
        statement.file.save(f"statement-{secrets.token_hex(8)}.pdf", file, save=False)
    statement.save()
    _set_criteria(statement, criteria)
    _set_fingerprints(statement, fingerprints)
    _set_findings(statement, findings)
    new = _snapshot(statement)
    changed = {k for k in new if new[k] != old[k]}
    history.record(actor=actor, subject=statement, action=AuditHistory.STATEMENT_CHANGED,
        old={k: old[k] for k in changed}, new={k: new[k] for k in changed})
    # A link sent before this change showed other content: it dies here, whoever changed what.
    _invalidate_changed_links(statement, actor=actor, now=timezone.now())
    if statement.is_legitimate:
        _file_incident_if_qualified(statement, actor=actor)
    elif auditor_changed and auditor.contact_email and statement.verification == AuditStatement.Verification.PENDING:
        _request_verification(statement, actor=actor, now=timezone.now())
    return statement
