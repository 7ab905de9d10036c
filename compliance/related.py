"""Objects of higher apps that name an incident (today: the distrust actions started from it).

Those apps register a finder in their AppConfig.ready(), so compliance imports none of them (they
sit on higher floors). Each finder takes the incident and the viewer and returns only what
accounts.permissions lets that viewer see: a page never names an object its viewer may not open.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

_FINDERS: dict[str, Callable[..., Any]] = {}


def register(name: str, finder: Callable[..., Any]) -> None:
    _FINDERS[name] = finder


def for_incident(name: str, incident: Any, user: Any) -> list:
    finder = _FINDERS.get(name)
    return list(finder(incident=incident, user=user)) if finder else []
