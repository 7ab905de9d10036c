"""Saved searches: a user's named incident-list filters (Bugzilla's saved searches).

A saved search is its owner's alone (accounts.permissions.can_manage_saved_search): nobody else,
staff neither, reads, renames or deletes it; the pages answer 404 for another's. Its query is the
list's query string (filters, sort and `columnlist`), checked by the list's own filter before it is
kept, so a saved search always opens a valid list. Every change writes a history row.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.db import IntegrityError, transaction
from django.http import QueryDict
from django.utils import timezone

from accounts import permissions as perm
from compliance import list_columns
from compliance import selectors as sel
from compliance.models import SavedSearch
from config.errors import DomainError, NotPermitted
from history import actions as history

__all__ = ["search_save", "search_rename", "search_delete", "clean_query"]

NAME_MAX = 80
# Query parameters a saved search keeps: the filter's, the sort and the columns (never the page).
DROPPED = {"page", "csrfmiddlewaretoken"}


def clean_query(*, actor: Any, query: str) -> str:
    """The query string as kept: known to the list, valid by its filter, without the page. Raises
    DomainError (errors["query"]) for a filter the list would refuse."""
    params = QueryDict(query or "", mutable=True)
    for key in DROPPED:
        params.pop(key, None)
    filters = sel.incident_filter(user=actor, params=params)
    _, column_error = list_columns.chosen(params)
    if not filters.is_valid() or column_error:
        problems = [f"{k} {v[0]}" for k, v in filters.errors.items()] + ([column_error] if column_error else [])
        raise DomainError("The search was not saved: its filter is not valid (" + "; ".join(problems) + ").",
                          errors={"query": problems})
    known = set(filters.filters) | {list_columns.PARAM}
    kept = [(k, v) for k in params for v in params.getlist(k) if k in known and (v != "" or k == list_columns.PARAM)]
    return urlencode(kept)


def _name(name: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise DomainError("Give the search a name.", errors={"name": ["Give the search a name."]})
    if len(name) > NAME_MAX:
        raise DomainError(f"At most {NAME_MAX} characters.", errors={"name": [f"at most {NAME_MAX} characters"]})
    return name


def _taken(actor: Any, name: str, exclude: int | None = None) -> None:
    if SavedSearch.objects.filter(owner_id=actor.pk, name__iexact=name).exclude(pk=exclude).exists():
        raise DomainError("You already have a search with this name.",
                          errors={"name": ["You already have a search with this name."]})


@transaction.atomic
def search_save(*, actor: Any, name: str, query: str) -> SavedSearch:
    """Keep the list's current filter under a name (a name the user already uses is refused)."""
    if not perm.can_save_search(actor):
        raise NotPermitted("Sign in to save a search.")
    name = _name(name)
    query = clean_query(actor=actor, query=query)
    _taken(actor, name)
    now = timezone.now()
    try:
        with transaction.atomic():
            search = SavedSearch.objects.create(owner=actor, name=name, query=query, created_at=now, updated_at=now)
    except IntegrityError:  # the same name saved at the same moment
        raise DomainError("You already have a search with this name.",
                          errors={"name": ["You already have a search with this name."]}) from None
    history.record(actor=actor, subject=search, action="saved_search_created", label="Search saved",
                   field="name", new=name, at=now, staff_only=True)
    return search


@transaction.atomic
def search_rename(*, actor: Any, search: SavedSearch, name: str) -> SavedSearch:
    if not perm.can_manage_saved_search(actor, search):
        raise NotPermitted("This is not your saved search.")
    name = _name(name)
    _taken(actor, name, exclude=search.pk)
    old, now = search.name, timezone.now()
    SavedSearch.objects.filter(pk=search.pk).update(name=name, updated_at=now)
    search.name, search.updated_at = name, now
    history.record(actor=actor, subject=search, action="saved_search_renamed", label="Saved search renamed",
                   field="name", old=old, new=name, at=now, staff_only=True)
    return search


@transaction.atomic
def search_delete(*, actor: Any, search: SavedSearch) -> None:
    if not perm.can_manage_saved_search(actor, search):
        raise NotPermitted("This is not your saved search.")
    history.record(actor=actor, subject=search, action="saved_search_deleted", label="Saved search deleted",
                   field="name", old=search.name, new="", staff_only=True)
    SavedSearch.objects.filter(pk=search.pk).delete()
