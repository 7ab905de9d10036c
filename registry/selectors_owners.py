"""Reads for the CA owner pages and API (issue 14): representatives, history lines with labels."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Prefetch, QuerySet

from accounts.models import User
from history import selectors as history
from registry.actions.owners import LIST_FIELDS, OWNER_FIELDS
from registry.models import CAOwner, CAOwnerContact, CAOwnerURL

LABELS = {**OWNER_FIELDS, **LIST_FIELDS}


def owner_with_lists() -> QuerySet[CAOwner]:
    """Owners with their contacts and URLs (two more queries, whatever the number of owners)."""
    return CAOwner.objects.prefetch_related(
        Prefetch("contacts", queryset=CAOwnerContact.objects.order_by("position", "pk")),
        Prefetch("urls", queryset=CAOwnerURL.objects.order_by("position", "pk")),
    )


def representatives_of(owner: CAOwner) -> QuerySet[User]:
    return owner.representatives.order_by("username")


def find_user(text: str) -> User | None:
    """An account by user name or e-mail address (case-insensitive), or by id."""
    text = (text or "").strip()
    if not text:
        return None
    if text.isdigit():
        found = User.objects.filter(pk=int(text)).first()
        if found is not None:
            return found
    return User.objects.filter(username__iexact=text).first() or User.objects.filter(email__iexact=text).first()


@dataclass
class HistoryLine:
    at: Any
    who: str
    what: str
    changes: list[tuple[str, str, str]] = field(default_factory=list)  # (label, from, to)
    summary: str = ""


def _readable(value: Any) -> str:
    if isinstance(value, list):
        return "; ".join(str(v) for v in value) if value else "none"
    return str(value) if value not in ("", None) else "none"


def owner_history(owner: CAOwner, *, include_staff_only: bool) -> list[HistoryLine]:
    """The owner's history, oldest first: each change from -> to, by field label."""
    lines = []
    for event in history.for_subject(owner, include_staff_only=include_staff_only):
        line = HistoryLine(at=event.at, who=event.actor_name, what=event.action_label)
        old, new = event.old, event.new
        if isinstance(old, dict) or isinstance(new, dict):
            old = old if isinstance(old, dict) else {}
            new = new if isinstance(new, dict) else {}
            for key in [*new, *(k for k in old if k not in new)]:
                line.changes.append((LABELS.get(key, key), _readable(old.get(key, "")), _readable(new.get(key, ""))))
        else:
            line.summary = event.summary
        lines.append(line)
    return lines
