"""Reads of the shared history. Each app's pages decide who may see staff-only rows
(accounts.permissions) and pass that in; these functions only fetch."""

from __future__ import annotations

from django.db import models
from django.db.models import OuterRef, Subquery
from django.db.models.query import QuerySet

from history.actions import subject_type_of
from history.models import Event

__all__ = ["for_subject", "last_changed_by", "latest_at", "of_type"]


def for_subject(subject: models.Model, *, include_staff_only: bool = True) -> QuerySet[Event]:
    """One object's history, oldest first (index history_subject_time_idx)."""
    qs = Event.objects.filter(subject_type=subject_type_of(subject), subject_id=subject.pk).select_related("actor")
    if not include_staff_only:
        qs = qs.filter(staff_only=False)
    return qs.order_by("at", "pk")


def of_type(model: type[models.Model]) -> QuerySet[Event]:
    """Every row about objects of one model (e.g. all registry imports), oldest first."""
    return Event.objects.filter(subject_type=subject_type_of(model)).order_by("at", "pk")


def latest_at(model: type[models.Model], outer: str = "pk") -> Subquery:
    """A subquery for annotate(): when the object in the outer query last changed (None if never)."""
    rows = Event.objects.filter(subject_type=subject_type_of(model), subject_id=OuterRef(outer)).order_by("-at")
    return Subquery(rows.values("at")[:1])


def last_changed_by(subject: models.Model, field: str, *, recent: int = 200) -> str:
    """Who last changed one field of an object, for "X changed <field> since you opened this form".

    Apps record a field either as the row's `field` (one row per field) or as a key of the row's
    `detail`, `old` or `new` mapping (one row per save); the newest row naming it wins. "" if none."""
    rows = Event.objects.filter(subject_type=subject_type_of(subject), subject_id=subject.pk).order_by("-at", "-pk")
    for event in rows.only("actor_name", "field", "detail", "old", "new")[:recent]:
        if event.field == field or any(isinstance(m, dict) and field in m for m in (event.detail, event.old, event.new)):
            return event.actor_name
    return ""
