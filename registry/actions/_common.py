"""Shared by the registry actions: batching, the editor check, name keys."""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from typing import Any

from django.db import connection
from django.utils import timezone

from accounts import permissions
from config.errors import NotPermitted
from pki.x509 import name_key
from registry.models import (
    Certificate,
)

Progress = Callable[[str], None] | None

# Rows per INSERT and keys per IN (...): stays under SQLite's variable limit, few round trips on PostgreSQL.
BATCH = 500


def name_match_key(name_der: bytes) -> str:
    """Certificate.subject_name_key / issuer_name_key: equal for names x509.names_match() calls equal."""
    return _name_match_key(bytes(name_der))


@functools.lru_cache(maxsize=1 << 16)
def _name_match_key(name_der: bytes) -> str:
    # Cached: a registry holds far fewer distinct names than certificates (issuers repeat).
    return hashlib.sha256(repr(name_key(name_der)).encode("utf-8")).hexdigest().upper()

def _existing_ids(shas: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for chunk in _chunks(shas):
        found.update(Certificate.objects.filter(sha256__in=chunk).values_list("sha256", "pk"))
    return found


def _insert_certificates(rows: list[dict[str, Any]]) -> dict[str, int]:
    """Insert new certificates; returns sha256 -> pk.

    On PostgreSQL one multi-row INSERT per page through psycopg2's execute_values: Django's
    bulk_create spends more time preparing 30 values a row than the database spends storing
    them, and bulk imports of the CCADB corpus are the registry's hot path.
    """
    if not rows:
        return {}
    if connection.vendor != "postgresql":
        created = Certificate.objects.bulk_create([Certificate(**row) for row in rows], batch_size=BATCH)
        if created[0].pk is not None:
            return {c.sha256: c.pk for c in created}
        return _existing_ids([row["sha256"] for row in rows])
    from psycopg2.extras import execute_values

    now = timezone.now()
    fields = [f for f in Certificate._meta.concrete_fields if not f.primary_key]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    sql = f"INSERT INTO {connection.ops.quote_name(Certificate._meta.db_table)} ({columns}) VALUES %s RETURNING id, sha256"
    names = [f.attname for f in fields]
    defaults = {"created_at": now, "owner_id": None}
    values = [tuple(row[n] if n in row else defaults[n] for n in names) for row in rows]
    with connection.cursor() as cursor:
        returned = execute_values(cursor.cursor, sql, values, page_size=BATCH, fetch=True)
    return {sha: pk for pk, sha in returned}


# pg_advisory_xact_lock key of certificate imports ("RWCERTS" as a number): one import stores at a time.
_IMPORT_LOCK = 0x5257434552545300


def serialize_imports() -> None:
    """Two imports of the same certificates at once (two web instances, a page and a command) must not both
    read them as new: the second waits, on PostgreSQL, until the first commits, then finds them present.
    Must run inside the import's transaction (the lock ends with it). SQLite already writes one at a time."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_IMPORT_LOCK])


def _chunks(items: list, size: int = BATCH):
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _require_editor(actor: Any) -> None:
    """`actor` None is the system (a command, the demo); a person must be allowed to edit the registry."""
    if actor is not None and not permissions.can_edit_registry(actor):
        raise NotPermitted("Only root program staff change the registry.")


# --- Certificates --------------------------------------------------------------------------
