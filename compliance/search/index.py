"""Keeping the search documents (compliance.search.ddl) in step with what they copy.

Every write of an incident, a comment or a report version refreshes its incident's document in the
same transaction (the receivers below, connected in ComplianceConfig.ready): whether written by
the actions, the admin or a test. Bulk writes that send no signals (the Bugzilla import, the data
generator) call `refresh` or `rebuild` themselves; `manage.py rebuild_search_index` rebuilds all.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection
from django.db.models.signals import post_delete, post_save

from compliance.models import Comment, Incident, ReportVersion

BATCH = 1000


def _backend():
    from compliance import search

    return search.backend()


def refresh(incident_ids: Iterable[int]) -> None:
    """Rewrite the documents of these incidents (and drop those of incidents that are gone)."""
    ids = sorted({int(i) for i in incident_ids if i is not None})
    engine = _backend()
    with connection.cursor() as cursor:
        for start in range(0, len(ids), BATCH):
            engine.refresh(cursor, ids[start:start + BATCH])


def rebuild() -> None:
    """Every document from scratch."""
    with connection.cursor() as cursor:
        _backend().rebuild(cursor)


def _incident_saved(sender, instance, raw=False, **kwargs) -> None:
    if not raw:
        refresh([instance.pk])


def _child_saved(sender, instance, raw=False, **kwargs) -> None:
    if not raw:
        refresh([instance.incident_id])


def connect() -> None:
    post_save.connect(_incident_saved, sender=Incident, dispatch_uid="search_incident_saved")
    post_delete.connect(_incident_saved, sender=Incident, dispatch_uid="search_incident_deleted")
    for model in (Comment, ReportVersion):
        post_save.connect(_child_saved, sender=model, dispatch_uid=f"search_{model.__name__}_saved")
        post_delete.connect(_child_saved, sender=model, dispatch_uid=f"search_{model.__name__}_deleted")
