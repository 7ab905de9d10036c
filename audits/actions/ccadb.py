"""Auditors and audit statements from CCADB's per-certificate audit columns."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts import permissions as perm
from audits.actions._common import _invalid
from audits.actions.inputs import CriterionInput, _validate_dates
from audits.domain.criteria import (
    CCADB_AUDIT_COLUMN_FAMILIES,
    CRITERIA,
    AuditError,
    ccadb_audit_headers,
    parse_ccadb_date,
    parse_criteria,
)
from audits.models import AuditHistory, Auditor, AuditStatement, StatementCertificate, StatementCriterion
from config.errors import DomainError, NotPermitted
from history import actions as history

# --- CCADB import ------------------------------------------------------------------------------


@dataclass
class CCADBImportSummary:
    rows: int = 0
    statements_created: int = 0
    statements_updated: int = 0
    auditors_created: int = 0
    fingerprints_added: int = 0
    skipped: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return (f"audits: {self.rows} rows, {self.statements_created} statements created, "
                f"{self.statements_updated} updated, {self.auditors_created} auditors created, "
                f"{self.fingerprints_added} fingerprints added, {len(self.skipped)} audits skipped")


def _ccadb_key(owner: str, url: str, start: date | None, end: date | None, stated: date | None) -> str:
    return hashlib.sha256(f"{owner}|{url.strip()}|{start}|{end}|{stated}".encode()).hexdigest()


@transaction.atomic
def statements_import_ccadb(*, actor: Any, rows: list[dict], today: date | None = None) -> CCADBImportSummary:
    """Create auditors and statements from CCADB's per-certificate audit columns.

    Rows are AllCertificateRecordsCSVFormat dicts. One statement per (CA owner, URL, period,
    statement date): an ETSI report filed under several columns becomes one statement with one
    criterion per family. Each row's SHA-256 joins the scope of its audits, and of its parent's
    when "Audits Same as Parent?" is true. CCADB's audit cases were verified with the auditor
    (audit letter validation), so imported statements count as from the auditor. Statements that
    fail validation are skipped with the reason; re-importing adds, never duplicates.
    """
    from registry.models import CAOwner, Certificate

    if actor is not None and not perm.can_edit_registry(actor):
        raise NotPermitted("Only root program staff import CCADB records.")
    today = today or timezone.localdate()
    summary = CCADBImportSummary(rows=len(rows))
    owners = {o.name: o for o in CAOwner.objects.all()}
    auditors = {a.name.lower(): a for a in Auditor.objects.all()}

    # key -> {"owner", "auditor", "url", "start", "end", "stated", "criteria": {key: CriterionInput}, "fps": set}
    planned: dict[str, dict] = {}
    own_keys: dict[str, set[str]] = {}  # row SHA-256 -> keys of its own audits
    by_sha: dict[str, dict] = {}
    for row in rows:
        sha = (row.get("SHA-256 Fingerprint") or "").strip().upper()
        by_sha[sha] = row
        owner_name = (row.get("CA Owner") or "").strip()
        for prefix, family in CCADB_AUDIT_COLUMN_FAMILIES.items():
            h = ccadb_audit_headers(prefix)
            url = (row.get(h["URL"]) or "").strip()
            kind_text = (row.get(h["Type"]) or "").strip()
            if not url and not kind_text:
                continue
            where = f"{owner_name} {sha[:16]}… {prefix} audit"
            try:
                stated = parse_ccadb_date(row.get(h["Statement Date"]) or "", field=h["Statement Date"])
                start = parse_ccadb_date(row.get(h["Period Start Date"]) or "", field=h["Period Start Date"])
                end = parse_ccadb_date(row.get(h["Period End Date"]) or "", field=h["Period End Date"])
                matches = parse_criteria(kind_text, family=family)
            except AuditError as exc:
                summary.skipped.append(f"{where}: {exc}")
                continue
            key = _ccadb_key(owner_name, url, start, end, stated)
            plan = planned.setdefault(key, {
                "owner": owner_name, "auditor": (row.get("Auditor") or "").strip(), "url": url,
                "start": start, "end": end, "stated": stated, "criteria": {}, "fps": set(), "where": where,
            })
            for m in matches:
                plan["criteria"].setdefault(m.criterion.key, CriterionInput(m.criterion.key, "", m.policies))
            if re.fullmatch(r"[0-9A-F]{64}", sha):
                plan["fps"].add(sha)
            own_keys.setdefault(sha, set()).add(key)
    for sha, row in by_sha.items():
        if (row.get("Audits Same as Parent?") or "").strip().lower() != "true" or sha in own_keys:
            continue
        parent, seen = (row.get("Parent SHA-256 Fingerprint") or "").strip().upper(), set()
        while parent and parent not in own_keys and parent not in seen and parent in by_sha:
            seen.add(parent)
            prow = by_sha[parent]
            parent = (prow.get("Parent SHA-256 Fingerprint") or "").strip().upper() \
                if (prow.get("Audits Same as Parent?") or "").strip().lower() == "true" else ""
        for key in own_keys.get(parent, ()):
            if re.fullmatch(r"[0-9A-F]{64}", sha):
                planned[key]["fps"].add(sha)

    existing = {s.ccadb_key: s for s in AuditStatement.objects.filter(ccadb_key__in=list(planned))}
    all_fps = set().union(*(p["fps"] for p in planned.values())) if planned else set()
    known = dict(Certificate.objects.filter(sha256__in=all_fps).values_list("sha256", "pk"))
    for key, plan in planned.items():
        owner = owners.get(plan["owner"])
        if owner is None:
            summary.skipped.append(f"{plan['where']}: CA owner {plan['owner']!r} is not in the registry")
            continue
        statement = existing.get(key)
        if statement is not None:
            have = set(statement.fingerprints.values_list("sha256", flat=True))
            add = sorted(plan["fps"] - have)
            StatementCertificate.objects.bulk_create(
                [StatementCertificate(statement=statement, sha256=fp, certificate_id=known.get(fp)) for fp in add]
            )
            have_keys = set(statement.criteria.values_list("key", flat=True))
            StatementCriterion.objects.bulk_create([
                StatementCriterion(statement=statement, key=c.key, family=CRITERIA[c.key].family,
                                   policies=",".join(c.policies))
                for k, c in plan["criteria"].items() if k not in have_keys
            ])
            if add:
                summary.fingerprints_added += len(add)
                summary.statements_updated += 1
            continue
        kind = AuditStatement.Kind.POINT if plan["start"] and plan["start"] == plan["end"] else AuditStatement.Kind.PERIOD
        try:
            _validate_dates(kind=kind, period_start=plan["start"], period_end=plan["end"],
                            statement_date=plan["stated"], today=today)
            if not plan["url"]:
                raise _invalid("url", "no audit URL")
        except DomainError as exc:
            summary.skipped.append(f"{plan['where']}: {exc.message}")
            continue
        auditor = None
        if plan["auditor"]:
            auditor = auditors.get(plan["auditor"].lower())
            if auditor is None:
                auditor = Auditor.objects.create(name=plan["auditor"][:255])
                auditors[auditor.name.lower()] = auditor
                summary.auditors_created += 1
                history.record(actor=actor, subject=auditor, action=AuditHistory.AUDITOR_CREATED,
                    summary="From CCADB records")
        statement = AuditStatement.objects.create(
            ca_owner=owner, auditor=auditor, source=AuditStatement.Source.AUDITOR, kind=kind,
            period_start=plan["start"], period_end=plan["end"], statement_date=plan["stated"], url=plan["url"][:1000],
            verification=AuditStatement.Verification.FROM_AUDITOR, is_public=True, verified_at=timezone.now(),
            ccadb_key=key,
        )
        StatementCriterion.objects.bulk_create([
            StatementCriterion(statement=statement, key=c.key, family=CRITERIA[c.key].family,
                               policies=",".join(c.policies))
            for c in plan["criteria"].values()
        ])
        StatementCertificate.objects.bulk_create([
            StatementCertificate(statement=statement, sha256=fp, certificate_id=known.get(fp))
            for fp in sorted(plan["fps"])
        ])
        summary.statements_created += 1
        summary.fingerprints_added += len(plan["fps"])
        history.record(actor=actor, subject=statement, action=AuditHistory.STATEMENT_IMPORTED,
            summary=plan["url"][:500])
    return summary
