"""Helpers every audits action uses: who acted and the field-error shape (history rows: history.record)."""

from __future__ import annotations

from typing import Any

from config.errors import DomainError
from history.models import SYSTEM


def _label(actor: Any) -> str:
    return actor.get_username() if actor is not None and getattr(actor, "is_authenticated", False) else SYSTEM


def _user_or_none(actor: Any):
    return actor if actor is not None and getattr(actor, "is_authenticated", False) else None


def _invalid(field_name: str, message: str) -> DomainError:
    return DomainError(message, errors={field_name: [message]})
