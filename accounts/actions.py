"""Writes for accounts. Views call these; nothing else creates users."""

from __future__ import annotations

from django.db import transaction

from accounts.models import User


@transaction.atomic
def user_sign_up(*, username: str, email: str, password: str) -> User:
    """Anyone may sign up; they become a community reviewer. Staff and CA representation are granted by staff."""
    return User.objects.create_user(username=username, email=email, password=password)
