"""Bugzilla's Bug.search parameters -> a filter on the incidents a user may see.

Supported: id/bug_id, product, component, status/bug_status, resolution, severity/bug_severity, whiteboard/
status_whiteboard, summary/short_desc, creator/reporter, assigned_to, creation_time and
last_change_time (at or after), keywords (whiteboard tags), limit, offset, order,
include_fields/exclude_fields, count_only; boolean charts in both forms Bugzilla accepts:
`fN`/`oN`/`vN` (with `nN` negation, `jN`/`j_top` AND/OR and `OP`/`CP` parentheses) and the
older `fieldA-B-C`/`typeA-B-C`/`valueA-B-C` (charts A and rows B ANDed, columns C ORed;
`negateA`). Unknown parameters are ignored, as Bugzilla does; malformed values raise
BugzillaError with Bugzilla's code.

Operators match Bugzilla's on MySQL: text comparisons ignore case. `anywords`/`allwords`/
`nowords` are treated as their `...wordssubstr` forms (words matched as substrings).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from accounts import permissions as perm
from compliance import search as fulltext
from compliance.bugzilla import (
    COMPONENT_PUBLIC,
    COMPONENT_SECURITY,
    ILLEGAL_DATE,
    INVALID_BUG_ID,
    INVALID_FIELD_NAME,
    PARAM_INVALID,
    PARAM_MUST_BE_NUMERIC,
    PRODUCT,
    SECURITY_GROUP,
    UNKNOWN_TRANSIENT,
    BugzillaError,
    regexp,
)
from compliance.models import Comment, Incident, IncidentTag, Question
from config.api import parse_iso_datetime

NOTHING = Q(pk__in=[])
# An empty Q() means "no condition", and Django drops it from an OR: `NOTHING | Q()` is NOTHING.
# Conditions that match every bug are written as EVERYTHING so that ORs keep them.
EVERYTHING = Q(pk__isnull=False)


def _or(a: Q, b: Q) -> Q:
    return a | (b if b else EVERYTHING)
TEXT_OPS = {
    "equals", "notequals", "anyexact", "substring", "casesubstring", "notsubstring", "anywordssubstr",
    "allwordssubstr", "nowordssubstr", "anywords", "allwords", "nowords", "regexp", "notregexp",
    "lessthan", "lessthaneq", "greaterthan", "greaterthaneq", "isempty", "isnotempty",
}
NEGATIVE_OPS = {"notequals": "equals", "notsubstring": "substring", "nowordssubstr": "anywordssubstr",
                "nowords": "anywordssubstr", "notregexp": "regexp"}
ORDERS = {
    "bug_id": ("number",), "bug_id desc": ("-number",),
    "changeddate": ("updated_at", "number"), "changeddate desc": ("-updated_at", "-number"),
    "delta_ts": ("updated_at", "number"), "delta_ts desc": ("-updated_at", "-number"),
    "opendate": ("created_at", "number"), "opendate desc": ("-created_at", "-number"),
    "creation_ts": ("created_at", "number"), "creation_ts desc": ("-created_at", "-number"),
    "bug_status": ("status", "number"), "short_desc": ("title", "number"),
}


# ------------------------------------------------------------------ value parsing


def parse_bug_id(raw: Any) -> int:
    text = str(raw).strip()
    # isascii(): str.isdigit() also accepts "²", which int() refuses.
    if not (text.isascii() and text.isdigit()) or int(text) < 1 or int(text) > 2**31 - 1:
        raise BugzillaError(INVALID_BUG_ID, f"'{text}' is not a valid bug number nor an alias to a bug.")
    return int(text)


_RELATIVE = re.compile(r"^-?(\d+)([hdwmy])$", re.IGNORECASE)
_RELATIVE_UNITS = {"h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1),
                   "m": timedelta(days=30), "y": timedelta(days=365)}


def parse_time(raw: Any, name: str) -> datetime:
    """Bugzilla dates: 2024-05-01T12:00:00Z, 2024-05-01, '2024-05-01 12:00:00', relative -3d, Now."""
    text = str(raw).strip()
    if text.lower() == "now":
        return timezone.now()
    match = _RELATIVE.match(text)
    if match:
        try:
            return timezone.now() - int(match.group(1)) * _RELATIVE_UNITS[match.group(2).lower()]
        except OverflowError:  # -99999999d reaches before year 1
            raise BugzillaError(
                ILLEGAL_DATE, f"'{text}' is not a legal date for {name}: a relative date must stay after year 1."
            ) from None
    value = parse_iso_datetime(text.replace(" ", "T", 1) if len(text) > 10 else text)
    if value is None:
        raise BugzillaError(
            ILLEGAL_DATE,
            f"'{text}' is not a legal date for {name}: use 2024-05-01T12:00:00Z or 2024-05-01 (years 1 to 9999).",
        )
    return value


MAX_COUNT = 2**31 - 1


def parse_count(raw: Any, name: str) -> int:
    text = str(raw).strip()
    if not (text.isascii() and text.isdigit()):
        raise BugzillaError(PARAM_MUST_BE_NUMERIC, f"Invalid parameter passed to Bug.search: '{name}' must be a number.")
    if int(text) > MAX_COUNT:
        # Past what the database's LIMIT/OFFSET take (a 500 there); no search has that many results anyway.
        raise BugzillaError(PARAM_INVALID, f"Invalid parameter passed to Bug.search: '{name}' must be at most {MAX_COUNT}.")
    return int(text)


@contextmanager
def naming(param: str):
    """Prefix a refusal raised inside with the parameter it came from, so the message names it."""
    try:
        yield
    except BugzillaError as error:
        if error.message.startswith(f"'{param}'"):
            raise
        raise BugzillaError(error.code, f"'{param}': {error.message}", status=error.status) from None


# ------------------------------------------------------------------ operators


def _words(value: str) -> list[str]:
    return [w for w in re.split(r"[\s,]+", value) if w]


def text_q(lookup: str, op: str, value: str) -> Q:
    """A text field compared with a Bugzilla operator, in the database."""
    if op in NEGATIVE_OPS:
        return ~text_q(lookup, NEGATIVE_OPS[op], value)
    if op == "equals":
        return Q(**{f"{lookup}__iexact": value})
    if op == "anyexact":
        q = NOTHING
        for item in [v.strip() for v in value.split(",") if v.strip()]:
            q |= Q(**{f"{lookup}__iexact": item})
        return q
    if op == "substring":
        return Q(**{f"{lookup}__icontains": value})
    if op == "casesubstring":
        return Q(**{f"{lookup}__contains": value})
    if op in ("anywordssubstr", "anywords"):
        q = NOTHING
        for word in _words(value):
            q |= Q(**{f"{lookup}__icontains": word})
        return q
    if op in ("allwordssubstr", "allwords"):
        q = Q()
        for word in _words(value):
            q &= Q(**{f"{lookup}__icontains": word})
        return q
    if op == "regexp":
        regexp.validate(value)
        return Q(**{f"{lookup}__iregex": value})
    if op in ("lessthan", "lessthaneq", "greaterthan", "greaterthaneq"):
        suffix = {"lessthan": "lt", "lessthaneq": "lte", "greaterthan": "gt", "greaterthaneq": "gte"}[op]
        return Q(**{f"{lookup}__{suffix}": value})
    if op == "isempty":
        return Q(**{lookup: ""}) | Q(**{f"{lookup}__isnull": True})
    if op == "isnotempty":
        return ~text_q(lookup, "isempty", value)
    raise BugzillaError(UNKNOWN_TRANSIENT, f"Can't use '{op}' as a search operator.")


def py_match(op: str, value: str, candidate: str) -> bool:
    """The same operators on one known string (for fields with a fixed set of values)."""
    if op in NEGATIVE_OPS:
        return not py_match(NEGATIVE_OPS[op], value, candidate)
    v, c = value.lower(), (candidate or "").lower()
    if op == "equals":
        return v == c
    if op == "anyexact":
        return c in {x.strip().lower() for x in value.split(",")}
    if op == "substring":
        return v in c
    if op == "casesubstring":
        return value in (candidate or "")
    if op in ("anywordssubstr", "anywords"):
        return any(w.lower() in c for w in _words(value))
    if op in ("allwordssubstr", "allwords"):
        return all(w.lower() in c for w in _words(value))
    if op == "regexp":
        regexp.validate(value)
        return re.search(value, candidate or "", re.IGNORECASE) is not None
    if op in ("lessthan", "lessthaneq", "greaterthan", "greaterthaneq"):
        return {"lessthan": c < v, "lessthaneq": c <= v, "greaterthan": c > v, "greaterthaneq": c >= v}[op]
    if op == "isempty":
        return c == ""
    if op == "isnotempty":
        return c != ""
    raise BugzillaError(UNKNOWN_TRANSIENT, f"Can't use '{op}' as a search operator.")


def enum_q(lookup: str, choices: dict[str, Any], op: str, value: str) -> Q:
    """Fields with a fixed set of displayed values: decide per value in Python, filter by the DB values."""
    matched = [db for shown, db in choices.items() if py_match(op, value, shown)]
    return Q(**{f"{lookup}__in": matched}) if matched else NOTHING


@dataclass
class SearchContext:
    user: Any


def _compare_q(lookup: str, op: str, value: Any, parse: Callable[[Any], Any]) -> Q:
    if op in ("isempty", "isnotempty"):
        q = Q(**{f"{lookup}__isnull": True})
        return q if op == "isempty" else ~q
    if op in ("equals", "notequals"):
        q = Q(**{lookup: parse(value)})
        return q if op == "equals" else ~q
    if op == "anyexact":
        return Q(**{f"{lookup}__in": [parse(v) for v in str(value).split(",") if v.strip()]})
    suffix = {"lessthan": "lt", "lessthaneq": "lte", "greaterthan": "gt", "greaterthaneq": "gte"}.get(op)
    if suffix:
        return Q(**{f"{lookup}__{suffix}": parse(value)})
    if op in ("substring", "casesubstring", "notsubstring", "regexp", "notregexp"):
        return text_q(lookup, op, str(value))
    raise BugzillaError(UNKNOWN_TRANSIENT, f"Can't use '{op}' on this field.")


def _flags_q(ctx: SearchContext, op: str, value: str) -> Q:
    """Open questions are needinfo flags, shown as 'needinfo?' or 'needinfo?(requestee)'."""
    if op in NEGATIVE_OPS:
        return ~_flags_q(ctx, NEGATIVE_OPS[op], value)
    open_questions = Question.objects.filter(incident=OuterRef("pk"), closed_at__isnull=True)
    if op == "isempty":
        return ~Q(Exists(open_questions))
    if op == "isnotempty":
        return Q(Exists(open_questions))
    if py_match(op, value, "needinfo?") or py_match(op, value, "needinfo"):
        return Q(Exists(open_questions))
    requestee = re.fullmatch(r"\s*needinfo\?\((.+)\)\s*", value, re.IGNORECASE)
    if requestee:
        return Q(Exists(open_questions.filter(asked_user__username__iexact=requestee.group(1).strip())))
    return NOTHING


def _comment_q(ctx: SearchContext, op: str, value: str) -> Q:
    if op in NEGATIVE_OPS:
        return ~_comment_q(ctx, NEGATIVE_OPS[op], value)
    comments = Comment.objects.filter(perm.comment_visibility_q(ctx.user), incident=OuterRef("pk"))
    return Q(Exists(comments.filter(text_q("body", op, value))))


def _keywords_q(ctx: SearchContext, op: str, value: str) -> Q:
    if op in NEGATIVE_OPS:
        return ~_keywords_q(ctx, NEGATIVE_OPS[op], value)
    tags = IncidentTag.objects.filter(incident=OuterRef("pk"))
    if op == "isempty":
        return ~Q(Exists(tags))
    if op == "isnotempty":
        return Q(Exists(tags))
    if op in ("allwordssubstr", "allwords"):
        q = Q()
        for word in _words(value):
            q &= Q(Exists(tags.filter(tag__icontains=word)))
        return q
    return Q(Exists(tags.filter(text_q("tag", op, value))))


STATUS_CHOICES = {s.value: s.value for s in Incident.Status}
RESOLUTION_CHOICES = {(r.value or "---"): r.value for r in Incident.Resolution}
COMPONENT_CHOICES = {COMPONENT_PUBLIC: False, COMPONENT_SECURITY: True}
GROUP_CHOICES = {SECURITY_GROUP: True, "": False}
# Severity as Bugzilla shows it ("--" when staff have not set one), and Bugzilla's older names read as
# the S-scale value they were mapped to (blocker and critical S1, major S2, normal S3, minor, trivial
# and enhancement S4) for equals/notequals/anyexact.
SEVERITY_CHOICES = {(s.value or "--"): s.value for s in Incident.Severity}
LEGACY_SEVERITY = {"blocker": "S1", "critical": "S1", "major": "S2", "normal": "S3", "minor": "S4",
                   "trivial": "S4", "enhancement": "S4"}


def severity_q(op: str, value: str) -> Q:
    if op in ("equals", "notequals"):
        value = LEGACY_SEVERITY.get(value.strip().lower(), value)
    elif op == "anyexact":
        value = ",".join(LEGACY_SEVERITY.get(v.strip().lower(), v.strip()) for v in value.split(","))
    return enum_q("severity", SEVERITY_CHOICES, op, value)


# Bugzilla field name (old and REST spellings) -> function(ctx, op, value) -> Q
FIELDS: dict[str, Callable[[SearchContext, str, str], Q]] = {}


def _register(names, fn):
    for name in names:
        FIELDS[name] = fn


_register(("bug_id", "id"), lambda c, op, v: _compare_q("number", op, v, parse_bug_id))
_register(("short_desc", "summary"), lambda c, op, v: text_q("title", op, v))
_register(("status_whiteboard", "whiteboard"), lambda c, op, v: text_q("whiteboard", op, v))
_register(("bug_status", "status"), lambda c, op, v: enum_q("status", STATUS_CHOICES, op, v))
_register(("resolution",), lambda c, op, v: enum_q("resolution", RESOLUTION_CHOICES, op, v))
_register(("bug_severity", "severity"), lambda c, op, v: severity_q(op, v))
_register(("product",), lambda c, op, v: EVERYTHING if py_match(op, v, PRODUCT) else NOTHING)
_register(("component",), lambda c, op, v: enum_q("security_sensitive", COMPONENT_CHOICES, op, v))
_register(("bug_group", "groups"), lambda c, op, v: enum_q("security_sensitive", GROUP_CHOICES, op, v))
_register(("reporter", "creator"), lambda c, op, v: text_q("reporter__username", op, v))
_register(("assigned_to",), lambda c, op, v: text_q("assignee__username", op, v))
# Only where the searcher may read the CC list (accounts.permissions.can_view_cc_list): no probing it by login.
_register(("cc",), lambda c, op, v: Q(pk__in=Incident.cc.through.objects.filter(
    text_q("user__username", op, v)).values("incident_id")) & perm.cc_list_visibility_q(c.user))
_register(("creation_ts", "creation_time", "opendate"),
          lambda c, op, v: _compare_q("created_at", op, v, lambda x: parse_time(x, "creation_time")))
_register(("delta_ts", "last_change_time", "changeddate"),
          lambda c, op, v: _compare_q("updated_at", op, v, lambda x: parse_time(x, "last_change_time")))
_register(("flagtypes.name", "flags"), _flags_q)
_register(("longdesc", "comment"), _comment_q)
_register(("keywords",), _keywords_q)


def field_q(ctx: SearchContext, name: str, op: str, value: str) -> Q:
    fn = FIELDS.get(name)
    if fn is None:
        raise BugzillaError(INVALID_FIELD_NAME, f"Can't use {name} as a field name.")
    op = (op or "substring").lower()
    if op == "noop":
        return EVERYTHING
    if op not in TEXT_OPS:
        raise BugzillaError(UNKNOWN_TRANSIENT, f"Can't use '{op}' as a search operator.")
    return fn(ctx, op, value)


# ------------------------------------------------------------------ charts


def custom_search_q(ctx: SearchContext, params) -> Q:
    """fN/oN/vN with nN, jN, j_top and OP/CP."""
    indexes = sorted({int(m.group(1)) for k in params for m in [re.fullmatch(r"f(\d+)", k)] if m})
    if not indexes:
        return Q()
    top_join = "OR" if params.get("j_top", "AND").upper() == "OR" else "AND"
    stack: list[tuple[str, list[Q], bool]] = [(top_join, [], False)]

    def combine(join: str, items: list[Q]) -> Q:
        q = Q() if join == "AND" else (NOTHING if items else Q())
        for item in items:
            q = (q & item) if join == "AND" else _or(q, item)
        return q

    for n in indexes:
        name = params.get(f"f{n}", "")
        negate = params.get(f"n{n}", "") in ("1", "true")
        if name == "OP":
            join = "OR" if params.get(f"j{n}", "AND").upper() == "OR" else "AND"
            stack.append((join, [], negate))
            continue
        if name == "CP":
            if len(stack) > 1:
                join, items, neg = stack.pop()
                group = combine(join, items)
                stack[-1][1].append(~group if neg else group)
            continue
        if not name or name == "noop":
            continue
        with naming(f"v{n}"):
            q = field_q(ctx, name, params.get(f"o{n}", "substring"), params.get(f"v{n}", ""))
        stack[-1][1].append(~q if negate else q)
    while len(stack) > 1:  # unclosed parentheses close at the end, as Bugzilla does
        join, items, neg = stack.pop()
        group = combine(join, items)
        stack[-1][1].append(~group if neg else group)
    return combine(stack[0][0], stack[0][1])


def boolean_chart_q(ctx: SearchContext, params) -> Q:
    """fieldA-B-C / typeA-B-C / valueA-B-C: charts A and rows B are ANDed, columns C ORed; negateA."""
    cells: dict[int, dict[int, dict[int, Q]]] = {}
    for key in params:
        m = re.fullmatch(r"field(\d+)-(\d+)-(\d+)", key)
        if not m:
            continue
        a, b, c = (int(x) for x in m.groups())
        name = params.get(key, "")
        if not name or name == "noop":
            continue
        with naming(f"value{a}-{b}-{c}"):
            q = field_q(ctx, name, params.get(f"type{a}-{b}-{c}", "substring"), params.get(f"value{a}-{b}-{c}", ""))
        cells.setdefault(a, {}).setdefault(b, {})[c] = q
    result = Q()
    for a, rows in sorted(cells.items()):
        chart = Q()
        for _, columns in sorted(rows.items()):
            row = NOTHING
            for _, q in sorted(columns.items()):
                row = _or(row, q)
            chart &= row
        result &= ~chart if params.get(f"negate{a}", "") in ("1", "true") else chart
    return result


# ------------------------------------------------------------------ the search


class Params:
    """A QueryDict seen as Bugzilla sees it: any parameter may be repeated."""

    def __init__(self, querydict):
        self.qd = querydict

    def get(self, name: str, default: str = "") -> str:
        value = self.qd.get(name)
        return default if value is None else value

    def list(self, *names: str, split: bool = False) -> list[str]:
        values = [v for name in names for v in self.qd.getlist(name)]
        if split:
            values = [part.strip() for v in values for part in v.split(",")]
        return [v for v in values if v != ""]

    def __iter__(self):
        return iter(self.qd.keys())


@dataclass
class Search:
    q: Q
    limit: int | None
    offset: int
    order: tuple
    count_only: bool


def _any(values: list[str], make: Callable[[str], Q]) -> Q:
    q = NOTHING
    for value in values:
        q = _or(q, make(value))
    return q


def build(ctx: SearchContext, querydict, *, default_limit: int, max_limit: int) -> Search:
    p = Params(querydict)
    q = Q()
    ids = p.list("id", "bug_id", split=True)
    if ids:
        q &= Q(number__in=[parse_bug_id(v) for v in ids])
    simple = [
        (("product",), False, lambda v: field_q(ctx, "product", "equals", v)),
        (("component",), False, lambda v: field_q(ctx, "component", "equals", v)),
        (("status", "bug_status"), True, lambda v: field_q(ctx, "bug_status", "equals", v)),
        (("resolution",), True, lambda v: field_q(ctx, "resolution", "equals", v)),
        (("severity", "bug_severity"), True, lambda v: field_q(ctx, "bug_severity", "equals", v)),
        (("creator", "reporter"), False, lambda v: field_q(ctx, "reporter", "equals", v)),
        (("assigned_to",), False, lambda v: field_q(ctx, "assigned_to", "equals", v)),
        (("cc",), False, lambda v: field_q(ctx, "cc", "equals", v)),
        (("keywords",), True, lambda v: field_q(ctx, "keywords", "equals", v)),
    ]
    for names, split, make in simple:
        values = p.list(*names, split=split)
        if values:
            with naming(names[0]):
                q &= _status_special(values, make) if "status" in names else _any(values, make)
    whiteboard_type = p.get("status_whiteboard_type", "substring")
    values = p.list("whiteboard", "status_whiteboard")
    if values:
        with naming("whiteboard"):
            q &= _any(values, lambda v: field_q(ctx, "status_whiteboard", whiteboard_type, v))
    summary_type = p.get("short_desc_type", "substring")
    values = p.list("summary", "short_desc")
    if values:
        with naming("summary"):
            q &= _any(values, lambda v: field_q(ctx, "short_desc", summary_type, v))
    for name, lookup in (("creation_time", "created_at"), ("last_change_time", "updated_at")):
        raw = p.get(name)
        if raw:
            q &= Q(**{f"{lookup}__gte": parse_time(raw, name)})
    quick = p.get("quicksearch").strip()
    if quick:
        # Full text and Bugzilla's quicksearch syntax (compliance.search); open bugs only unless
        # the text starts with ALL or a status list, or names bugs by number, as Bugzilla does.
        q &= fulltext.quicksearch_q(quick, user=ctx.user, open_by_default=True)
    q &= custom_search_q(ctx, p)
    q &= boolean_chart_q(ctx, p)

    limit_raw, offset_raw = p.get("limit"), p.get("offset")
    limit = parse_count(limit_raw, "limit") if limit_raw else default_limit
    if limit == 0 or limit > max_limit:  # Bugzilla: limit=0 means "as many as allowed"
        limit = max_limit
    offset = parse_count(offset_raw, "offset") if offset_raw else 0
    order = ORDERS.get(p.get("order").strip().lower(), ("number",))
    count_only = p.get("count_only").lower() in ("1", "true")
    return Search(q=q, limit=limit, offset=offset, order=order, count_only=count_only)


def _status_special(values: list[str], make: Callable[[str], Q]) -> Q:
    """Bugzilla's pseudo-statuses __open__, __closed__ and __all__."""
    q = NOTHING
    for value in values:
        lowered = value.lower()
        if lowered == "__all__":
            return EVERYTHING
        if lowered == "__open__":
            q |= ~Q(status=Incident.Status.RESOLVED)
        elif lowered == "__closed__":
            q |= Q(status=Incident.Status.RESOLVED)
        else:
            q = _or(q, make(value))
    return q


def visible_incidents(user: Any) -> QuerySet[Incident]:
    return Incident.objects.visible_to(user)
