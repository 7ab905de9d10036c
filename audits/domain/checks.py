"""Audit compliance checks over plain data: pure domain code, no Django.

Conventions the checks rely on (MRSP 3.1, DOMAIN.md "Audits and auditors"):

- Periods are inclusive of both ends. Consecutive periods of one family are
  contiguous when the next starts the day after the previous ends; a missing day
  is a gap. Overlapping periods are fine (a re-issued or re-scoped statement).
- "At most one year": the end may be at most the day before the same date one year
  later, so 2023-01-01..2023-12-31 (365 days) and the leap 2024-01-01..2024-12-31
  (366 days) pass, 2023-01-01..2024-01-01 (366 days) and anything of 367 days fail.
  A period starting on 29 February counts its year to 28 February.
- A statement is due within 92 calendar days after the period ends: received on
  day 92 is on time, missing on day 93 is late.
- A point-in-time audit is recorded with period_start == period_end (its "as of"
  date). It is acceptable only as the first audit of the certificates it names in
  its family; once any earlier audit of that family named one of them, the next
  must be a period-of-time audit.
- A statement *counts* (for coverage) when it has been received, its auditor is
  approved, and it came from the auditor or was verified with the auditor.
- The *current* statement of a family is the counting statement with the latest
  period end, while today is at most one year and 92 days after that end (by then
  the next period's statement was due). A trusted root or intermediate is covered
  when the current statement of each family it needs lists its SHA-256; a
  certificate that names no family needs any one current statement to list it.
- Structural checks (gaps, length, point-in-time, lateness) look at every
  statement, counting or not: a pending or rejected statement still declares its
  period, and its own finding says why it does not count.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from audits.domain.criteria import FAMILIES, AuditError, validate_fingerprint

__all__ = [
    "AuditError",
    "CertInScope",
    "Finding",
    "NUMEROUS_QUALIFICATIONS",
    "SERIOUS_QUALIFICATIONS_ACTION",
    "SERIOUS_QUALIFICATIONS_CONSIDER",
    "STATEMENT_DUE_DAYS",
    "Statement",
    "add_one_year",
    "current_statements",
    "late_statement",
    "period_gap",
    "period_too_long",
    "point_in_time_where_period_due",
    "run_checks",
    "serious_qualifications",
    "statement_counts",
    "statement_due",
    "unapproved_auditor",
    "uncovered_certificate",
    "validate_statement",
]

STATEMENT_DUE_DAYS = 92
# At this many qualifications a report "contains numerous qualifications" even if all are minor.
NUMEROUS_QUALIFICATIONS = 3
QUALIFICATION_SEVERITIES = ("minor", "major", "critical")

# Seed: "CA failed to supply proper audit documentation, or audit report contains
# numerous and/or serious qualifications" (wording kept exactly).
SERIOUS_QUALIFICATIONS_ACTION = (
    "File a CA compliance bug, request that the CA respond with remediation plans, and request an incident report"
)
SERIOUS_QUALIFICATIONS_CONSIDER = (
    "Depending on the situation, also consider requiring the CA to undergo new period-of-time audits as soon "
    "as the problems have been resolved. If the same problems are included on the new audit reports, they "
    "must state the dates on which the problems were resolved."
)

Severity = Literal["minor", "major", "critical"]


@dataclass(frozen=True, kw_only=True)
class Statement:
    id: str | int
    criteria_family: str
    kind: Literal["period", "point"]
    period_start: date
    period_end: date
    statement_date: date | None  # None: not received yet
    auditor_approved: bool = True
    source: Literal["auditor", "ca"] = "auditor"
    verified: bool = False
    fingerprints: frozenset[str] = frozenset()
    findings: Sequence[tuple[str, str]] = ()  # (severity, text) qualifications in the report


@dataclass(frozen=True, kw_only=True)
class CertInScope:
    sha256: str
    kind: str  # "root" | "intermediate"; other kinds need no audit coverage
    trusted: bool
    # Families whose current statement must list the certificate; empty: any one will do.
    required_families: frozenset[str] = frozenset()


@dataclass(frozen=True, kw_only=True)
class Finding:
    code: str
    severity: Severity
    message: str
    statement_ids: tuple[str | int, ...]
    date: date | None  # first day the finding holds
    action: str = ""
    consider: str = ""
    certificate: str | None = None


# --- dates --------------------------------------------------------------------

def add_one_year(d: date) -> date:
    """The same date one year later; 29 February maps to 1 March."""
    try:
        return d.replace(year=d.year + 1)
    except ValueError:
        return date(d.year + 1, 3, 1)


def statement_due(s: Statement) -> date:
    """Last day on which the statement is on time."""
    return s.period_end + timedelta(days=STATEMENT_DUE_DAYS)


def _fmt(d: date) -> str:
    return d.isoformat()


# --- validation ---------------------------------------------------------------

def _fail(s: Statement, field_name: str, problem: str) -> AuditError:
    return AuditError(f"statement {s.id!r}: {field_name} {problem}")


def validate_statement(s: Statement, *, today: date) -> Statement:
    """Raise AuditError naming the statement and field when the statement is inconsistent."""
    if s.criteria_family not in FAMILIES:
        raise _fail(s, "criteria_family", f"{s.criteria_family!r} is not one of {', '.join(FAMILIES)}")
    if s.kind not in ("period", "point"):
        raise _fail(s, "kind", f"{s.kind!r} is not 'period' or 'point'")
    if s.source not in ("auditor", "ca"):
        raise _fail(s, "source", f"{s.source!r} is not 'auditor' or 'ca'")
    if s.period_end < s.period_start:
        raise _fail(s, "period_end", f"{_fmt(s.period_end)} is before period_start {_fmt(s.period_start)}")
    if s.kind == "point" and s.period_end != s.period_start:
        raise _fail(s, "period_end", "of a point-in-time audit must equal period_start (its as-of date)")
    if s.period_end > today:
        raise _fail(s, "period_end", f"{_fmt(s.period_end)} is in the future (today {_fmt(today)})")
    if s.statement_date is not None:
        if s.statement_date < s.period_end:
            raise _fail(s, "statement_date",
                        f"{_fmt(s.statement_date)} is before the period end {_fmt(s.period_end)}")
        if s.statement_date > today:
            raise _fail(s, "statement_date", f"{_fmt(s.statement_date)} is in the future (today {_fmt(today)})")
    for fp in s.fingerprints:
        validate_fingerprint(fp, field=f"statement {s.id!r}: fingerprints")
    for i, item in enumerate(s.findings):
        if not (isinstance(item, tuple) and len(item) == 2 and item[0] in QUALIFICATION_SEVERITIES):
            raise _fail(s, f"findings[{i}]", f"{item!r} is not (severity in {QUALIFICATION_SEVERITIES}, text)")
    return s


# --- helpers --------------------------------------------------------------------

def _by_family(statements: Iterable[Statement]) -> dict[str, list[Statement]]:
    groups: dict[str, list[Statement]] = {}
    for s in sorted(statements, key=lambda s: (s.period_start, s.period_end, str(s.id))):
        groups.setdefault(s.criteria_family, []).append(s)
    return groups


def statement_counts(s: Statement) -> bool:
    return s.statement_date is not None and s.auditor_approved and (s.source == "auditor" or s.verified)


def _fingerprints(s: Statement) -> frozenset[str]:
    return frozenset(fp.upper() for fp in s.fingerprints)


def current_statements(statements: Iterable[Statement], *, today: date) -> dict[str, Statement]:
    """The current counting statement of each family (see the module docstring)."""
    current: dict[str, Statement] = {}
    for family, group in _by_family(statements).items():
        counting = [s for s in group if statement_counts(s)]
        if not counting:
            continue
        latest = max(counting, key=lambda s: (s.period_end, s.statement_date, str(s.id)))
        if today <= _lapses(latest) - timedelta(days=1):
            current[family] = latest
    return current


def _lapses(s: Statement) -> date:
    """First day on which the statement no longer speaks for the CA."""
    return add_one_year(s.period_end) + timedelta(days=STATEMENT_DUE_DAYS + 1)


# --- checks -----------------------------------------------------------------------

def late_statement(statements: Iterable[Statement], *, today: date) -> list[Finding]:
    """Statements missing after their due date, received late, or never started for the next period."""
    statements = list(statements)
    found: list[Finding] = []
    for s in statements:
        due = statement_due(s)
        if s.statement_date is None and today > due:
            found.append(Finding(
                code="late_statement", severity="major", statement_ids=(s.id,), date=due + timedelta(days=1),
                message=(f"{s.criteria_family} audit statement for {_fmt(s.period_start)}..{_fmt(s.period_end)} "
                         f"was due by {_fmt(due)} and has not been received"),
            ))
        elif s.statement_date is not None and s.statement_date > due:
            found.append(Finding(
                code="late_statement_received", severity="minor", statement_ids=(s.id,), date=s.statement_date,
                message=(f"{s.criteria_family} audit statement for {_fmt(s.period_start)}..{_fmt(s.period_end)} "
                         f"was issued {_fmt(s.statement_date)}, after the due date {_fmt(due)}; it needs an "
                         "explanation letter signed by the auditor"),
            ))
    for family, group in _by_family(statements).items():
        last = max(group, key=lambda s: s.period_end)
        next_due = add_one_year(last.period_end) + timedelta(days=STATEMENT_DUE_DAYS)
        if today > next_due:
            found.append(Finding(
                code="missing_audit", severity="major", statement_ids=(last.id,),
                date=next_due + timedelta(days=1),
                message=(f"no {family} audit after the period ending {_fmt(last.period_end)}; the statement for "
                         f"the next period was due by {_fmt(next_due)}"),
            ))
    return found


def period_gap(statements: Iterable[Statement]) -> list[Finding]:
    """Days between consecutive periods of one family that no period covers."""
    found: list[Finding] = []
    for family, group in _by_family(statements).items():
        covered_to, last = group[0].period_end, group[0]
        for s in group[1:]:
            if s.period_start > covered_to + timedelta(days=1):
                first_missing = covered_to + timedelta(days=1)
                last_missing = s.period_start - timedelta(days=1)
                days = (last_missing - first_missing).days + 1
                found.append(Finding(
                    code="period_gap", severity="major", statement_ids=(last.id, s.id), date=first_missing,
                    message=(f"{family} audits leave {_fmt(first_missing)}..{_fmt(last_missing)} ({days} day"
                             f"{'s' if days > 1 else ''}) unaudited between {last.id!r} and {s.id!r}"),
                ))
            if s.period_end >= covered_to:
                covered_to, last = s.period_end, s
    return found


def period_too_long(statements: Iterable[Statement]) -> list[Finding]:
    found: list[Finding] = []
    for s in statements:
        limit = add_one_year(s.period_start) - timedelta(days=1)
        if s.kind == "period" and s.period_end > limit:
            days = (s.period_end - s.period_start).days + 1
            found.append(Finding(
                code="period_too_long", severity="major", statement_ids=(s.id,), date=limit + timedelta(days=1),
                message=(f"{s.criteria_family} audit period {_fmt(s.period_start)}..{_fmt(s.period_end)} is "
                         f"{days} days; a period may end no later than {_fmt(limit)}"),
            ))
    return found


def point_in_time_where_period_due(statements: Iterable[Statement]) -> list[Finding]:
    found: list[Finding] = []
    for family, group in _by_family(statements).items():
        for s in (s for s in group if s.kind == "point"):
            earlier = [e for e in group if e is not s and e.period_end < s.period_end]
            if s.fingerprints:
                earlier = [e for e in earlier if _fingerprints(e) & _fingerprints(s)]
            if earlier:
                prior = max(earlier, key=lambda e: e.period_end)
                found.append(Finding(
                    code="point_in_time_where_period_due", severity="major", statement_ids=(prior.id, s.id),
                    date=s.period_end,
                    message=(f"{family} point-in-time audit {s.id!r} as of {_fmt(s.period_end)} follows audit "
                             f"{prior.id!r} of the same certificates; a period-of-time audit is due"),
                ))
    return found


def unapproved_auditor(statements: Iterable[Statement]) -> list[Finding]:
    found: list[Finding] = []
    for s in statements:
        if not s.auditor_approved:
            found.append(Finding(
                code="unapproved_auditor", severity="major", statement_ids=(s.id,), date=s.statement_date,
                message=(f"{s.criteria_family} statement {s.id!r} is by an auditor that is not approved; it does "
                         "not count until the auditor's qualifications are verified"),
            ))
        if s.source == "ca" and not s.verified:
            found.append(Finding(
                code="unverified_statement", severity="minor", statement_ids=(s.id,), date=s.statement_date,
                message=(f"{s.criteria_family} statement {s.id!r} was supplied by the CA and has not been "
                         "verified with the auditor; it does not count yet"),
            ))
    return found


def uncovered_certificate(
    statements: Iterable[Statement], certs: Iterable[CertInScope], *, today: date
) -> list[Finding]:
    statements = list(statements)
    current = current_statements(statements, today=today)
    found: list[Finding] = []
    for cert in certs:
        if not cert.trusted or cert.kind not in ("root", "intermediate"):
            continue
        sha = validate_fingerprint(cert.sha256, field="certificate sha256")
        if cert.required_families:
            missing = [f for f in sorted(cert.required_families)
                       if f not in current or sha not in _fingerprints(current[f])]
            found.extend(_uncovered(sha, cert, f, current, statements, today=today) for f in missing)
        elif not any(sha in _fingerprints(s) for s in current.values()):
            found.append(_uncovered(sha, cert, None, current, statements, today=today))
    return found


def _uncovered(
    sha: str, cert: CertInScope, family: str | None, current: dict[str, Statement],
    statements: list[Statement], *, today: date,
) -> Finding:
    if family is None:
        what, listing = "any current statement", sorted(current.values(), key=lambda s: str(s.id))
    else:
        what, listing = f"the current {family} statement", [current[family]] if family in current else []
    if listing:
        since = max(s.statement_date or today for s in listing)
        ids = tuple(s.id for s in listing)
        why = f"{', '.join(repr(i) for i in ids)} do{'es' if len(ids) == 1 else ''} not list it"
    else:
        lapsed = [_lapses(s) for s in statements
                  if statement_counts(s) and (family is None or s.criteria_family == family)]
        since, ids = (max(lapsed) if lapsed else today), ()
        why = "no counting statement is current"
    return Finding(
        code="uncovered_certificate", severity="major", statement_ids=ids, date=since, certificate=sha,
        message=f"trusted {cert.kind} {sha} is not covered by {what}: {why}",
    )


def serious_qualifications(statements: Iterable[Statement]) -> list[Finding]:
    found: list[Finding] = []
    for s in statements:
        severities = [sev for sev, _ in s.findings]
        serious = [sev for sev in severities if sev in ("major", "critical")]
        if not serious and len(severities) < NUMEROUS_QUALIFICATIONS:
            continue
        reasons = []
        if serious:
            reasons.append(f"{len(serious)} serious")
        if len(severities) >= NUMEROUS_QUALIFICATIONS:
            reasons.append(f"{len(severities)} in all (numerous)")
        found.append(Finding(
            code="serious_qualifications", severity="critical" if "critical" in serious else "major",
            statement_ids=(s.id,), date=s.statement_date,
            action=SERIOUS_QUALIFICATIONS_ACTION, consider=SERIOUS_QUALIFICATIONS_CONSIDER,
            message=(f"{s.criteria_family} statement {s.id!r} is qualified: " + ", ".join(reasons)),
        ))
    return found


def run_checks(
    statements: Iterable[Statement], certs: Iterable[CertInScope], *, today: date
) -> list[Finding]:
    """Validate every statement, then run every check; findings ordered by date, code, statements."""
    statements = [validate_statement(s, today=today) for s in statements]
    ids = [s.id for s in statements]
    if len(set(ids)) != len(ids):
        dupes = sorted({str(i) for i in ids if ids.count(i) > 1})
        raise AuditError(f"statement ids must be unique; repeated: {', '.join(dupes)}")
    found = [
        *late_statement(statements, today=today),
        *period_gap(statements),
        *period_too_long(statements),
        *point_in_time_where_period_due(statements),
        *unapproved_auditor(statements),
        *uncovered_certificate(statements, list(certs), today=today),
        *serious_qualifications(statements),
    ]
    return sorted(found, key=lambda f: (f.date or today, f.code, tuple(map(str, f.statement_ids)),
                                        f.certificate or ""))
