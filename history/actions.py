"""The one writer of history rows. Every app's actions call `record` inside their own transaction,
so a change and its row are stored together or not at all."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db import models

from history.models import SYSTEM, Event

__all__ = ["SYSTEM", "record", "record_many", "subject_type_of"]


def subject_type_of(subject: models.Model | type[models.Model]) -> str:
    """The subject_type stored for an object or a model class, e.g. "compliance.incident"."""
    return subject._meta.label_lower


def _signed_in(actor: Any) -> bool:
    return actor is not None and getattr(actor, "pk", None) is not None and getattr(actor, "is_authenticated", False)


def _who(actor: Any, actor_name: str) -> dict[str, Any]:
    user = actor if _signed_in(actor) else None
    return {"actor": user, "actor_name": user.get_username() if user is not None else (actor_name or SYSTEM)}


def _what(action: Any, label: str) -> dict[str, str]:
    key = str(getattr(action, "value", action))
    label = getattr(action, "label", None) or label or key.replace("_", " ").capitalize()
    return {"action": key, "action_label": label[:120]}


def record(
    *,
    actor: Any,
    action: str,
    subject: models.Model | None = None,
    subject_type: str = "",
    label: str = "",
    field: str = "",
    old: Any = "",
    new: Any = "",
    summary: str = "",
    detail: dict | None = None,
    staff_only: bool = False,
    at: datetime | None = None,
    actor_name: str = "",
) -> Event:
    """Write one history row.

    `actor` is the signed-in user who acted, or None (or an anonymous user) for the system; then
    the row reads SYSTEM, unless `actor_name` names someone without an account (an auditor answering
    a verification link). `subject` is the changed object; for a change to many objects at once
    (an import) give `subject_type` alone. `action` is the app's key; a TextChoices member brings
    its own label, otherwise `label`, otherwise the key made readable.
    """
    if subject is not None:
        subject_type, subject_id = subject_type_of(subject), subject.pk
    elif subject_type:
        subject_id = None
    else:
        raise ValueError("history.record needs a subject or a subject_type")
    fields: dict[str, Any] = {**_who(actor, actor_name), **_what(action, label)}
    if at is not None:
        fields["at"] = at
    return Event.objects.create(
        subject_type=subject_type,
        subject_id=subject_id,
        field=field,
        old=old,
        new=new,
        summary=summary,
        detail=detail or {},
        staff_only=staff_only,
        **fields,
    )


def record_many(
    *,
    actor: Any,
    action: str,
    subject_type: str,
    rows: Iterable[dict[str, Any]],
    label: str = "",
    at: datetime | None = None,
    actor_name: str = "",
) -> int:
    """`record` for a batch (an import of thousands of objects): one row per dict of `rows`, each
    with its subject_id and any of field, old, new, summary, detail, staff_only. Returns the count."""
    common: dict[str, Any] = {**_who(actor, actor_name), **_what(action, label), "subject_type": subject_type}
    if at is not None:
        common["at"] = at
    events = [Event(**common, **row) for row in rows]
    Event.objects.bulk_create(events, batch_size=1000)
    return len(events)
