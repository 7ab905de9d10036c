"""Full-text search over incidents, one function for every engine and every caller.

`search(queryset, text, user=...)` narrows a queryset of incidents (always the ones `user` may
see: the caller's visibility filter, never this module's) by Bugzilla quicksearch text (parsed by
compliance.domain.quicksearch): bug numbers, status prefixes, field prefixes, and words and
phrases matched by the database's own full-text search against the incident's title, whiteboard,
comments and report versions. Comments count only for those who may read them: private comments
are in the document of readers that accounts.permissions.can_view_private_comments lets see them,
and the others are matched against a document without them. When text was searched, rows carry
`search_rank` (higher first) and `search_snippet` (raw; `highlight` makes it HTML).

`quicksearch_q` is the same as a Q (for /rest/bug?quicksearch=, which orders by its own rules).
The search documents are kept by compliance.search.index (see compliance.search.ddl).
"""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.db.models import Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from accounts import permissions as perm
from compliance.domain import quicksearch as qs_domain
from compliance.domain.quicksearch import Query
from compliance.models import Incident
from compliance.search import fields

__all__ = ["parse", "search", "quicksearch_q", "highlight", "attach_highlights", "backend"]

START, STOP = "\x01", "\x02"


def backend():
    if connection.vendor == "postgresql":
        from compliance.search import postgres

        return postgres
    from compliance.search import sqlite

    return sqlite


def parse(text: str) -> Query:
    return qs_domain.parse(text, statuses=[s.value for s in Incident.Status])


def _query(text_or_query: str | Query) -> Query:
    return text_or_query if isinstance(text_or_query, Query) else parse(text_or_query)


def quicksearch_q(text_or_query: str | Query, *, user: Any, open_by_default: bool = False) -> Q:
    """The condition the quicksearch text sets (no ordering, no annotation)."""
    query = _query(text_or_query)
    if query.bug_numbers:
        return Q(number__in=query.bug_numbers)
    q = fields.status_q(query, open_by_default=open_by_default)
    for term in query.fields:
        q &= fields.field_q(term)
    private = perm.can_view_private_comments(user)
    engine = backend()
    if query.positive_terms:
        sql, params = engine.match_sql(query.positive_terms, join="and", private=private)
        q &= Q(pk__in=RawSQL(sql, params))
    if query.negative_terms:
        sql, params = engine.match_sql(query.negative_terms, join="or", private=private)
        q &= ~Q(pk__in=RawSQL(sql, params))
    return q


def search(queryset: QuerySet[Incident], text: str | Query, *, user: Any,
           open_by_default: bool = False) -> QuerySet[Incident]:
    query = _query(text)
    if query.is_empty:
        return queryset
    queryset = queryset.filter(quicksearch_q(query, user=user, open_by_default=open_by_default))
    if query.positive_terms and not query.bug_numbers:
        private = perm.can_view_private_comments(user)
        engine = backend()
        queryset = queryset.annotate(
            search_rank=RawSQL(*engine.rank_sql(query.positive_terms, private=private)),
            search_snippet=RawSQL(*engine.snippet_sql(query.positive_terms, private=private)),
        )
    return queryset


def highlight(raw: str | None) -> SafeString:
    """A snippet as HTML: everything escaped, the engine's match marks become <mark>. Empty when
    nothing in it was matched (the match was in the title, shown anyway)."""
    if not raw or START not in raw:
        return mark_safe("")
    text = escape(" ".join(raw.split()))
    html, open_ = [], False
    for ch in text:
        if ch == START and not open_:
            html.append("<mark>")
            open_ = True
        elif ch == STOP and open_:
            html.append("</mark>")
            open_ = False
        elif ch not in (START, STOP):
            html.append(ch)
    if open_:
        html.append("</mark>")
    return mark_safe("".join(html))  # noqa: S308 - every character above was escaped


def attach_highlights(incidents) -> None:
    """Set `search_snippet_html` on each row of a page (nothing read from the database)."""
    for incident in incidents:
        incident.search_snippet_html = highlight(getattr(incident, "search_snippet", None))
