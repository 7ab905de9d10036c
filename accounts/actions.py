"""Writes for accounts. Views and Django admin call these; nothing else creates users or grants roles.

Role grants (staff status, CA representation) write a history row in their transaction; API keys
live in accounts.api_keys.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction

from accounts import permissions, signals
from accounts.models import AccountHistory, User
from config.errors import NotPermitted
from history import actions as history


@transaction.atomic
def user_sign_up(*, username: str, email: str, password: str) -> User:
    """Anyone may sign up; they become a community reviewer. Staff and CA representation are granted by staff."""
    return User.objects.create_user(username=username, email=email, password=password)


def _require_manage_users(actor: Any) -> None:
    if not permissions.can_manage_users(actor):
        raise NotPermitted("Only root program staff grant roles.")


@transaction.atomic
def password_reset_request(*, user: User) -> None:
    """Someone asked for a reset of this account's password (Django's form found it by address): a
    staff-only history row, and the mail through the outbox (accounts.signals). The link is made when
    the mail is sent, so no token is stored."""
    event = history.record(actor=None, subject=user, action="password_reset_requested",
                           label="Password reset requested", staff_only=True)
    signals.password_reset_requested.send(sender=User, user=user, event=event)


@transaction.atomic
def user_set_staff(*, actor: Any, user: User, is_staff: bool) -> User:
    """Grant or remove root program staff status; setting what is already there records nothing."""
    _require_manage_users(actor)
    locked = User.objects.select_for_update().get(pk=user.pk)
    if locked.is_staff != is_staff:
        User.objects.filter(pk=user.pk).update(is_staff=is_staff)
        history.record(
            actor=actor, subject=user,
            action=AccountHistory.STAFF_GRANTED if is_staff else AccountHistory.STAFF_REMOVED,
            field="is_staff", old=locked.is_staff, new=is_staff,
        )
    user.is_staff = is_staff
    return user


@transaction.atomic
def user_set_represented_owners(*, actor: Any, user: User, owners: Iterable[Any]) -> User:
    """Set the CA owners `user` represents (all of them: the list replaces the old one)."""
    _require_manage_users(actor)
    User.objects.select_for_update().filter(pk=user.pk).first()
    before = {o.pk: o.name for o in user.represented_owners.all()}
    after = {o.pk: o.name for o in owners}
    if before.keys() != after.keys():
        user.represented_owners.set(list(after))
        user._represented_owner_ids = frozenset(after)  # the cache accounts.permissions reads
        history.record(
            actor=actor, subject=user, action=AccountHistory.REPRESENTATION_CHANGED,
            field="represented_owners", old=sorted(before.values()), new=sorted(after.values()),
            detail={"added": sorted(after.keys() - before.keys()), "removed": sorted(before.keys() - after.keys())},
        )
    return user
