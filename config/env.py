"""Reading settings from the environment: every bad value fails loudly, naming the variable."""

from __future__ import annotations

import os
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return default if value is None else value


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={value!r} is not a boolean: use 1/0, true/false, yes/no or on/off.")


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r} is not a whole number.") from None


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def parse_database_url(url: str, *, name: str = "DATABASE_URL") -> dict:
    """Turn DATABASE_URL into a Django DATABASES entry.

    Only SQLite and PostgreSQL are supported: the app relies on PostgreSQL in
    production and SQLite for the embedded default, nothing else is tested.
    """
    import dj_database_url

    try:
        parts = urlsplit(url)
        scheme = parts.scheme
        port = parts.port  # raises ValueError on a malformed port
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name}={url!r} is malformed: {exc}.") from None
    if scheme in ("postgres", "postgresql", "pgsql"):
        if not parts.path.strip("/"):
            raise ImproperlyConfigured(
                f"{name}={url!r} names no database: expected postgres://USER@HOST:PORT/DBNAME."
            )
        if not parts.hostname and not port:
            # A socket path is allowed through ?host=; a bare 'postgres:///db' uses the local socket.
            pass
    elif scheme == "sqlite":
        if not (parts.path or parts.netloc):
            raise ImproperlyConfigured(f"{name}={url!r} names no file: expected sqlite:///path/to/db.sqlite3.")
    else:
        raise ImproperlyConfigured(
            f"{name}={url!r} has scheme {scheme!r}: expected postgres://USER@HOST:PORT/DBNAME or sqlite:///PATH."
        )
    config = dj_database_url.parse(url, conn_max_age=60 if scheme != "sqlite" else 0)
    return config


def parse_redis_url(url: str, *, name: str = "REDIS_URL") -> str:
    try:
        parts = urlsplit(url)
        _ = parts.port  # raises ValueError for a port that is not a number
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name}={url!r} is malformed: {exc}.") from None
    if parts.scheme not in ("redis", "rediss", "unix") or (parts.scheme != "unix" and not parts.hostname):
        raise ImproperlyConfigured(f"{name}={url!r} is not a Redis URL: expected redis://HOST:PORT/DB.")
    return url
