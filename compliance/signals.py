"""What happened to an incident, announced for whoever listens (the notifications app mails it).

Compliance sits below notifications, so it cannot call it: each write action sends `incident_event`
inside its own transaction, and notifications' receiver (connected in NotificationsConfig.ready)
writes its outbox rows in that same transaction: the comment and the rows that will mail it are
stored together or not at all, and the mail is queued only after commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.dispatch import Signal

__all__ = ["IncidentEvent", "incident_event", "announce"]

# Receivers get `event=IncidentEvent(...)`.
incident_event = Signal()


@dataclass(frozen=True)
class IncidentEvent:
    kind: str  # one of KINDS
    incident: Any
    actor: Any  # the user who acted, or None for the system
    at: datetime
    comment: Any = None  # the comment this event posted (comment, question, answer, report)
    question: Any = None  # the question asked (kind "question")
    report: Any = None  # the ReportVersion posted (kind "report")
    changes: tuple = ()  # history.Event rows of the fields changed (kind "changed")


FILED, COMMENT, QUESTION, REPORT, CHANGED = "filed", "comment", "question", "report", "changed"
KINDS = (FILED, COMMENT, QUESTION, REPORT, CHANGED)


def announce(kind: str, *, incident: Any, actor: Any, at: datetime, **what: Any) -> None:
    if kind not in KINDS:
        raise ValueError(f"unknown incident event {kind!r}")
    incident_event.send(sender=type(incident), event=IncidentEvent(kind=kind, incident=incident, actor=actor, at=at, **what))
