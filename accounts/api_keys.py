"""API keys: create (the plain key is returned once), revoke, list, and look a key up.

A key reads `rw_` + 43 URL-safe characters (256 random bits). Only its SHA-256 is stored,
with the first characters as `prefix` so a user can tell keys apart. Authentication hashes
what the client sent and looks the hash up through a unique index, so no key is ever compared
in Python and a timing difference reveals nothing about a stored key.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from accounts import permissions
from accounts.models import AccountHistory, ApiKey, User
from config.errors import DomainError, NotPermitted
from history import actions as history

KEY_PREFIX = "rw_"
KEY_BYTES = 32
PREFIX_LENGTH = 11  # "rw_" + 8 characters: enough to tell a user's keys apart, far too few to guess one
NAME_MAX = 100
# last_used_at is written at most this often per key, so a busy client does not write on every request.
LAST_USED_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True)
class CreatedKey:
    key: ApiKey
    plain: str  # shown to the user once, never stored


def hash_key(plain: str) -> str:
    return hashlib.sha256(plain.encode("utf-8")).hexdigest()


@transaction.atomic
def api_key_create(*, actor: User, name: str, read_only: bool = False) -> CreatedKey:
    """A signed-in user makes a key for themselves. The plain key is in the result and nowhere else."""
    if not permissions.can_create_api_key(actor):
        raise NotPermitted("Sign in to create an API key.")
    name = (name or "").strip()
    if not name:
        raise DomainError("Give the key a name that says what it is for.", errors={"name": ["This field is required."]})
    if len(name) > NAME_MAX:
        raise DomainError(
            f"The name is too long: at most {NAME_MAX} characters.", errors={"name": [f"At most {NAME_MAX} characters."]}
        )
    plain = KEY_PREFIX + secrets.token_urlsafe(KEY_BYTES)
    key = ApiKey.objects.create(
        user=actor,
        name=name,
        prefix=plain[:PREFIX_LENGTH],
        key_hash=hash_key(plain),
        read_only=read_only,
        created_at=timezone.now(),
    )
    history.record(actor=actor, subject=key, action=AccountHistory.API_KEY_CREATED, at=key.created_at,
                   summary=str(key), detail={"user": actor.get_username(), "read_only": read_only})
    return CreatedKey(key=key, plain=plain)


@transaction.atomic
def api_key_revoke(*, actor: User, key: ApiKey) -> ApiKey:
    """Revoking is final and immediate; revoking a revoked key changes nothing."""
    if not permissions.can_manage_api_key(actor, key):
        raise NotPermitted("You may only revoke your own API keys.")
    # Compare-and-set, so two clicks record the first revocation time only.
    now = timezone.now()
    if ApiKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(revoked_at=now):
        history.record(actor=actor, subject=key, action=AccountHistory.API_KEY_REVOKED, at=now,
                       field="revoked_at", old="", new=now.isoformat(), summary=str(key),
                       detail={"user": key.user.get_username()})
    key.refresh_from_db(fields=["revoked_at"])
    return key


def api_keys_of(*, user: User):
    """The account page's list: all of a user's keys, active and revoked, newest first."""
    return ApiKey.objects.filter(user=user).order_by("-created_at", "-pk")


def api_key_authenticate(*, plain: str) -> ApiKey | None:
    """The usable key matching `plain`, with its user loaded; None for an unknown, revoked or disabled one."""
    plain = (plain or "").strip()
    if not plain or len(plain) > 200:
        return None
    key = ApiKey.objects.select_related("user").filter(key_hash=hash_key(plain)).first()
    if key is None or not permissions.api_key_is_usable(key):
        return None
    now = timezone.now()
    if key.last_used_at is None or now - key.last_used_at >= LAST_USED_RESOLUTION:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now
    return key


def token_from_authorization(header: str) -> str | None:
    """The key of an `Authorization: Token <key>` header; None when the header is another scheme."""
    parts = (header or "").split()
    if not parts or parts[0].lower() != "token":
        return None
    return parts[1] if len(parts) == 2 else ""
