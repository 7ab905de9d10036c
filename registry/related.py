"""What higher apps say about a certificate, for its page: OneCRL status, distrust actions, incidents,
audit statements.

Those apps sit on higher floors (registry imports none of them): each registers a finder in its
AppConfig.ready(). A finder takes the certificate and the viewer and returns only what
accounts.permissions lets that viewer see (embargoed distrust actions, security-sensitive incidents and
unconfirmed statements stay hidden from who may not open them), as Related rows, in a fixed number of
queries.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

# The sections of the certificate page, in order, with their headings.
SECTIONS: tuple[tuple[str, str], ...] = (
    ("onecrl", "OneCRL"),
    ("distrust_actions", "Distrust actions"),
    ("incidents", "Incidents"),
    ("audit_statements", "Audit statements"),
)

_FINDERS: dict[str, Callable[..., Any]] = {}


@dataclass(frozen=True)
class Related:
    text: str
    url: str = ""
    note: str = ""


def register(name: str, finder: Callable[..., list[Related]]) -> None:
    if name not in dict(SECTIONS):
        raise KeyError(f"no certificate page section {name!r}; the sections are {', '.join(dict(SECTIONS))}")
    _FINDERS[name] = finder


def for_certificate(cert: Any, user: Any) -> list[dict[str, Any]]:
    """[{key, title, rows}] for each section an app registered (rows may be empty: "none")."""
    out = []
    for key, title in SECTIONS:
        finder = _FINDERS.get(key)
        if finder is not None:
            out.append({"key": key, "title": title, "rows": list(finder(certificate=cert, user=user))})
    return out
