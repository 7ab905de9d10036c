"""Incident deadlines of the CCADB Incident Reporting Guidelines (IRG) v3.2.

Pure arithmetic over timezone-aware datetimes; results are always in UTC.

Decisions where the guidelines are silent:

* A whiteboard ``Next update`` date is due at the end of that day in UTC
  (23:59:59); a date the CA has already updated on or after is spent, and the
  7-day cadence applies again until staff set a new one.
* A deadline is met when the response is posted at or before ``due_at``; the
  due instant itself is not late.
* "Due soon" means less than ``DUE_SOON`` (24 hours) left.
* A full report counts as the first response when it comes first.
* ``incident_deadlines`` is computed "as of ``now``": events stamped after
  ``now`` are treated as not yet happened, so a history view can ask what was
  pending at a past instant.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import NamedTuple

__all__ = [
    "DUE_SOON",
    "FIRST_RESPONSE_WITHIN",
    "FULL_REPORT_WITHIN",
    "QUESTION_WITHIN",
    "UPDATE_EVERY",
    "UPDATE_AFTER_ACTION_ITEM_WITHIN",
    "REVOCATION_DELAY_UPDATE_EVERY",
    "Deadline",
    "DeadlineError",
    "DeadlineKind",
    "DeadlineState",
    "OpenQuestion",
    "describe",
    "end_of_day_utc",
    "first_response_due",
    "full_report_due",
    "incident_deadlines",
    "next_update_due",
    "question_due",
    "state",
    "time_left",
]

FIRST_RESPONSE_WITHIN = timedelta(hours=72)
FULL_REPORT_WITHIN = timedelta(days=14)
QUESTION_WITHIN = timedelta(days=7)
UPDATE_EVERY = timedelta(days=7)
UPDATE_AFTER_ACTION_ITEM_WITHIN = timedelta(days=3)
# The IRG says "should" every 3 days for revocation delays (and "must" at most
# 7); the tracker holds CAs to the "should".
REVOCATION_DELAY_UPDATE_EVERY = timedelta(days=3)
DUE_SOON = timedelta(hours=24)


class DeadlineError(ValueError):
    """Bad input to a deadline computation (naive datetime, wrong type...)."""


class DeadlineKind(StrEnum):
    FIRST_RESPONSE = "first_response"
    FULL_REPORT = "full_report"
    QUESTION = "question"
    QUESTION_FULL_ANSWER = "question_full_answer"
    NEXT_UPDATE = "next_update"


class DeadlineState(StrEnum):
    MET = "met"
    MET_LATE = "met_late"
    DUE = "due"
    DUE_SOON = "due_soon"
    OVERDUE = "overdue"


@dataclass(frozen=True)
class Deadline:
    kind: str
    due_at: datetime
    met_at: datetime | None = None
    # Which question a question deadline belongs to; None for the others.
    subject: str | None = None


class OpenQuestion(NamedTuple):
    """A question (needinfo) to the CA that is not fully answered yet.

    ``answered_at`` is when the CA replied in a way that counts as an answer:
    the answer itself, or an acknowledgement that promises the full answer by
    ``promised_date``. Plain 4-tuples in that order are accepted too.
    """

    id: str
    asked_at: datetime
    answered_at: datetime | None
    promised_date: date | None


def _utc(value: datetime, name: str) -> datetime:
    if not isinstance(value, datetime):
        raise DeadlineError(f"{name} must be a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise DeadlineError(f"{name} must be timezone-aware, got naive {value.isoformat()}")
    return value.astimezone(UTC)


def _optional_utc(value: datetime | None, name: str) -> datetime | None:
    return None if value is None else _utc(value, name)


def end_of_day_utc(day: date) -> datetime:
    """The last second of ``day`` in UTC: when a date-only deadline falls due."""
    if not isinstance(day, date) or isinstance(day, datetime):
        raise DeadlineError(f"expected a date, got {type(day).__name__}")
    return datetime.combine(day, time(23, 59, 59), tzinfo=UTC)


def first_response_due(became_aware_at: datetime) -> datetime:
    return _utc(became_aware_at, "became_aware_at") + FIRST_RESPONSE_WITHIN


def full_report_due(first_disclosed_at: datetime) -> datetime:
    return _utc(first_disclosed_at, "first_disclosed_at") + FULL_REPORT_WITHIN


def question_due(asked_at: datetime) -> datetime:
    return _utc(asked_at, "asked_at") + QUESTION_WITHIN


def next_update_due(
    *,
    last_update_at: datetime,
    whiteboard_next_update: date | None,
    action_item_changed_at: datetime | None,
    revocation_delay: bool,
) -> datetime:
    """When the next update of an open report is due: the earliest applicable rule.

    The whiteboard date replaces the 7-day cadence (it may be later), unless
    an update was already posted on or after that day. An action item change
    not yet reported in an update must be reported within 3 days. A
    revocation delay caps the interval at 3 days whatever the whiteboard says.
    """
    last = _utc(last_update_at, "last_update_at")
    changed = _optional_utc(action_item_changed_at, "action_item_changed_at")
    candidates = [_cadence_due(last, whiteboard_next_update)]
    if changed is not None and changed > last:
        candidates.append(changed + UPDATE_AFTER_ACTION_ITEM_WITHIN)
    if revocation_delay:
        candidates.append(last + REVOCATION_DELAY_UPDATE_EVERY)
    return min(candidates)


def _cadence_due(last: datetime, whiteboard_next_update: date | None) -> datetime:
    if whiteboard_next_update is None:
        return last + UPDATE_EVERY
    if last.date() >= whiteboard_next_update:
        return last + UPDATE_EVERY
    return end_of_day_utc(whiteboard_next_update)


def state(deadline: Deadline, now: datetime) -> DeadlineState:
    now = _utc(now, "now")
    due = _utc(deadline.due_at, f"{deadline.kind} due_at")
    if deadline.met_at is not None:
        met = _utc(deadline.met_at, f"{deadline.kind} met_at")
        return DeadlineState.MET if met <= due else DeadlineState.MET_LATE
    if now > due:
        return DeadlineState.OVERDUE
    if due - now < DUE_SOON:
        return DeadlineState.DUE_SOON
    return DeadlineState.DUE


def time_left(deadline: Deadline, now: datetime) -> timedelta:
    """``due_at - now``: negative once overdue (also for met deadlines)."""
    return _utc(deadline.due_at, f"{deadline.kind} due_at") - _utc(now, "now")


def describe(deadline: Deadline, now: datetime) -> str:
    """A short human sentence: "due in 2 days 3 hours", "overdue by 5 hours", "met"."""
    current = state(deadline, now)
    if current is DeadlineState.MET:
        return "met"
    if current is DeadlineState.MET_LATE:
        assert deadline.met_at is not None
        late = _utc(deadline.met_at, "met_at") - _utc(deadline.due_at, "due_at")
        return f"met {_humane(late)} late"
    left = time_left(deadline, now)
    if current is DeadlineState.OVERDUE:
        return f"overdue by {_humane(-left)}"
    return f"due in {_humane(left)}"


def _humane(span: timedelta) -> str:
    minutes = int(span.total_seconds() // 60)
    if minutes < 1:
        return "less than a minute"
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    units = [(days, "day"), (hours, "hour"), (minutes, "minute")]
    shown = [f"{n} {word}{'' if n == 1 else 's'}" for n, word in units if n]
    # Two units are precise enough to act on; minutes matter only within a day.
    return " ".join(shown[:2])


def incident_deadlines(
    *,
    became_aware_at: datetime | None,
    first_disclosed_at: datetime,
    first_response_at: datetime | None,
    full_report_at: datetime | None,
    last_update_at: datetime | None,
    whiteboard_next_update: date | None,
    action_item_changed_at: datetime | None,
    revocation_delay: bool,
    open_questions: Iterable[OpenQuestion | tuple[str, datetime, datetime | None, date | None]],
    is_open: bool,
    now: datetime,
) -> list[Deadline]:
    """Every deadline of one incident as of ``now``, sorted by due time.

    ``became_aware_at`` falls back to ``first_disclosed_at`` when unknown
    (a third party's report makes the CA aware when it is filed).
    ``last_update_at`` falls back to the latest report posted. A closed
    incident keeps the deadlines that were met (history) and has no pending one.
    """
    now = _utc(now, "now")
    disclosed = _utc(first_disclosed_at, "first_disclosed_at")
    aware = _optional_utc(became_aware_at, "became_aware_at") or disclosed
    full_report = _as_of(_optional_utc(full_report_at, "full_report_at"), now)
    first_response = _earliest(
        _as_of(_optional_utc(first_response_at, "first_response_at"), now), full_report
    )
    deadlines = [
        Deadline(DeadlineKind.FIRST_RESPONSE, first_response_due(aware), first_response),
        Deadline(DeadlineKind.FULL_REPORT, full_report_due(disclosed), full_report),
    ]
    for question in open_questions:
        deadlines.extend(_question_deadlines(question, now))
    last_posted = _latest(
        _as_of(_optional_utc(last_update_at, "last_update_at"), now), full_report, first_response
    )
    if is_open and last_posted is not None:
        due = next_update_due(
            last_update_at=last_posted,
            whiteboard_next_update=whiteboard_next_update,
            action_item_changed_at=_as_of(
                _optional_utc(action_item_changed_at, "action_item_changed_at"), now
            ),
            revocation_delay=revocation_delay,
        )
        deadlines.append(Deadline(DeadlineKind.NEXT_UPDATE, due))
    if not is_open:
        deadlines = [d for d in deadlines if d.met_at is not None]
    return sorted(deadlines, key=lambda d: (d.due_at, d.kind))


def _question_deadlines(question: object, now: datetime) -> list[Deadline]:
    try:
        qid, asked_at, answered_at, promised = question  # type: ignore[misc]
    except (TypeError, ValueError):
        raise DeadlineError(
            f"open question {question!r} must be (id, asked_at, answered_at, promised_date)"
        ) from None
    asked = _utc(asked_at, f"question {qid} asked_at")
    answered = _as_of(_optional_utc(answered_at, f"question {qid} answered_at"), now)
    found = [Deadline(DeadlineKind.QUESTION, question_due(asked), answered, subject=str(qid))]
    if promised is not None and answered is not None:
        if not isinstance(promised, date) or isinstance(promised, datetime):
            raise DeadlineError(f"question {qid} promised_date must be a date, got {promised!r}")
        # The acknowledgement answered in time; the promised full answer is
        # its own deadline, still pending while the question is open.
        found.append(
            Deadline(DeadlineKind.QUESTION_FULL_ANSWER, end_of_day_utc(promised), subject=str(qid))
        )
    return found


def _as_of(value: datetime | None, now: datetime) -> datetime | None:
    return value if value is not None and value <= now else None


def _earliest(*values: datetime | None) -> datetime | None:
    present = [v for v in values if v is not None]
    return min(present) if present else None


def _latest(*values: datetime | None) -> datetime | None:
    present = [v for v in values if v is not None]
    return max(present) if present else None
