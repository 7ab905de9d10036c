"""Quicksearch's status prefix and field prefixes as conditions on incidents.

Values match as Bugzilla's quicksearch matches them: a case-insensitive substring of the field
(of a fixed field's displayed values: status names, resolutions, product and component names);
`field:a,b` is a OR b; `-field:x` excludes.
"""

from __future__ import annotations

from django.db.models import Q

from compliance.bugzilla import COMPONENT_PUBLIC, COMPONENT_SECURITY, PRODUCT
from compliance.domain.quicksearch import FieldTerm, Query
from compliance.models import Incident

NOTHING = Q(pk__in=[])
EVERYTHING = Q(pk__isnull=False)
COMPONENTS = {COMPONENT_PUBLIC: False, COMPONENT_SECURITY: True}


def status_q(query: Query, *, open_by_default: bool) -> Q:
    if query.status_prefix == "ALL":
        return Q()
    if query.status_prefix == "LIST":
        return Q(status__in=query.statuses)
    if query.status_prefix == "OPEN" or open_by_default:
        return ~Q(status=Incident.Status.RESOLVED)
    return Q()


def _among(values: tuple[str, ...], shown: dict[str, object], lookup: str) -> Q:
    matched = [db for name, db in shown.items() if any(v.lower() in name.lower() for v in values)]
    return Q(**{f"{lookup}__in": matched}) if matched else NOTHING


def _text(values: tuple[str, ...], lookup: str) -> Q:
    q = NOTHING
    for value in values:
        q |= Q(**{f"{lookup}__icontains": value})
    return q


def field_q(term: FieldTerm) -> Q:
    values = term.values
    if term.field == "product":
        q = EVERYTHING if any(v.lower() in PRODUCT.lower() for v in values) else NOTHING
    elif term.field == "component":
        q = _among(values, COMPONENTS, "security_sensitive")
    elif term.field == "status":
        q = _among(values, {s.value: s.value for s in Incident.Status}, "status")
    elif term.field == "resolution":
        q = _among(values, {(r.value or "---"): r.value for r in Incident.Resolution}, "resolution")
    elif term.field == "whiteboard":
        q = _text(values, "whiteboard")
    elif term.field == "summary":
        q = _text(values, "title")
    elif term.field == "assignee":
        q = _text(values, "assignee__username")
    elif term.field == "reporter":
        q = _text(values, "reporter__username")
    else:  # the parser only yields the fields above
        raise ValueError(f"unknown quicksearch field {term.field!r}")
    return ~q if term.negated else q
