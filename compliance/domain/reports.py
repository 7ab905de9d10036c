"""Incident report templates of the CCADB Incident Reporting Guidelines (IRG) v3.

Three templates (preliminary, full, closure) as field definitions, a
validator that turns submitted form data into a ``CleanReport``, the Markdown
rendering posted in the incident, a parser for the appendix CSV of affected
certificates, and a diff between two versions of a report.

Decisions where the IRG is silent:

* "N/A" is accepted in any case and with surrounding spaces (``n/a``) and is
  stored as ``"N/A"``. Other spellings ("NA", "none") are not N/A: a text
  field takes them as text, a typed field rejects them.
* N/A is refused where a report without the value makes no sense: the CCADB
  ID, the incident description, the source of disclosure, the timeline, the
  root cause analysis and the action items. A full report must list at least
  one action item: the IRG asks what changes so it will not happen again.
* Table rows are numbered from 1 in error keys: ``action_items[2].status``.
* Versions are diffed field by field; action items are matched by their
  "Action Item" text (so reordering or adding one does not mark every later
  row as changed; rewording one shows as removed + added), related incidents
  by bug, timeline entries by their whole content, contributing factors by
  position (they are numbered in the report).
"""

from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

__all__ = [
    "AFFECTED_CSV_COLUMNS",
    "AFFECTED_CSV_MAX_ROWS",
    "NA",
    "TEMPLATES",
    "AffectedCertificate",
    "CleanReport",
    "FieldChange",
    "FieldDef",
    "FieldType",
    "ReportError",
    "ReportKind",
    "SectionDef",
    "Template",
    "diff_reports",
    "parse_affected_csv",
    "render_markdown",
    "validate",
]

NA = "N/A"


class ReportError(ValueError):
    """Invalid report data; ``errors`` maps a field key (or ``row N``) to messages."""

    def __init__(self, errors: Mapping[str, list[str]], *, context: str = "report") -> None:
        self.errors: dict[str, list[str]] = {k: list(v) for k, v in errors.items()}
        lines = [f"{key}: {msg}" for key, msgs in self.errors.items() for msg in msgs]
        super().__init__(f"{context} is invalid: " + "; ".join(lines))


class ReportKind(StrEnum):
    PRELIMINARY = "preliminary"
    FULL = "full"
    CLOSURE = "closure"


class FieldType(StrEnum):
    TEXT = "text"
    INTEGER = "integer"
    DATE = "date"
    DATETIME = "datetime"  # UTC, to the minute
    CHOICE = "choice"
    CCADB_ID = "ccadb_id"
    TABLE = "table"
    APPENDIX = "appendix"  # affected-certificates CSV, or crt.sh URLs


@dataclass(frozen=True)
class FieldDef:
    key: str
    label: str
    help: str
    type: FieldType = FieldType.TEXT
    choices: tuple[str, ...] = ()
    na_allowed: bool = True
    # Rendered nested under this label (the Summary's "Timeline summary").
    group: str | None = None
    # TABLE only.
    columns: tuple[FieldDef, ...] = ()
    min_rows: int = 0
    # TABLE only: how versions are matched in diffs: a column key, "*" for
    # the whole row, None for position.
    row_key: str | None = None


@dataclass(frozen=True)
class SectionDef:
    key: str
    title: str
    fields: tuple[FieldDef, ...]
    intro: str = ""


@dataclass(frozen=True)
class Template:
    kind: ReportKind
    title: str
    sections: tuple[SectionDef, ...]

    def fields(self) -> tuple[FieldDef, ...]:
        return tuple(f for s in self.sections for f in s.fields)

    def field(self, key: str) -> FieldDef:
        for candidate in self.fields():
            if candidate.key == key:
                return candidate
        raise KeyError(key)


def _text(key: str, label: str, help: str, **kw: Any) -> FieldDef:
    return FieldDef(key, label, help, FieldType.TEXT, **kw)


_SOURCE_CHOICES = ("Self Reported", "Third Party Reported", "Audit")

_INCIDENT_DESCRIPTION = _text(
    "incident_description",
    "Incident description",
    "What happened, in a few sentences a reader outside the CA understands.",
    na_allowed=False,
)
_RELEVANT_POLICIES = _text(
    "relevant_policies",
    "Relevant policies",
    "The requirements not met, with document, version and section "
    "(e.g. TLS BR v2.0.1 section 7.1.2.7.10).",
)
_SOURCE = FieldDef(
    "source_of_disclosure",
    "Source of incident disclosure",
    "Self Reported, Third Party Reported or Audit.",
    FieldType.CHOICE,
    choices=_SOURCE_CHOICES,
    na_allowed=False,
)

_PRELIMINARY = Template(
    ReportKind.PRELIMINARY,
    "Preliminary Incident Report",
    (SectionDef("summary", "Summary", (_INCIDENT_DESCRIPTION, _RELEVANT_POLICIES, _SOURCE)),),
)

_TIMELINE_SUMMARY = "Timeline summary"

_FULL_SUMMARY = SectionDef(
    "summary",
    "Summary",
    (
        FieldDef(
            "ca_owner_ccadb_id",
            "CA Owner CCADB unique ID",
            'The CA Owner record\'s ID in CCADB: "A" followed by 6 digits, e.g. A000123.',
            FieldType.CCADB_ID,
            na_allowed=False,
        ),
        _INCIDENT_DESCRIPTION,
        FieldDef(
            "non_compliance_start_date",
            "Non-compliance start date",
            "The date the non-compliance began (YYYY-MM-DD).",
            FieldType.DATE,
            group=_TIMELINE_SUMMARY,
        ),
        FieldDef(
            "non_compliance_identified_date",
            "Non-compliance identified date",
            "The date the CA identified the non-compliance (YYYY-MM-DD).",
            FieldType.DATE,
            group=_TIMELINE_SUMMARY,
        ),
        FieldDef(
            "non_compliance_end_date",
            "Non-compliance end date",
            "The date the non-compliance ended (YYYY-MM-DD).",
            FieldType.DATE,
            group=_TIMELINE_SUMMARY,
        ),
        _RELEVANT_POLICIES,
        _SOURCE,
    ),
)

_IMPACT = SectionDef(
    "impact",
    "Impact",
    (
        FieldDef(
            "total_certificates",
            "Total number of certificates",
            "How many certificates (precertificates counted once) are affected.",
            FieldType.INTEGER,
        ),
        FieldDef(
            "total_remaining_valid",
            'Total number of "remaining valid" certificates',
            "Affected certificates neither expired nor revoked when the report is posted.",
            FieldType.INTEGER,
        ),
        _text(
            "affected_certificate_types",
            "Affected certificate types",
            "E.g. DV/OV/EV TLS, S/MIME, intermediate CA certificates.",
        ),
        _text(
            "incident_heuristic",
            "Incident heuristic",
            "How a reader can find the affected certificates (e.g. a crt.sh or Censys query).",
        ),
        _text(
            "issuance_stopped",
            "Was issuance stopped?",
            "Whether issuance was stopped, and why or why not.",
        ),
        _text("analysis", "Analysis", "Why the impact is what it is; any exception requested."),
        _text(
            "additional_considerations",
            "Additional considerations",
            "Anything else a reader needs to judge the impact.",
        ),
    ),
)

_TIMELINE = SectionDef(
    "timeline",
    "Timeline",
    (
        FieldDef(
            "timeline",
            "Timeline",
            "Every relevant event, in UTC to the minute.",
            FieldType.TABLE,
            na_allowed=False,
            min_rows=1,
            row_key="*",
            columns=(
                FieldDef("at", "Date and time (UTC)", "YYYY-MM-DD HH:MM, in UTC.", FieldType.DATETIME,
                         na_allowed=False),
                _text("event", "Event", "What happened.", na_allowed=False),
            ),
        ),
    ),
    intro="All times are UTC.",
)

_RELATED = SectionDef(
    "related_incidents",
    "Related Incidents",
    (
        FieldDef(
            "related_incidents",
            "Related Incidents",
            "Similar incidents of the last 2 years, other CAs' included.",
            FieldType.TABLE,
            row_key="bug",
            columns=(
                _text("bug", "Bug", "Bug number or link.", na_allowed=False),
                FieldDef("date", "Date", "When it was filed (YYYY-MM-DD).", FieldType.DATE,
                         na_allowed=False),
                _text("description", "Description", "How it relates to this incident.",
                      na_allowed=False),
            ),
        ),
    ),
)

_ROOT_CAUSES = SectionDef(
    "root_cause_analysis",
    "Root Cause Analysis",
    (
        FieldDef(
            "root_causes",
            "Contributing Factor",
            "One entry per contributing factor.",
            FieldType.TABLE,
            na_allowed=False,
            min_rows=1,
            columns=(
                _text("description", "Description", "What the factor is.", na_allowed=False),
                _text("timeline", "Timeline", "When it arose and how it evolved."),
                _text("detection", "Detection", "How it was detected, or why it was not."),
                _text(
                    "interaction",
                    "Interaction with other factors",
                    "How it combined with the other factors.",
                ),
            ),
        ),
    ),
)

_LESSONS = SectionDef(
    "lessons_learned",
    "Lessons Learned",
    (
        _text("went_well", "What went well", "What worked in detection and response."),
        _text("went_badly", "What didn't go well", "What failed or was slow."),
        _text("got_lucky", "Where we got lucky", "What limited the impact by chance."),
        _text("lessons_additional", "Additional", "Any other lesson."),
    ),
)

_ACTION_KINDS = ("Prevent", "Mitigate", "Detect")
_ACTION_STATUSES = ("Ongoing", "Complete", "Delayed", "Canceled")

_ACTION_ITEMS = SectionDef(
    "action_items",
    "Action Items",
    (
        FieldDef(
            "action_items",
            "Action Items",
            "What changes so it does not happen again; at least one.",
            FieldType.TABLE,
            na_allowed=False,
            min_rows=1,
            row_key="action_item",
            columns=(
                _text("action_item", "Action Item", "The change.", na_allowed=False),
                FieldDef("kind", "Kind", "Prevent, Mitigate or Detect.", FieldType.CHOICE,
                         choices=_ACTION_KINDS, na_allowed=False),
                _text(
                    "root_causes",
                    "Corresponding Root Cause(s)",
                    "Which contributing factor(s) it addresses.",
                ),
                _text(
                    "evaluation_criteria",
                    "Evaluation Criteria",
                    "How its effect will be checked.",
                ),
                FieldDef("due_date", "Due Date", "YYYY-MM-DD.", FieldType.DATE, na_allowed=False),
                FieldDef("status", "Status", "Ongoing, Complete, Delayed or Canceled.",
                         FieldType.CHOICE, choices=_ACTION_STATUSES, na_allowed=False),
            ),
        ),
    ),
)

_APPENDIX = SectionDef(
    "appendix",
    "Appendix",
    (
        FieldDef(
            "appendix",
            "Appendix",
            "Under 10,000 certificates: the affected-certificates CSV; otherwise a list "
            "of crt.sh URLs.",
            FieldType.APPENDIX,
        ),
    ),
)

_FULL = Template(
    ReportKind.FULL,
    "Full Incident Report",
    (_FULL_SUMMARY, _IMPACT, _TIMELINE, _RELATED, _ROOT_CAUSES, _LESSONS, _ACTION_ITEMS, _APPENDIX),
)

_CLOSURE = Template(
    ReportKind.CLOSURE,
    "Incident Report Closure Summary",
    (
        SectionDef(
            "summary",
            "Summary",
            (
                _INCIDENT_DESCRIPTION,
                _text(
                    "incident_root_causes",
                    "Incident Root Cause(s)",
                    "The root cause(s) found.",
                    na_allowed=False,
                ),
                _text(
                    "remediation_description",
                    "Remediation description",
                    "What was changed, and the action items completed.",
                    na_allowed=False,
                ),
                _text(
                    "commitment_summary",
                    "Commitment summary",
                    "What the CA commits to keep doing.",
                    na_allowed=False,
                ),
            ),
        ),
    ),
)

TEMPLATES: dict[ReportKind, Template] = {t.kind: t for t in (_PRELIMINARY, _FULL, _CLOSURE)}


# ---------------------------------------------------------------- validation

CleanValue = Any  # str | int | date | datetime | tuple[dict[str, CleanValue], ...]


@dataclass(frozen=True)
class CleanReport:
    kind: ReportKind
    values: Mapping[str, CleanValue]
    # Parsed appendix rows when the appendix is a CSV, else empty.
    affected: tuple[AffectedCertificate, ...] = ()

    def to_data(self) -> dict[str, Any]:
        """JSON-ready form; ``validate(kind, clean.to_data())`` gives the same report."""
        return {key: _to_json(value) for key, value in self.values.items()}


def _to_json(value: CleanValue) -> Any:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, tuple):
        return [{k: _to_json(v) for k, v in row.items()} for row in value]
    return value


_CCADB_ID_RE = re.compile(r"A\d{6}")
_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DATETIME_RE = re.compile(r"(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2})(?:\s*(?:UTC|Z))?", re.IGNORECASE)
_INTEGER_RE = re.compile(r"\d{1,3}(?:,\d{3})+|\d+")


def _kind(kind: ReportKind | str) -> ReportKind:
    try:
        return ReportKind(kind)
    except ValueError:
        choices = ", ".join(k.value for k in ReportKind)
        raise ReportError(
            {"kind": [f"unknown report kind {kind!r}; expected one of {choices}"]}
        ) from None


def validate(kind: ReportKind | str, data: Mapping[str, Any]) -> CleanReport:
    """Check every field of the template; raise ReportError with every problem found."""
    template = TEMPLATES[_kind(kind)]
    errors: dict[str, list[str]] = defaultdict(list)
    if not isinstance(data, Mapping):
        raise ReportError({"report": [f"expected a mapping of fields, got {type(data).__name__}"]})
    known = {f.key for f in template.fields()}
    for key in data:
        if key not in known:
            errors[str(key)].append(f"not a field of the {template.kind} report")
    values: dict[str, CleanValue] = {}
    affected: tuple[AffectedCertificate, ...] = ()
    for fdef in template.fields():
        value = _clean_field(fdef, data.get(fdef.key), fdef.key, errors)
        if fdef.type is FieldType.APPENDIX and isinstance(value, str):
            affected = _clean_appendix(value, fdef.key, errors)
        values[fdef.key] = value
    _cross_checks(values, errors)
    if errors:
        raise ReportError(errors, context=f"{template.kind} report")
    return CleanReport(template.kind, values, affected)


def _is_na(value: Any) -> bool:
    return isinstance(value, str) and value.strip().upper() == NA


def _clean_field(fdef: FieldDef, value: Any, path: str, errors: dict[str, list[str]]) -> CleanValue:
    if isinstance(value, str) and "\x00" in value:
        # No database stores it in text (PostgreSQL refuses it in text and in jsonb).
        errors[path].append("must not contain a NUL byte (\\x00)")
        return None
    if value is None or (isinstance(value, str) and not value.strip()):
        errors[path].append('required: fill it in or write "N/A"' if fdef.na_allowed else "required")
        return None
    if _is_na(value):
        if not fdef.na_allowed:
            errors[path].append('"N/A" is not accepted here')
        return NA
    try:
        return _CLEANERS[fdef.type](fdef, value, path, errors)
    except _FieldProblem as problem:
        errors[path].append(str(problem))
        return None


class _FieldProblem(Exception):
    pass


def _clean_text(fdef: FieldDef, value: Any, path: str, errors: dict[str, list[str]]) -> str:
    if not isinstance(value, str):
        raise _FieldProblem(f"expected text, got {type(value).__name__}")
    # Trailing spaces are noise; inner line breaks are the author's Markdown.
    return "\n".join(line.rstrip() for line in value.strip().splitlines())


def _clean_integer(fdef: FieldDef, value: Any, path: str, errors: dict[str, list[str]]) -> int:
    if isinstance(value, bool):
        raise _FieldProblem("expected a whole number")
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and _INTEGER_RE.fullmatch(value.strip()):
        number = int(value.strip().replace(",", ""))
    else:
        raise _FieldProblem(f'expected a whole number or "N/A", got {value!r}')
    if number < 0:
        raise _FieldProblem(f"must not be negative, got {number}")
    return number


def _clean_date(fdef: FieldDef, value: Any, path: str, errors: dict[str, list[str]]) -> date:
    if isinstance(value, datetime):
        raise _FieldProblem("expected a date without time")
    if isinstance(value, date):
        return value
    if isinstance(value, str) and _DATE_RE.fullmatch(value.strip()):
        try:
            return date.fromisoformat(value.strip())
        except ValueError as exc:
            raise _FieldProblem(f"{value.strip()!r} is not a real date ({exc})") from None
    raise _FieldProblem(f"expected a date as YYYY-MM-DD, got {value!r}")


def _clean_datetime(fdef: FieldDef, value: Any, path: str, errors: dict[str, list[str]]) -> datetime:
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise _FieldProblem("datetime must be timezone-aware")
        return value.astimezone(UTC).replace(second=0, microsecond=0)
    match = _DATETIME_RE.fullmatch(value.strip()) if isinstance(value, str) else None
    if match is None:
        raise _FieldProblem(f"expected UTC date and time as YYYY-MM-DD HH:MM, got {value!r}")
    try:
        return datetime.fromisoformat(f"{match[1]}T{match[2]}").replace(tzinfo=UTC)
    except ValueError as exc:
        raise _FieldProblem(f"{value.strip()!r} is not a real date and time ({exc})") from None


def _clean_choice(fdef: FieldDef, value: Any, path: str, errors: dict[str, list[str]]) -> str:
    if isinstance(value, str):
        wanted = " ".join(value.split()).casefold()
        for choice in fdef.choices:
            if choice.casefold() == wanted:
                return choice
    raise _FieldProblem(f"expected one of {', '.join(fdef.choices)}, got {value!r}")


def _clean_ccadb_id(fdef: FieldDef, value: Any, path: str, errors: dict[str, list[str]]) -> str:
    if isinstance(value, str) and _CCADB_ID_RE.fullmatch(value.strip()):
        return value.strip()
    raise _FieldProblem(f'expected "A" followed by 6 digits (e.g. A000123), got {value!r}')


def _clean_table(
    fdef: FieldDef, value: Any, path: str, errors: dict[str, list[str]]
) -> tuple[dict[str, CleanValue], ...]:
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Iterable):
        raise _FieldProblem('expected a list of rows or "N/A"')
    rows = list(value)
    if len(rows) < fdef.min_rows:
        raise _FieldProblem(f"needs at least {fdef.min_rows} row(s), got {len(rows)}")
    columns = {c.key for c in fdef.columns}
    cleaned = []
    for number, row in enumerate(rows, start=1):
        row_path = f"{path}[{number}]"
        if not isinstance(row, Mapping):
            errors[row_path].append(f"expected a row of {', '.join(sorted(columns))}")
            continue
        for extra in sorted(set(row) - columns):
            errors[f"{row_path}.{extra}"].append("not a column of this table")
        cleaned.append(
            {c.key: _clean_field(c, row.get(c.key), f"{row_path}.{c.key}", errors) for c in fdef.columns}
        )
    return tuple(cleaned)


def _clean_appendix(text: str, path: str, errors: dict[str, list[str]]) -> tuple[AffectedCertificate, ...]:
    if text == NA or not _looks_like_affected_csv(text):
        return ()
    try:
        return tuple(parse_affected_csv(text))
    except ReportError as exc:
        for key, messages in exc.errors.items():
            errors[f"{path}.{key}"].extend(messages)
        return ()


_CLEANERS = {
    FieldType.TEXT: _clean_text,
    FieldType.APPENDIX: _clean_text,
    FieldType.INTEGER: _clean_integer,
    FieldType.DATE: _clean_date,
    FieldType.DATETIME: _clean_datetime,
    FieldType.CHOICE: _clean_choice,
    FieldType.CCADB_ID: _clean_ccadb_id,
    FieldType.TABLE: _clean_table,
}


def _cross_checks(values: Mapping[str, CleanValue], errors: dict[str, list[str]]) -> None:
    total, remaining = values.get("total_certificates"), values.get("total_remaining_valid")
    if isinstance(total, int) and isinstance(remaining, int) and remaining > total:
        errors["total_remaining_valid"].append(
            f"{remaining} remaining valid is more than the {total} affected"
        )
    start = values.get("non_compliance_start_date")
    for key in ("non_compliance_identified_date", "non_compliance_end_date"):
        later = values.get(key)
        if isinstance(start, date) and isinstance(later, date) and later < start:
            errors[key].append(f"{later.isoformat()} is before the start date {start.isoformat()}")


# ---------------------------------------------------------------- rendering


def render_markdown(kind: ReportKind | str, clean: CleanReport) -> str:
    """The report exactly as posted in the incident. Deterministic."""
    template = TEMPLATES[_kind(kind)]
    if clean.kind is not template.kind:
        raise ReportError({"kind": [f"report is {clean.kind}, asked to render {template.kind}"]})
    blocks = [f"## {template.title}"]
    for section in template.sections:
        blocks.append(f"### {section.title}")
        if section.intro:
            blocks.append(section.intro)
        blocks.extend(_render_section(section, clean.values))
    return "\n\n".join(blocks) + "\n"


def _render_section(section: SectionDef, values: Mapping[str, CleanValue]) -> list[str]:
    tables = [f for f in section.fields if f.type is FieldType.TABLE]
    if tables:
        return [_render_table_field(f, values[f.key]) for f in tables]
    if section.fields[0].type is FieldType.APPENDIX:
        return [_render_appendix(values[section.fields[0].key])]
    return [_render_bullets(section.fields, values)]


def _render_bullets(fields: Iterable[FieldDef], values: Mapping[str, CleanValue]) -> str:
    lines: list[str] = []
    open_group: str | None = None
    for fdef in fields:
        if fdef.group != open_group and fdef.group is not None:
            lines.append(f"- **{fdef.group}:**")
        open_group = fdef.group
        indent = "  " if fdef.group else ""
        lines.append(_bullet(fdef.label, _scalar(values[fdef.key]), indent=indent))
    return "\n".join(lines)


def _bullet(label: str, text: str, *, indent: str = "") -> str:
    first, *rest = text.split("\n")
    continuation = indent + "  "
    body = [f"{indent}- **{label}:** {first}"]
    body.extend(continuation + line if line else "" for line in rest)
    return "\n".join(body)


def _scalar(value: CleanValue) -> str:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _render_table_field(fdef: FieldDef, value: CleanValue) -> str:
    if value == NA:
        return NA
    if fdef.key == "timeline":
        return "\n".join(_bullet_line(row) for row in value)
    if fdef.key == "root_causes":
        return "\n\n".join(_contributing_factor(fdef, n, row) for n, row in enumerate(value, 1))
    return _markdown_table(fdef, value)


def _bullet_line(row: Mapping[str, CleanValue]) -> str:
    first, *rest = str(row["event"]).split("\n")
    lines = [f"- {_scalar(row['at'])} UTC: {first}"]
    lines.extend("  " + line if line else "" for line in rest)
    return "\n".join(lines)


def _contributing_factor(fdef: FieldDef, number: int, row: Mapping[str, CleanValue]) -> str:
    bullets = "\n".join(_bullet(c.label, _scalar(row[c.key])) for c in fdef.columns)
    return f"#### Contributing Factor #{number}\n\n{bullets}"


def _markdown_table(fdef: FieldDef, rows: Iterable[Mapping[str, CleanValue]]) -> str:
    header = "| " + " | ".join(c.label for c in fdef.columns) + " |"
    rule = "|" + "|".join("---" for _ in fdef.columns) + "|"
    body = ["| " + " | ".join(_cell(row[c.key]) for c in fdef.columns) + " |" for row in rows]
    return "\n".join([header, rule, *body])


def _cell(value: CleanValue) -> str:
    # A pipe ends a cell even after backslashes, so each backslash before it is
    # escaped too; the author's other Markdown escapes are left alone.
    text = re.sub(r"(\\*)\|", lambda m: m[1] * 2 + "\\|", _scalar(value))
    return "<br>".join(text.splitlines())


def _render_appendix(value: CleanValue) -> str:
    if value == NA or not _looks_like_affected_csv(str(value)):
        return str(value)
    # The fence must be longer than any backtick run inside, or a subject
    # holding ``` would end it early.
    longest = max((len(run) for run in re.findall(r"`+", str(value))), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}csv\n{value}\n{fence}"


# ------------------------------------------------------- affected-certs CSV

AFFECTED_CSV_COLUMNS: tuple[str, ...] = (
    "Precertificate SHA-256",
    "Certificate SHA-256",
    "Subject",
    "Issuer",
    "Not before",
    "Not after",
    "Serial # (hex)",
    "dNSNames",
    "Is revoked?",
    "Revocation date",
    "Revocation reason",
)
AFFECTED_CSV_MAX_ROWS = 10_000

_REVOCATION_REASONS = (
    "unspecified",
    "keyCompromise",
    "cACompromise",
    "affiliationChanged",
    "superseded",
    "cessationOfOperation",
    "certificateHold",
    "removeFromCRL",
    "privilegeWithdrawn",
    "aACompromise",
)
_REASON_BY_FOLDED = {r.casefold(): r for r in _REVOCATION_REASONS}
_SHA256_RE = re.compile(r"[0-9A-F]{64}")
_SERIAL_RE = re.compile(r"[0-9A-F]+")
_TRUE = {"yes", "true", "y", "1"}
_FALSE = {"no", "false", "n", "0"}


@dataclass(frozen=True)
class AffectedCertificate:
    precertificate_sha256: str | None  # uppercase hex, no colons
    certificate_sha256: str | None
    subject: str
    issuer: str
    not_before: datetime
    not_after: datetime
    serial_hex: str  # uppercase hex, no colons or leading "0x"
    dns_names: tuple[str, ...]
    is_revoked: bool
    revocation_date: datetime | None
    revocation_reason: str | None  # RFC 5280 name; None when not revoked or no reason code


def _header_key(name: str) -> str:
    return " ".join(name.split()).casefold()


_COLUMN_BY_HEADER = {_header_key(c): c for c in AFFECTED_CSV_COLUMNS}


def _looks_like_affected_csv(text: str) -> bool:
    first_line = text.lstrip("\ufeff").split("\n", 1)[0]
    return _header_key(first_line.split(",", 1)[0]) in _COLUMN_BY_HEADER


def parse_affected_csv(text: str) -> list[AffectedCertificate]:
    """Parse the IRG appendix CSV; every bad row is reported, none returned partially.

    Columns may come in any order and with any case; all eleven must be
    there. Errors are keyed ``row N`` where N counts data rows from 1
    (the header is not a row); ``header`` for column problems.
    """
    if not isinstance(text, str):
        raise ReportError({"csv": [f"expected text, got {type(text).__name__}"]}, context="affected CSV")
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    header = next(reader, None)
    if header is None:
        raise ReportError({"header": ["the CSV is empty"]}, context="affected CSV")
    positions = _header_positions(header)
    errors: dict[str, list[str]] = defaultdict(list)
    rows: list[AffectedCertificate] = []
    seen: dict[str, int] = {}
    count = 0
    for number, cells in enumerate((r for r in reader if any(c.strip() for c in r)), start=1):
        count = number
        if count > AFFECTED_CSV_MAX_ROWS:
            continue
        row = _parse_row(cells, positions, errors[f"row {number}"], len(header))
        if row is None:
            continue
        fingerprint = row.certificate_sha256 or row.precertificate_sha256
        if fingerprint in seen:
            errors[f"row {number}"].append(f"same certificate as row {seen[fingerprint]}")
        seen.setdefault(fingerprint or "", number)
        rows.append(row)
    if count > AFFECTED_CSV_MAX_ROWS:
        raise ReportError(
            {"csv": [f"{count} rows; from {AFFECTED_CSV_MAX_ROWS:,} certificates on, the IRG "
                     "asks for a list of crt.sh URLs instead of a CSV"]},
            context="affected CSV",
        )
    errors = {k: v for k, v in errors.items() if v}
    if errors:
        raise ReportError(errors, context="affected CSV")
    return rows


def _header_positions(header: list[str]) -> dict[str, int]:
    positions: dict[str, int] = {}
    problems = []
    for index, name in enumerate(header):
        column = _COLUMN_BY_HEADER.get(_header_key(name))
        if column is None:
            problems.append(f"unknown column {name!r}")
        elif column in positions:
            problems.append(f"column {column!r} appears twice")
        else:
            positions[column] = index
    missing = [c for c in AFFECTED_CSV_COLUMNS if c not in positions]
    if missing:
        problems.append("missing column(s): " + ", ".join(missing))
    if problems:
        raise ReportError({"header": problems}, context="affected CSV")
    return positions


def _parse_row(
    cells: list[str], positions: Mapping[str, int], problems: list[str], width: int
) -> AffectedCertificate | None:
    if len(cells) != width:
        problems.append(f"has {len(cells)} cells, the header has {width}")
        return None
    get = {column: cells[index].strip() for column, index in positions.items()}
    found = _RowValues(problems)
    precert = found.fingerprint(get, "Precertificate SHA-256")
    cert = found.fingerprint(get, "Certificate SHA-256")
    if _blank(get["Precertificate SHA-256"]) and _blank(get["Certificate SHA-256"]):
        problems.append("needs a Precertificate SHA-256 or a Certificate SHA-256")
    subject, issuer = found.required(get, "Subject"), found.required(get, "Issuer")
    not_before, not_after = found.when(get, "Not before"), found.when(get, "Not after")
    if not_before and not_after and not_after <= not_before:
        problems.append(f"Not after {get['Not after']!r} is not later than Not before {get['Not before']!r}")
    serial = found.serial(get)
    revoked = found.boolean(get, "Is revoked?")
    revocation_date, reason = found.revocation(get, revoked)
    if problems:
        return None
    return AffectedCertificate(
        precertificate_sha256=precert,
        certificate_sha256=cert,
        subject=subject,
        issuer=issuer,
        not_before=not_before,
        not_after=not_after,
        serial_hex=serial,
        dns_names=tuple(n for n in re.split(r"[\s,;]+", get["dNSNames"]) if n),
        is_revoked=bool(revoked),
        revocation_date=revocation_date,
        revocation_reason=reason,
    )


def _blank(value: str) -> bool:
    return not value or value.upper() == NA


class _RowValues:
    """Reads one row's cells, appending a message per bad cell."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems

    def fingerprint(self, get: Mapping[str, str], column: str) -> str | None:
        value = get[column]
        if _blank(value):
            return None
        hex_digits = re.sub(r"[\s:]", "", value).upper()
        if not _SHA256_RE.fullmatch(hex_digits):
            self.problems.append(f"{column}: expected 64 hex digits, got {value!r}")
            return None
        return hex_digits

    def required(self, get: Mapping[str, str], column: str) -> str:
        if not get[column]:
            self.problems.append(f"{column}: required")
        return get[column]

    def when(self, get: Mapping[str, str], column: str) -> datetime | None:
        value = get[column]
        parsed = _parse_csv_datetime(value)
        if parsed is None:
            self.problems.append(
                f"{column}: expected a UTC date or date and time (YYYY-MM-DD[THH:MM[:SS]Z]), got {value!r}"
            )
        return parsed

    def serial(self, get: Mapping[str, str]) -> str:
        value = get["Serial # (hex)"]
        digits = re.sub(r"[\s:]", "", value).upper().removeprefix("0X")
        if not _SERIAL_RE.fullmatch(digits):
            self.problems.append(f"Serial # (hex): expected hex digits, got {value!r}")
        return digits

    def boolean(self, get: Mapping[str, str], column: str) -> bool | None:
        value = get[column].casefold()
        if value in _TRUE:
            return True
        if value in _FALSE:
            return False
        self.problems.append(f"{column}: expected yes or no, got {get[column]!r}")
        return None

    def revocation(
        self, get: Mapping[str, str], revoked: bool | None
    ) -> tuple[datetime | None, str | None]:
        date_text, reason_text = get["Revocation date"], get["Revocation reason"]
        if revoked is None:
            return None, None
        if not revoked:
            if not _blank(date_text) or not _blank(reason_text):
                self.problems.append("not revoked, but has a revocation date or reason")
            return None, None
        when = self.when(get, "Revocation date")
        if _blank(reason_text):
            return when, None
        reason = _REASON_BY_FOLDED.get(reason_text.replace(" ", "").casefold())
        if reason is None:
            self.problems.append(
                f"Revocation reason: expected an RFC 5280 reason ({', '.join(_REVOCATION_REASONS)}), "
                f"got {reason_text!r}"
            )
        return when, reason


_CSV_DATETIME_RE = re.compile(
    r"(\d{4}-\d{2}-\d{2})(?:[ T](\d{2}:\d{2}(?::\d{2})?)(?:\.\d+)?\s*(Z|UTC|\+00:?00)?)?",
    re.IGNORECASE,
)


def _parse_csv_datetime(value: str) -> datetime | None:
    match = _CSV_DATETIME_RE.fullmatch(value.strip())
    if match is None:
        return None
    try:
        return datetime.fromisoformat(f"{match[1]}T{match[2] or '00:00'}").replace(tzinfo=UTC)
    except ValueError:
        return None


# ---------------------------------------------------------------- diffing


@dataclass(frozen=True)
class FieldChange:
    field: str
    old: Any
    new: Any


def diff_reports(old_clean: CleanReport, new_clean: CleanReport) -> list[FieldChange]:
    """What changed from one version of a report to the next, in template order.

    Table rows are reported as ``<table>[N].<column>`` (N = position in the
    new version) when matched, and as ``<table>[N]`` with ``old`` or ``new``
    None when removed or added.
    """
    if old_clean.kind is not new_clean.kind:
        raise ReportError({"kind": [f"cannot diff a {old_clean.kind} report against a {new_clean.kind} one"]})
    changes: list[FieldChange] = []
    for fdef in TEMPLATES[new_clean.kind].fields():
        old, new = old_clean.values.get(fdef.key), new_clean.values.get(fdef.key)
        if old == new:
            continue
        if fdef.type is FieldType.TABLE and isinstance(old, tuple) and isinstance(new, tuple):
            changes.extend(_diff_table(fdef, old, new))
        else:
            changes.append(FieldChange(fdef.key, _to_json(old), _to_json(new)))
    return changes


def _diff_table(
    fdef: FieldDef, old: tuple[dict[str, CleanValue], ...], new: tuple[dict[str, CleanValue], ...]
) -> list[FieldChange]:
    pairs, removed = _match_rows(fdef.row_key, old, new)
    changes: list[FieldChange] = []
    for new_index, old_index in pairs:
        path = f"{fdef.key}[{new_index + 1}]"
        if old_index is None:
            changes.append(FieldChange(path, None, _to_json((new[new_index],))[0]))
            continue
        for column in fdef.columns:
            before, after = old[old_index][column.key], new[new_index][column.key]
            if before != after:
                changes.append(FieldChange(f"{path}.{column.key}", _to_json(before), _to_json(after)))
    for old_index in removed:
        changes.append(FieldChange(f"{fdef.key}[{old_index + 1}]", _to_json((old[old_index],))[0], None))
    return changes


def _match_rows(
    row_key: str | None,
    old: tuple[dict[str, CleanValue], ...],
    new: tuple[dict[str, CleanValue], ...],
) -> tuple[list[tuple[int, int | None]], list[int]]:
    """Pair each new row with an old one (or None); list the old rows left over."""

    def key_of(index: int, row: Mapping[str, CleanValue]) -> object:
        if row_key is None:
            return index
        if row_key == "*":
            return tuple(sorted((k, repr(v)) for k, v in row.items()))
        return row.get(row_key)

    waiting: dict[object, list[int]] = defaultdict(list)
    for index, row in enumerate(old):
        waiting[key_of(index, row)].append(index)
    pairs = []
    for index, row in enumerate(new):
        candidates = waiting.get(key_of(index, row))
        pairs.append((index, candidates.pop(0) if candidates else None))
    removed = sorted(i for indices in waiting.values() for i in indices)
    return pairs, removed
