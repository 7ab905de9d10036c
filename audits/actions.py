"""Every write to audit statements, auditors and their qualifications.

Each function is keyword-only, runs in one transaction, writes an AuditEvent in it and
sends mail only after commit. Bad input raises config.errors.DomainError and stores nothing.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.utils import timezone

from accounts import permissions as perm
from audits import checks
from audits.criteria import (
    CCADB_AUDIT_COLUMN_FAMILIES,
    CRITERIA,
    ETSI_POLICY_FAMILIES,
    AuditError,
    ccadb_audit_headers,
    parse_ccadb_date,
    parse_criteria,
)
from audits.models import (
    AuditEvent,
    Auditor,
    AuditorQualification,
    AuditStatement,
    StatementCertificate,
    StatementCriterion,
    StatementFinding,
    VerificationRequest,
)
from config.errors import DomainError, NotPermitted, TransitionError

log = logging.getLogger(__name__)

# Decisions where the issue is silent (see the issue note):
# - a verification link lives 30 days; every link of a statement stops working once any is answered;
# - qualifications are re-verified yearly: next_due = verified_on + 1 year;
# - statement files are PDFs of at most 25 MB, recognised by their "%PDF-" magic bytes.
VERIFICATION_LINK_LIFETIME = timedelta(days=30)
VERIFICATION_SALT = "audits.verification-link"
MAX_STATEMENT_FILE_BYTES = 25 * 1024 * 1024
PDF_MAGIC = b"%PDF-"
INCIDENT_WHITEBOARD = "[ca-compliance] [audit-finding]"


# --- inputs ------------------------------------------------------------------------


@dataclass(frozen=True)
class CriterionInput:
    key: str
    version: str = ""
    policies: tuple[str, ...] = ()


@dataclass(frozen=True)
class FindingInput:
    severity: str
    text: str


_VERSION = re.compile(r"(?:\b[vV]\s?|\bversion\s+)(\d+(?:\.\d+)+)|(?<![\d.-])(\d+\.\d+(?:\.\d+)*)(?![\d.])")


def criteria_from_text(text: str) -> list[CriterionInput]:
    """One criterion per line, written as statements name them ("ETSI EN 319 411-1 V1.4.1 (DVCP, OVCP)")."""
    found: dict[str, CriterionInput] = {}
    for n, line in enumerate((text or "").splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        try:
            matches = parse_criteria(line)
        except AuditError as exc:
            raise DomainError(f"Criteria line {n}: {exc}", errors={"criteria": [f"Line {n}: {exc}"]}) from None
        m = _VERSION.search(line)
        version = (m.group(1) or m.group(2)) if m else ""
        for match in matches:
            found[match.criterion.key] = CriterionInput(match.criterion.key, version, match.policies)
    return list(found.values())


def fingerprints_from_text(text: str) -> list[str]:
    """One SHA-256 per line (colons or spaces between bytes allowed); any other line is an error."""
    out: list[str] = []
    for n, line in enumerate((text or "").splitlines(), start=1):
        raw = line.strip()
        if not raw:
            continue
        compact = re.sub(r"[\s:]", "", raw)
        if not re.fullmatch(r"[0-9A-Fa-f]{64}", compact):
            msg = f"Line {n}: {raw[:80]!r} is not a SHA-256 fingerprint (64 hex digits)."
            raise DomainError(msg, errors={"fingerprints": [msg]})
        out.append(compact.upper())
    return list(dict.fromkeys(out))


def findings_from_text(text: str) -> list[FindingInput]:
    """One qualification per line: "<minor|major|critical>: text"."""
    out: list[FindingInput] = []
    for n, line in enumerate((text or "").splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        severity, sep, rest = line.partition(":")
        severity = severity.strip().lower()
        if not sep or severity not in StatementFinding.Severity.values or not rest.strip():
            msg = f"Line {n}: write 'minor: …', 'major: …' or 'critical: …', not {line[:80]!r}."
            raise DomainError(msg, errors={"findings": [msg]})
        out.append(FindingInput(severity, rest.strip()))
    return out


# --- helpers -------------------------------------------------------------------------


def _label(actor: Any) -> str:
    return actor.get_username() if actor is not None and getattr(actor, "is_authenticated", False) else "Rootwatch"


def _user_or_none(actor: Any):
    return actor if actor is not None and getattr(actor, "is_authenticated", False) else None


def _event(kind: str, *, actor: Any, statement=None, auditor=None, message: str = "", old=None, new=None,
           actor_label: str | None = None) -> AuditEvent:
    return AuditEvent.objects.create(
        kind=kind, statement=statement, auditor=auditor, actor=_user_or_none(actor),
        actor_label=actor_label or _label(actor), message=message, old=old or {}, new=new or {},
    )


def _invalid(field_name: str, message: str) -> DomainError:
    return DomainError(message, errors={field_name: [message]})


def validate_pdf(upload) -> None:
    """A statement file must be a PDF: its first bytes are "%PDF-", whatever its name says."""
    if upload is None:
        return
    if upload.size is not None and upload.size > MAX_STATEMENT_FILE_BYTES:
        raise _invalid("file", f"The file is {upload.size} bytes; statements may be at most 25 MB.")
    upload.seek(0)
    head = upload.read(len(PDF_MAGIC))
    upload.seek(0)
    if head != PDF_MAGIC:
        raise _invalid("file", f"{getattr(upload, 'name', 'The file')!s} is not a PDF (it does not start with %PDF-).")


def _validate_dates(*, kind: str, period_start: date | None, period_end: date | None,
                    statement_date: date | None, today: date) -> tuple[date, date]:
    if kind not in AuditStatement.Kind.values:
        raise _invalid("kind", f"Kind {kind!r} is not 'period' or 'point'.")
    if period_start is None:
        raise _invalid("period_start", "The period start (or the as-of date of a point-in-time audit) is required.")
    if kind == AuditStatement.Kind.POINT:
        if period_end is not None and period_end != period_start:
            raise _invalid("period_end", "A point-in-time audit has one date: leave the period end empty or equal to the start.")
        period_end = period_start
    if period_end is None:
        raise _invalid("period_end", "The period end is required for a period-of-time audit.")
    if period_end < period_start:
        raise _invalid("period_end", f"The period ends ({period_end}) before it starts ({period_start}).")
    if period_end > today:
        raise _invalid("period_end", f"The period end {period_end} is in the future.")
    if statement_date is None:
        raise _invalid("statement_date", "The statement date is required.")
    if statement_date < period_end:
        raise _invalid("statement_date", f"The statement date {statement_date} is before the period ends ({period_end}).")
    if statement_date > today:
        raise _invalid("statement_date", f"The statement date {statement_date} is in the future.")
    return period_start, period_end


def _validate_criteria(criteria: Sequence[CriterionInput]) -> list[CriterionInput]:
    if not criteria:
        raise _invalid("criteria", "Name at least one audit criterion (e.g. 'WebTrust for CAs - SSL Baseline 2.8').")
    out = []
    for c in criteria:
        if c.key not in CRITERIA:
            raise _invalid("criteria", f"Unknown audit criterion {c.key!r}; known: {', '.join(CRITERIA)}.")
        for p in c.policies:
            if p not in ETSI_POLICY_FAMILIES:
                raise _invalid("criteria", f"Unknown ETSI policy {p!r}.")
        if len(c.version) > 30:
            raise _invalid("criteria", f"Version {c.version[:40]!r} is too long.")
        out.append(c)
    return out


def _validate_fingerprints(fingerprints: Iterable[str]) -> list[str]:
    out = []
    for fp in fingerprints:
        if not isinstance(fp, str) or not re.fullmatch(r"[0-9A-Fa-f]{64}", fp):
            raise _invalid("fingerprints", f"{fp!r} is not a SHA-256 fingerprint (64 hex digits).")
        out.append(fp.upper())
    return list(dict.fromkeys(out))


def _validate_findings(findings: Iterable[FindingInput]) -> list[FindingInput]:
    out = []
    for f in findings:
        if f.severity not in StatementFinding.Severity.values:
            raise _invalid("findings", f"Severity {f.severity!r} is not minor, major or critical.")
        if not f.text.strip():
            raise _invalid("findings", "A qualification needs its text.")
        out.append(FindingInput(f.severity, f.text.strip()))
    return out


def _set_criteria(statement: AuditStatement, criteria: Sequence[CriterionInput]) -> None:
    statement.criteria.all().delete()
    StatementCriterion.objects.bulk_create([
        StatementCriterion(statement=statement, key=c.key, family=CRITERIA[c.key].family, version=c.version,
                           policies=",".join(c.policies))
        for c in criteria
    ])


def _set_fingerprints(statement: AuditStatement, fingerprints: Sequence[str]) -> None:
    from compliance.models import Certificate

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
    if source == AuditStatement.Source.AUDITOR and not perm.is_staff(actor):
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
    _event(AuditEvent.Kind.STATEMENT_SUBMITTED, actor=actor, statement=statement, new=_snapshot(statement),
           message=statement.get_source_display())
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
    today: date | None = None,
) -> AuditStatement:
    today = today or timezone.localdate()
    statement = AuditStatement.objects.select_for_update().get(pk=statement.pk)
    if not perm.can_change_statement(actor, statement):
        raise NotPermitted("You may not change this statement.")
    if auditor is None:
        raise _invalid("auditor", "Name the auditor who issued the statement.")
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
    _event(AuditEvent.Kind.STATEMENT_CHANGED, actor=actor, statement=statement,
           old={k: old[k] for k in changed}, new={k: new[k] for k in changed})
    if statement.is_legitimate:
        _file_incident_if_qualified(statement, actor=actor)
    elif auditor_changed and auditor.contact_email and statement.verification == AuditStatement.Verification.PENDING:
        _request_verification(statement, actor=actor, now=timezone.now())
    return statement


# --- verification by the auditor --------------------------------------------------------


class VerificationLinkError(DomainError):
    """A verification link that cannot be used; the message tells the auditor why."""


def _nonce_hash(nonce: str) -> str:
    return hashlib.sha256(nonce.encode()).hexdigest()


def verification_token(request: VerificationRequest, nonce: str) -> str:
    return signing.dumps({"r": request.pk, "s": request.statement_id, "n": nonce}, salt=VERIFICATION_SALT)


def _request_verification(statement: AuditStatement, *, actor: Any, now: datetime) -> VerificationRequest:
    from audits import emails

    auditor = statement.auditor
    nonce = secrets.token_urlsafe(24)
    request = VerificationRequest.objects.create(
        statement=statement, nonce_hash=_nonce_hash(nonce), sent_to=auditor.contact_email,
        created_at=now, expires_at=now + VERIFICATION_LINK_LIFETIME,
    )
    AuditStatement.objects.filter(pk=statement.pk).update(
        verification_requests_sent=statement.verification_requests_sent + 1, verification_last_sent_at=now
    )
    statement.verification_requests_sent += 1
    statement.verification_last_sent_at = now
    _event(AuditEvent.Kind.VERIFICATION_REQUESTED, actor=actor, statement=statement,
           message=f"Link sent to the auditor's verification contact; it expires {request.expires_at:%Y-%m-%d %H:%M} UTC.",
           new={"request": request.pk, "expires_at": request.expires_at.isoformat()})
    token = verification_token(request, nonce)
    transaction.on_commit(lambda: emails.send_verification_request(request.pk, token))
    return request


@transaction.atomic
def statement_request_verification(*, actor: Any, statement: AuditStatement) -> VerificationRequest:
    """E-mail the auditor a fresh link. Staff, or Rootwatch itself (actor None: the reminders job)."""
    if actor is not None and not perm.can_manage_auditors(actor):
        raise NotPermitted("Only root program staff send verification requests.")
    statement = AuditStatement.objects.select_for_update(of=("self",)).select_related("auditor").get(pk=statement.pk)
    if statement.verification != AuditStatement.Verification.PENDING:
        raise TransitionError(f"The statement is {statement.get_verification_display().lower()}; nothing to verify.")
    if statement.auditor is None or not statement.auditor.contact_email:
        raise DomainError("The auditor has no verification contact e-mail; add one on the auditor's page first.")
    return _request_verification(statement, actor=actor, now=timezone.now())


def verification_request_for_token(token: str, *, now: datetime | None = None) -> VerificationRequest:
    """The request a link stands for, or VerificationLinkError saying why the link cannot be used."""
    now = now or timezone.now()
    try:
        # max_age is checked against the signature's own timestamp; expires_at below is the same rule
        # kept in the database, so a link's lifetime can be shown and shortened there.
        data = signing.loads(token, salt=VERIFICATION_SALT, max_age=VERIFICATION_LINK_LIFETIME)
    except signing.SignatureExpired:
        raise VerificationLinkError(
            "This verification link has expired. Ask root program staff for a new one.") from None
    except signing.BadSignature:
        raise VerificationLinkError(
            "This verification link is not valid: it was altered or copied incompletely.") from None
    try:
        request = VerificationRequest.objects.select_related("statement__ca_owner", "statement__auditor").get(
            pk=data["r"], statement_id=data["s"]
        )
    except (VerificationRequest.DoesNotExist, KeyError, TypeError):
        raise VerificationLinkError("This verification link does not match any statement.") from None
    if not secrets.compare_digest(request.nonce_hash, _nonce_hash(str(data.get("n", "")))):
        raise VerificationLinkError("This verification link is not valid: it was altered or copied incompletely.")
    if request.used_at is not None:
        raise VerificationLinkError(f"This verification link was already used on {request.used_at:%Y-%m-%d %H:%M} UTC.")
    if now >= request.expires_at:
        raise VerificationLinkError("This verification link has expired. Ask root program staff for a new one.")
    if request.statement.verification != AuditStatement.Verification.PENDING:
        raise VerificationLinkError("This statement has already been answered; the link no longer works.")
    return request


@transaction.atomic
def statement_answer_verification(*, token: str, confirmed: bool, name: str, note: str = "") -> AuditStatement:
    """The auditor's answer through the e-mailed link: no account, the signed link is the credential."""
    name = (name or "").strip()
    if not name:
        raise _invalid("name", "Give your name, so the answer can be attributed.")
    request = verification_request_for_token(token)
    now = timezone.now()
    # Compare-and-set: of two simultaneous submissions of one link, only one changes the row.
    if not VerificationRequest.objects.filter(pk=request.pk, used_at=None).update(
        used_at=now, answer="confirmed" if confirmed else "denied", answered_by_name=name[:255], note=note
    ):
        raise VerificationLinkError("This verification link was already used.")
    statement = AuditStatement.objects.select_for_update().get(pk=request.statement_id)
    if statement.verification != AuditStatement.Verification.PENDING:
        raise VerificationLinkError("This statement has already been answered; the link no longer works.")
    label = f"{name} (auditor, via the link sent to {request.sent_to})"
    _conclude(statement, confirmed=confirmed, actor=None, actor_label=label, note=note, now=now)
    return statement


@transaction.atomic
def statement_set_verification(*, actor: Any, statement: AuditStatement, confirmed: bool, note: str) -> AuditStatement:
    """Staff record an answer the auditor gave another way (phone, signed letter); the note says how."""
    if not perm.can_manage_auditors(actor):
        raise NotPermitted("Only root program staff record the auditor's answer.")
    if not note.strip():
        raise _invalid("note", "Say how the auditor answered (e.g. 'confirmed by phone with J. Smith').")
    statement = AuditStatement.objects.select_for_update().get(pk=statement.pk)
    if statement.verification != AuditStatement.Verification.PENDING:
        raise TransitionError(f"The statement is already {statement.get_verification_display().lower()}.")
    _conclude(statement, confirmed=confirmed, actor=actor, actor_label=None, note=note.strip(), now=timezone.now())
    return statement


def _conclude(statement: AuditStatement, *, confirmed: bool, actor, actor_label, note: str, now: datetime) -> None:
    old = {"verification": statement.verification, "is_public": statement.is_public}
    statement.verification = (
        AuditStatement.Verification.CONFIRMED if confirmed else AuditStatement.Verification.DENIED
    )
    # A denied statement stays visible to staff and the CA only: it is evidence, not an audit.
    statement.is_public = confirmed
    statement.verified_at = now
    statement.unverified_since = None
    statement.save(update_fields=["verification", "is_public", "verified_at", "unverified_since", "updated_at"])
    _event(
        AuditEvent.Kind.VERIFICATION_CONFIRMED if confirmed else AuditEvent.Kind.VERIFICATION_DENIED,
        actor=actor, actor_label=actor_label, statement=statement, message=note, old=old,
        new={"verification": statement.verification, "is_public": statement.is_public},
    )
    if confirmed:
        _file_incident_if_qualified(statement, actor=actor)


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
    _event(AuditEvent.Kind.INCIDENT_FILED, actor=actor, statement=statement,
           message=f"Filed {incident}", new={"incident": incident.pk})


# --- auditors -------------------------------------------------------------------------------


def _auditor_named(name: str, *, actor: Any) -> Auditor:
    """An auditor a submitter named but staff have not listed yet: created pending, to be qualified by staff."""
    name = name.strip()[:255]
    auditor = Auditor.objects.filter(name__iexact=name).first()
    if auditor is None:
        auditor = Auditor.objects.create(name=name)
        _event(AuditEvent.Kind.AUDITOR_CREATED, actor=actor, auditor=auditor,
               message="Named by a statement's submitter; pending until staff verify its qualifications")
    return auditor


def _require_auditor_manager(actor: Any) -> None:
    if not perm.can_manage_auditors(actor):
        raise NotPermitted("Only root program staff maintain auditors.")


_AUDITOR_FIELDS = ("name", "location", "website", "contact_name", "contact_email")


@transaction.atomic
def auditor_create(*, actor: Any, name: str, location: str = "", website: str = "", contact_name: str = "",
                   contact_email: str = "") -> Auditor:
    _require_auditor_manager(actor)
    name = name.strip()
    if not name:
        raise _invalid("name", "The audit firm's name is required.")
    if Auditor.objects.filter(name__iexact=name).exists():
        raise _invalid("name", f"An auditor named {name!r} exists already.")
    auditor = Auditor.objects.create(name=name, location=location, website=website, contact_name=contact_name,
                                     contact_email=contact_email)
    _event(AuditEvent.Kind.AUDITOR_CREATED, actor=actor, auditor=auditor,
           new={f: getattr(auditor, f) for f in _AUDITOR_FIELDS})
    return auditor


@transaction.atomic
def auditor_update(*, actor: Any, auditor: Auditor, **values: str) -> Auditor:
    _require_auditor_manager(actor)
    unknown = set(values) - set(_AUDITOR_FIELDS)
    if unknown:
        raise DomainError(f"Unknown auditor fields: {', '.join(sorted(unknown))}.")
    auditor = Auditor.objects.select_for_update().get(pk=auditor.pk)
    if "name" in values:
        values["name"] = values["name"].strip()
        if not values["name"]:
            raise _invalid("name", "The audit firm's name is required.")
        if Auditor.objects.filter(name__iexact=values["name"]).exclude(pk=auditor.pk).exists():
            raise _invalid("name", f"An auditor named {values['name']!r} exists already.")
    old = {f: getattr(auditor, f) for f in values if getattr(auditor, f) != values[f]}
    for f, v in values.items():
        setattr(auditor, f, v)
    auditor.save()
    if old:
        _event(AuditEvent.Kind.AUDITOR_CHANGED, actor=actor, auditor=auditor, old=old,
               new={f: values[f] for f in old})
    return auditor


@transaction.atomic
def auditor_set_approval(*, actor: Any, auditor: Auditor, approval: str, reason: str,
                         today: date | None = None) -> Auditor:
    """Approve only with a verified qualification that is not overdue; every change gives its reason."""
    _require_auditor_manager(actor)
    today = today or timezone.localdate()
    if approval not in Auditor.Approval.values:
        raise _invalid("approval", f"Approval {approval!r} is not one of {', '.join(Auditor.Approval.values)}.")
    if not reason.strip():
        raise _invalid("reason", "Give the reason for the decision.")
    auditor = Auditor.objects.select_for_update().get(pk=auditor.pk)
    if approval == auditor.approval:
        raise TransitionError(f"{auditor} is already {auditor.get_approval_display().lower()}.")
    if approval == Auditor.Approval.APPROVED and not auditor.qualifications.filter(next_due__gte=today).exists():
        raise TransitionError(
            f"{auditor} has no verified qualification that is current; record one before approving."
        )
    old = auditor.approval
    auditor.approval = approval
    auditor.save(update_fields=["approval", "updated_at"])
    _event(AuditEvent.Kind.APPROVAL_CHANGED, actor=actor, auditor=auditor, message=reason.strip(),
           old={"approval": old}, new={"approval": approval})
    return auditor


@transaction.atomic
def qualification_record(
    *, actor: Any, auditor: Auditor, scheme: str, method: str, verified_on: date, accrediting_body: str = "",
    evidence_url: str = "", representative: str = "", notes: str = "", today: date | None = None,
) -> AuditorQualification:
    """Record how staff verified an accreditation; it must be verified again a year later."""
    _require_auditor_manager(actor)
    today = today or timezone.localdate()
    if scheme not in AuditorQualification.Scheme.values:
        raise _invalid("scheme", f"Scheme {scheme!r} is not one of {', '.join(AuditorQualification.Scheme.values)}.")
    if method not in AuditorQualification.Method.values:
        raise _invalid("method", f"Method {method!r} is not one of {', '.join(AuditorQualification.Method.values)}.")
    if method == AuditorQualification.Method.LISTED and not evidence_url:
        raise _invalid("evidence_url", "Give the URL of the scheme's list that names the auditor.")
    if method == AuditorQualification.Method.REPRESENTATIVE and not representative.strip():
        raise _invalid("representative", "Name the representative of the accrediting organization who confirmed.")
    if scheme == AuditorQualification.Scheme.ETSI and not accrediting_body.strip():
        raise _invalid("accrediting_body", "Name the national accreditation body that accredited the auditor.")
    if verified_on is None or verified_on > today:
        raise _invalid("verified_on", "The verification date is required and cannot be in the future.")
    q = AuditorQualification.objects.create(
        auditor=auditor, scheme=scheme, method=method, verified_on=verified_on,
        next_due=checks.add_one_year(verified_on), accrediting_body=accrediting_body.strip(),
        evidence_url=evidence_url, representative=representative.strip(), notes=notes,
        verified_by=_user_or_none(actor), verified_by_name=_label(actor),
    )
    _event(AuditEvent.Kind.QUALIFICATION_VERIFIED, actor=actor, auditor=auditor,
           message=f"{q.get_scheme_display()}: {q.get_method_display()}",
           new={"qualification": q.pk, "verified_on": str(verified_on), "next_due": str(q.next_due)})
    return q


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
    from compliance.models import CAOwner, Certificate

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
                _event(AuditEvent.Kind.AUDITOR_CREATED, actor=actor, auditor=auditor, message="From CCADB records")
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
        _event(AuditEvent.Kind.STATEMENT_IMPORTED, actor=actor, statement=statement, message=plan["url"][:500])
    return summary
