"""Reads of the audits feature: lists, the CA audit page (timeline + findings), auditor registry.

Every list filters through accounts.permissions and runs a fixed number of queries.
Findings are computed over the statements the viewer may see, so a public page never
hints at a pending statement it would refuse to show.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.db.models import Count, Max, Prefetch, Q, QuerySet
from django.utils import timezone

from accounts import permissions as perm
from audits.domain import binding, checks
from audits.domain.criteria import FAMILIES, AuditError
from audits.models import (
    Auditor,
    AuditorQualification,
    AuditStatement,
    StatementCertificate,
    StatementFinding,
    VerificationRequest,
)
from config import stale

FAMILY_LABELS = {
    "ca": "CA (general criteria)",
    "netsec": "Network security",
    "tls-baseline": "TLS Baseline Requirements",
    "ev": "EV (Extended Validation)",
    "smime": "S/MIME Baseline Requirements",
}
# Which audit family a trust bit of an included root makes necessary (MRSP 3.1 section 3.1).
TRUST_FAMILIES = {"server": "tls-baseline", "email": "smime"}


def statements_for(user: Any) -> QuerySet[AuditStatement]:
    """Statements `user` may see, with what the list pages and the API show of each."""
    return (
        AuditStatement.objects.filter(perm.statement_visibility_q(user))
        .select_related("ca_owner", "auditor")
        .prefetch_related("criteria")
        .annotate(fingerprint_count=Count("fingerprints", distinct=True),
                  finding_count=Count("findings", distinct=True))
    )


def statement_list(*, user: Any, ca_owner_id: int | None = None, family: str | None = None,
                   verification: str | None = None, source: str | None = None) -> QuerySet[AuditStatement]:
    qs = statements_for(user)
    if ca_owner_id:
        qs = qs.filter(ca_owner_id=ca_owner_id)
    if family:
        qs = qs.filter(criteria__family=family).distinct()
    if verification:
        qs = qs.filter(verification=verification)
    if source:
        qs = qs.filter(source=source)
    return qs.order_by("-period_end", "-pk")


def statement_detail(*, user: Any, pk: int) -> AuditStatement | None:
    """The statement with its scope and findings, or None when it is not there or not visible."""
    statement = (
        AuditStatement.objects.filter(pk=pk)
        .select_related("ca_owner", "auditor", "submitted_by")
        .prefetch_related(
            "criteria",
            Prefetch("fingerprints", queryset=StatementCertificate.objects.select_related("certificate")),
            Prefetch("findings", queryset=StatementFinding.objects.select_related("incident")),
        )
        .first()
    )
    if statement is None or not perm.can_view_statement(user, statement):
        return None
    hide_unseen_incidents(user, [statement])
    return statement


def hide_unseen_incidents(user: Any, statements: Iterable[AuditStatement]) -> None:
    """A finding names the incident it filed only to those who may open that incident: staff may
    make it security-sensitive (and retitle it) after the statement, which stays public, filed it.
    For everyone else the prefetched finding reads as if it named none (never saved: a read)."""
    for statement in statements:
        for finding in statement.findings.all():
            if finding.incident_id and not perm.can_view_incident(user, finding.incident):
                finding.incident = None


def shown_to_auditor(statement: AuditStatement) -> tuple[binding.ShownStatement, bytes | None]:
    """What the verification link shows of `statement` as it is now, and the PDF's bytes (None: no file).

    The bytes are returned so the link serves exactly the file whose digest was compared; a file missing
    from storage gets a digest no stored one can equal, so its link is refused rather than served."""
    data: bytes | None = None
    file_sha256 = ""
    if statement.file:
        try:
            with statement.file.open("rb") as fh:
                data = fh.read()
            file_sha256 = binding.file_digest(data)
        except OSError:
            file_sha256 = "unreadable"
    auditor = statement.auditor
    shown = binding.ShownStatement(
        ca_owner_id=statement.ca_owner_id, ca_owner=str(statement.ca_owner),
        auditor_id=statement.auditor_id, auditor=auditor.name if auditor is not None else "",
        kind=statement.kind, period_start=statement.period_start, period_end=statement.period_end,
        statement_date=statement.statement_date, urls=(statement.url,) if statement.url else (),
        file_sha256=file_sha256,
        criteria=tuple(binding.ShownCriterion(c.key, c.version, c.policies) for c in statement.criteria.all()),
        fingerprints=tuple(statement.fingerprints.values_list("sha256", flat=True)),
        findings=tuple(binding.ShownFinding(f.severity, f.text) for f in statement.findings.all()),
    )
    return shown, data


def invalidated_link(statement: AuditStatement) -> VerificationRequest | None:
    """The statement's newest link when a change made it invalid and no newer link was sent: the statement
    page tells the CA and staff that a new request is needed."""
    if statement.verification != AuditStatement.Verification.PENDING:
        return None
    latest = statement.verification_requests.only("pk", "created_at", "invalidated_at", "statement_id").first()
    return latest if latest is not None and latest.invalidated_at is not None else None


def pending_verification_count(user: Any) -> int:
    return AuditStatement.objects.filter(perm.statement_visibility_q(user)).awaiting_verification().count()


# --- auditors ---------------------------------------------------------------------------------


def visible_auditors(user: Any) -> QuerySet[Auditor]:
    """The auditors `user` may see (accounts.permissions.can_view_auditor), each once."""
    return Auditor.objects.filter(pk__in=Auditor.objects.filter(perm.auditor_visibility_q(user)).values("pk"))


def auditor_list(*, user: Any) -> QuerySet[Auditor]:
    return visible_auditors(user).annotate(
        statement_count=Count("statements", filter=Q(statements__is_public=True), distinct=True),
        next_due=Max("qualifications__next_due"),
    ).order_by("name")


def auditor_detail(*, pk: int, user: Any) -> Auditor | None:
    """The auditor with its qualifications, or None when it is not there or not visible to `user`."""
    auditor = (
        Auditor.objects.filter(pk=pk)
        .prefetch_related(
            Prefetch("qualifications", queryset=AuditorQualification.objects.order_by("-verified_on", "-pk")),
        )
        .first()
    )
    if auditor is None or not perm.can_view_auditor(user, auditor):
        return None
    return auditor


def qualifications_due(*, by: date) -> QuerySet[AuditorQualification]:
    """Latest qualifications per auditor that must be verified again by `by` (reminders)."""
    return AuditorQualification.objects.due(by=by).select_related("auditor").order_by("next_due")


# --- certificates a CA must have audited -------------------------------------------------------


def trusted_certificates(*, ca_owner_id: int, now=None) -> list[checks.CertInScope]:
    """The owner's unexpired roots trusted in the root store, and intermediates chaining to one.

    A root trusted for websites needs TLS Baseline coverage, one trusted for e-mail S/MIME
    coverage; an intermediate needs what its trusted ancestors need. Fixed query count:
    owner's certificates, one query per chain level (at most 6), root store entries.
    """
    from registry.models import Certificate, IssuerLink, RootStoreEntry

    now = now or timezone.now()
    certs = list(
        Certificate.objects.filter(
            owner_id=ca_owner_id, kind__in=[Certificate.Kind.ROOT, Certificate.Kind.INTERMEDIATE], not_after__gt=now
        ).values("pk", "sha256", "kind")
    )
    if not certs:
        return []
    parents: dict[int, set[int]] = defaultdict(set)
    frontier = {c["pk"] for c in certs if c["kind"] == Certificate.Kind.INTERMEDIATE}
    seen = set(frontier)
    for _ in range(6):
        if not frontier:
            break
        links = list(IssuerLink.objects.filter(child_id__in=frontier).values_list("child_id", "parent_id"))
        frontier = set()
        for child, parent in links:
            if parent != child:
                parents[child].add(parent)
                if parent not in seen:
                    seen.add(parent)
                    frontier.add(parent)
    everyone = seen | {c["pk"] for c in certs}
    entries: dict[int, list[RootStoreEntry]] = defaultdict(list)
    for e in RootStoreEntry.objects.filter(certificate_id__in=everyone).only(
        "certificate_id", "trust_server", "trust_email"
    ):
        entries[e.certificate_id].append(e)

    def own_families(pk: int) -> frozenset[str] | None:
        """Families a root-store entry grants; None when the certificate has no entry."""
        if pk not in entries:
            return None
        fams = set()
        for e in entries[pk]:
            if e.trust_server == RootStoreEntry.Trust.TRUSTED_DELEGATOR:
                fams.add(TRUST_FAMILIES["server"])
            if e.trust_email == RootStoreEntry.Trust.TRUSTED_DELEGATOR:
                fams.add(TRUST_FAMILIES["email"])
        return frozenset(fams)

    def distrusted(pk: int) -> bool:
        return any(e.trust_server == RootStoreEntry.Trust.NOT_TRUSTED and e.trust_email == RootStoreEntry.Trust.NOT_TRUSTED
                   for e in entries.get(pk, ()))

    def distrusted_families(pk: int) -> set[str]:
        """Families the certificate's own entry distrusts (a distrust for websites only keeps e-mail's)."""
        out = set()
        for e in entries.get(pk, ()):
            if e.trust_server == RootStoreEntry.Trust.NOT_TRUSTED:
                out.add(TRUST_FAMILIES["server"])
            if e.trust_email == RootStoreEntry.Trust.NOT_TRUSTED:
                out.add(TRUST_FAMILIES["email"])
        return out

    memo: dict[int, frozenset[str]] = {}

    def families(pk: int, depth: int = 0) -> frozenset[str]:
        if pk in memo:
            return memo[pk]
        memo[pk] = frozenset()  # cycles (cross-signs) contribute nothing twice
        if distrusted(pk):
            return memo[pk]
        own = own_families(pk)
        result = set(own or ())
        if depth < 6:
            for parent in parents.get(pk, ()):
                result |= families(parent, depth + 1)
        memo[pk] = frozenset(result - distrusted_families(pk))
        return memo[pk]

    out = []
    for c in certs:
        fams = families(c["pk"]) if c["kind"] == Certificate.Kind.INTERMEDIATE else (own_families(c["pk"]) or frozenset())
        if fams:
            out.append(checks.CertInScope(sha256=c["sha256"], kind=c["kind"], trusted=True, required_families=fams))
    return out


# --- the CA's audit page -------------------------------------------------------------------------


@dataclass
class FindingView:
    code: str
    severity: str
    message: str
    date: date | None
    statement_pks: list[int]
    certificate: str | None = None
    action: str = ""
    consider: str = ""
    family: str | None = None
    incidents: list[Any] = field(default_factory=list)

    @property
    def title(self) -> str:
        return FINDING_TITLES.get(self.code, self.code.replace("_", " ").capitalize())


FINDING_TITLES = {
    "late_statement": "Statement overdue",
    "late_statement_received": "Statement received late",
    "missing_audit": "Next audit missing",
    "period_gap": "Gap between audit periods",
    "period_too_long": "Audit period longer than one year",
    "point_in_time_where_period_due": "Point-in-time audit where a period-of-time audit is due",
    "unapproved_auditor": "Auditor not approved",
    "unverified_statement": "Statement not verified with the auditor",
    "uncovered_certificate": "Trusted certificate not covered by a current audit",
    "serious_qualifications": "Numerous or serious qualifications",
    "denied_statement": "Auditor denied issuing the statement",
    "unchecked_statement": "Statement could not be checked",
}


@dataclass
class Bar:
    statement: AuditStatement
    start: date
    end: date
    left: float
    width: float
    status: str  # counts | pending | denied | unapproved
    late: bool
    point: bool


@dataclass
class Span:
    start: date
    end: date
    left: float
    width: float
    label: str


@dataclass
class FamilyTimeline:
    family: str
    label: str
    bars: list[Bar]
    gaps: list[Span]
    missing: Span | None


@dataclass
class CAAuditReport:
    ca_owner: Any
    today: date
    statements: list[AuditStatement]
    findings: list[FindingView]
    timelines: list[FamilyTimeline]
    axis_start: date
    axis_end: date
    ticks: list[tuple[int, float]]
    uncovered: list[str]
    in_scope: list[checks.CertInScope]


def _check_ids(statement: AuditStatement) -> list[tuple[str | int, str]]:
    families = sorted({c.family for c in statement.criteria.all()})
    if len(families) == 1:
        return [(statement.pk, families[0])]
    return [(f"{statement.pk}/{fam}", fam) for fam in families]


def _pk_of(check_id: str | int) -> int:
    return check_id if isinstance(check_id, int) else int(str(check_id).split("/")[0])


def _status(s: AuditStatement) -> str:
    if s.verification == AuditStatement.Verification.DENIED:
        return "denied"
    if s.auditor is None or not s.auditor.is_approved:
        return "unapproved"
    if s.verification == AuditStatement.Verification.PENDING:
        return "pending"
    return "counts"


def visible_statements_for_checks(*, user: Any, ca_owner_id: int) -> list[AuditStatement]:
    statements = list(
        AuditStatement.objects.filter(perm.statement_visibility_q(user), ca_owner_id=ca_owner_id)
        .select_related("auditor")
        .prefetch_related(
            "criteria",
            Prefetch("fingerprints", queryset=StatementCertificate.objects.only("statement_id", "sha256")),
            Prefetch("findings", queryset=StatementFinding.objects.select_related("incident")),
        )
        .order_by("period_start", "period_end", "pk")
    )
    hide_unseen_incidents(user, statements)
    return statements


def compute_findings(statements: list[AuditStatement], certs: list[checks.CertInScope], *,
                     today: date) -> list[FindingView]:
    """Run the pure checks over DB statements (one check statement per criteria family)."""
    pure: list[checks.Statement] = []
    family_of: dict[str | int, str] = {}
    extra: list[FindingView] = []
    by_pk = {s.pk: s for s in statements}
    for s in statements:
        if s.verification == AuditStatement.Verification.DENIED:
            extra.append(FindingView(
                code="denied_statement", severity="critical", date=(s.verified_at.date() if s.verified_at else None),
                statement_pks=[s.pk],
                message=(f"{s.auditor or 'The named auditor'} denied issuing statement {s.pk}, which the CA provided; "
                         "it is not an audit. Consider whether the CA deceived the root program."),
            ))
            continue
        if s.period_start is None or s.period_end is None:
            continue
        for check_id, family in _check_ids(s):
            candidate = checks.Statement(
                id=check_id, criteria_family=family, kind=s.kind, period_start=s.period_start,
                period_end=s.period_end, statement_date=s.statement_date,
                auditor_approved=bool(s.auditor and s.auditor.is_approved), source=s.source,
                verified=s.verification == AuditStatement.Verification.CONFIRMED,
                fingerprints=frozenset(f.sha256 for f in s.fingerprints.all()),
                findings=tuple((f.severity, f.text) for f in s.findings.all()),
            )
            family_of[check_id] = family
            try:
                pure.append(checks.validate_statement(candidate, today=today))
            except AuditError as exc:
                extra.append(FindingView(code="unchecked_statement", severity="minor", date=None,
                                         statement_pks=[s.pk], message=str(exc)))
    # Qualifications are per statement, not per family: count them once.
    seen_qualified: set[int] = set()
    views: list[FindingView] = []
    for f in checks.run_checks(pure, certs, today=today):
        pks = list(dict.fromkeys(_pk_of(i) for i in f.statement_ids))
        if f.code == "serious_qualifications":
            if pks[0] in seen_qualified:
                continue
            seen_qualified.add(pks[0])
        view = FindingView(code=f.code, severity=f.severity, message=f.message, date=f.date, statement_pks=pks,
                           certificate=f.certificate, action=f.action, consider=f.consider,
                           family=family_of.get(f.statement_ids[0]) if f.statement_ids else None)
        if f.code == "serious_qualifications":
            view.incidents = list({x.incident_id: x.incident for x in by_pk[pks[0]].findings.all()
                                   if x.incident_id}.values())
        views.append(view)
    views.extend(extra)
    return sorted(views, key=lambda v: (v.date or today, v.code, v.statement_pks))


def ca_audit_findings(*, user: Any, ca_owner_id: int, today: date | None = None) -> list[FindingView]:
    today = today or timezone.localdate()
    statements = visible_statements_for_checks(user=user, ca_owner_id=ca_owner_id)
    return compute_findings(statements, trusted_certificates(ca_owner_id=ca_owner_id), today=today)


def _pct(d: date, start: date, total: int) -> float:
    return round(max(0, min(total, (d - start).days)) * 100 / total, 3)


def ca_audit_report(*, user: Any, ca_owner, today: date | None = None) -> CAAuditReport:
    today = today or timezone.localdate()
    statements = visible_statements_for_checks(user=user, ca_owner_id=ca_owner.pk)
    in_scope = trusted_certificates(ca_owner_id=ca_owner.pk)
    findings = compute_findings(statements, in_scope, today=today)
    dated = [s for s in statements if s.period_start and s.period_end]
    axis_start = min((s.period_start for s in dated), default=today - timedelta(days=365))
    axis_start = date(axis_start.year, 1, 1)
    axis_end = max(today, *(s.period_end for s in dated)) if dated else today
    total = max(1, (axis_end - axis_start).days + 1)
    ticks = [(y, _pct(date(y, 1, 1), axis_start, total)) for y in range(axis_start.year, axis_end.year + 1)]

    families: dict[str, list[AuditStatement]] = defaultdict(list)
    for s in dated:
        if s.verification == AuditStatement.Verification.DENIED:
            continue
        for fam in sorted({c.family for c in s.criteria.all()}):
            families[fam].append(s)
    gaps: dict[str, list[Span]] = defaultdict(list)
    missing: dict[str, Span] = {}
    by_pk = {s.pk: s for s in dated}
    for f in findings:
        if f.code == "period_gap":
            b, fam = by_pk[f.statement_pks[-1]], f.family
            if fam and f.date:
                end = b.period_start - timedelta(days=1)
                gaps[fam].append(Span(f.date, end, _pct(f.date, axis_start, total),
                                      max(0.4, _pct(end + timedelta(days=1), axis_start, total) - _pct(f.date, axis_start, total)),
                                      f"Gap {f.date}..{end}"))
    for fam, group in families.items():
        last_end = max(s.period_end for s in group)
        next_due = checks.add_one_year(last_end) + timedelta(days=checks.STATEMENT_DUE_DAYS)
        if today > next_due:
            start = last_end + timedelta(days=1)
            missing[fam] = Span(start, today, _pct(start, axis_start, total),
                                max(0.4, 100 - _pct(start, axis_start, total)),
                                f"No audit after {last_end}; the next statement was due by {next_due}")
    timelines = []
    for fam in FAMILIES:
        if fam not in families:
            continue
        bars = []
        for s in families[fam]:
            late = bool(s.statement_date and s.statement_date > s.period_end + timedelta(days=checks.STATEMENT_DUE_DAYS))
            left = _pct(s.period_start, axis_start, total)
            width = max(0.6, _pct(s.period_end + timedelta(days=1), axis_start, total) - left)
            bars.append(Bar(s, s.period_start, s.period_end, left, width, _status(s), late,
                            s.kind == AuditStatement.Kind.POINT))
        timelines.append(FamilyTimeline(fam, FAMILY_LABELS[fam], bars, gaps.get(fam, []), missing.get(fam)))
    return CAAuditReport(
        ca_owner=ca_owner, today=today, statements=sorted(statements, key=lambda s: (s.period_end or today), reverse=True),
        findings=findings, timelines=timelines, axis_start=axis_start, axis_end=axis_end, ticks=ticks,
        uncovered=[f.certificate for f in findings if f.code == "uncovered_certificate" and f.certificate],
        in_scope=in_scope,
    )


def ca_owners_with_audits(*, user: Any):
    """The audits index: CA owners with how many statements the viewer can see and the latest period end."""
    from registry.models import CAOwner

    vis = perm.statement_visibility_q(user, prefix="audit_statements__")
    owners_q = Q(audit_statements__isnull=False)
    return (
        CAOwner.objects.annotate(
            statement_count=Count("audit_statements", filter=vis, distinct=True),
            latest_end=Max("audit_statements__period_end", filter=vis),
        )
        .filter(owners_q, statement_count__gt=0)
        .distinct()
        .order_by("name")
    )


# --- versions (config.stale) -----------------------------------------------------------------
# What the statement and auditor edit forms change, in one comparable shape whether it comes from
# the stored rows or from a form's parsed input: its digest is the version the pages carry in `base`.


def criteria_key(criteria: Any) -> list[list[Any]]:
    def policies(c: Any) -> list[str]:
        raw = c.policies.split(",") if isinstance(c.policies, str) else c.policies
        return sorted(p for p in raw if p)

    return sorted([c.key, c.version, policies(c)] for c in criteria)


def findings_key(findings: Any) -> list[list[str]]:
    return sorted([f.severity, f.text] for f in findings)


def statement_snapshot(statement: AuditStatement) -> dict[str, Any]:
    return stale.canonical({
        "auditor": statement.auditor_id, "kind": statement.kind, "period_start": statement.period_start,
        # A point-in-time statement's form shows no end date.
        "period_end": statement.period_end if statement.kind == AuditStatement.Kind.PERIOD else None,
        "statement_date": statement.statement_date, "url": statement.url,
        "criteria": criteria_key(statement.criteria.all()),
        "fingerprints": sorted(statement.fingerprints.values_list("sha256", flat=True)),
        "findings": findings_key(statement.findings.all()),
    })


AUDITOR_EDITABLE = ("name", "location", "website", "contact_name", "contact_email")


def auditor_snapshot(auditor: Auditor) -> dict[str, Any]:
    return stale.canonical({f: getattr(auditor, f) for f in AUDITOR_EDITABLE})
