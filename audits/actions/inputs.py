"""What callers hand the audits actions: input shapes, their text parsers and their validation."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from audits.actions._common import _invalid
from audits.domain.criteria import CRITERIA, ETSI_POLICY_FAMILIES, AuditError, parse_criteria
from audits.models import AuditStatement, StatementFinding
from config.errors import DomainError

# Decision where the issue is silent (see the issue note):
# - statement files are PDFs of at most 25 MB, recognised by their "%PDF-" magic bytes.
MAX_STATEMENT_FILE_BYTES = 25 * 1024 * 1024
PDF_MAGIC = b"%PDF-"


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


# --- validation ----------------------------------------------------------------------


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
