"""Helpers every audits action uses: who acted, the AuditEvent row, and the field-error shape."""

from __future__ import annotations

from typing import Any

from audits.models import AuditEvent
from config.errors import DomainError


def _label(actor: Any) -> str:
    return actor.get_username() if actor is not None and getattr(actor, "is_authenticated", False) else "Rootwatch"


def _user_or_none(actor: Any):
    return actor if actor is not None and getattr(actor, "is_authenticated", False) else None


def _event(kind: str, *, actor: Any, statement=None, auditor=None, message: str = "", old=None, new=None,
           actor_label: str | None = None) -> AuditEvent:
    return AuditEvent.objects.create(
        kind=kind, statement=statement, auditor=auditor, actor=_user_or_none(actor),
        actor_label=actor_label or _label(actor), message=message, old=old or {}, new=new or {},
    )


def _invalid(field_name: str, message: str) -> DomainError:
    return DomainError(message, errors={field_name: [message]})
