"""IRG v3.2 deadlines: the boundaries, the update cadence rules, and an incident's list."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from compliance.domain.deadlines import (
    Deadline,
    DeadlineError,
    DeadlineKind,
    DeadlineState,
    OpenQuestion,
    describe,
    first_response_due,
    full_report_due,
    incident_deadlines,
    next_update_due,
    question_due,
    state,
    time_left,
)

T0 = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


def _state_at(due: datetime, *, met_at: datetime | None = None, now: datetime) -> DeadlineState:
    return state(Deadline("x", due, met_at), now)


def test_first_response_at_71h59_is_met_and_at_72h01_is_late():
    due = first_response_due(T0)
    assert due == T0 + timedelta(hours=72)
    assert _state_at(due, met_at=T0 + timedelta(hours=71, minutes=59), now=T0 + timedelta(days=5)) == "met"
    assert _state_at(due, met_at=T0 + timedelta(hours=72, minutes=1), now=T0 + timedelta(days=5)) == "met_late"


def test_unanswered_first_response_turns_overdue_just_after_72_hours():
    due = first_response_due(T0)
    assert _state_at(due, now=T0 + timedelta(hours=71, minutes=59)) == "due_soon"
    assert _state_at(due, now=due) == "due_soon"
    assert _state_at(due, now=T0 + timedelta(hours=72, minutes=1)) == "overdue"


def test_full_report_is_due_14_days_after_first_disclosure():
    due = full_report_due(T0)
    assert _state_at(due, met_at=T0 + timedelta(days=13, hours=23, minutes=59), now=due) == "met"
    assert _state_at(due, met_at=T0 + timedelta(days=14, minutes=1), now=due + MINUTE) == "met_late"
    assert _state_at(due, now=T0 + timedelta(days=14, minutes=1)) == "overdue"


def test_question_is_due_7_days_after_it_was_asked():
    due = question_due(T0)
    assert due == T0 + timedelta(days=7)
    assert _state_at(due, now=T0 + timedelta(days=6)) == "due"
    assert _state_at(due, now=T0 + timedelta(days=6, hours=1)) == "due_soon"
    assert _state_at(due, now=T0 + timedelta(days=7) + MINUTE) == "overdue"


def test_update_is_due_7_days_after_the_last_one_without_other_rules():
    due = next_update_due(
        last_update_at=T0, whiteboard_next_update=None, action_item_changed_at=None, revocation_delay=False
    )
    assert due == T0 + timedelta(days=7)


def test_whiteboard_date_beats_the_7_day_cadence_even_when_later():
    due = next_update_due(
        last_update_at=T0,
        whiteboard_next_update=date(2024, 4, 30),
        action_item_changed_at=None,
        revocation_delay=False,
    )
    assert due == datetime(2024, 4, 30, 23, 59, 59, tzinfo=UTC)


def test_whiteboard_date_already_updated_on_falls_back_to_7_days():
    due = next_update_due(
        last_update_at=datetime(2024, 4, 30, 9, 0, tzinfo=UTC),
        whiteboard_next_update=date(2024, 4, 30),
        action_item_changed_at=None,
        revocation_delay=False,
    )
    assert due == datetime(2024, 5, 7, 9, 0, tzinfo=UTC)


def test_action_item_change_must_be_reported_within_3_days():
    changed = T0 + timedelta(days=1)
    due = next_update_due(
        last_update_at=T0,
        whiteboard_next_update=date(2024, 4, 30),
        action_item_changed_at=changed,
        revocation_delay=False,
    )
    assert due == changed + timedelta(days=3)
    assert _state_at(due, met_at=changed + timedelta(days=2, hours=23, minutes=59), now=due) == "met"
    assert _state_at(due, met_at=changed + timedelta(days=3, minutes=1), now=due) == "met_late"


def test_action_item_change_already_reported_does_not_shorten_the_deadline():
    due = next_update_due(
        last_update_at=T0,
        whiteboard_next_update=None,
        action_item_changed_at=T0 - timedelta(hours=1),
        revocation_delay=False,
    )
    assert due == T0 + timedelta(days=7)


def test_revocation_delay_requires_an_update_every_3_days_whatever_the_whiteboard_says():
    due = next_update_due(
        last_update_at=T0,
        whiteboard_next_update=date(2024, 4, 30),
        action_item_changed_at=None,
        revocation_delay=True,
    )
    assert due == T0 + timedelta(days=3)
    assert _state_at(due, now=T0 + timedelta(days=3) + MINUTE) == "overdue"


def test_describe_speaks_in_days_hours_and_minutes():
    due = T0 + timedelta(days=2, hours=3)
    assert describe(Deadline("x", due), T0) == "due in 2 days 3 hours"
    assert describe(Deadline("x", due), due + timedelta(hours=5)) == "overdue by 5 hours"
    assert describe(Deadline("x", due), due - timedelta(hours=1, minutes=1)) == "due in 1 hour 1 minute"
    assert describe(Deadline("x", due, met_at=T0), T0) == "met"
    assert describe(Deadline("x", due, met_at=due + timedelta(days=1)), T0) == "met 1 day late"
    assert describe(Deadline("x", due), due) == "due in less than a minute"


def test_time_left_is_negative_once_overdue():
    deadline = Deadline("x", T0)
    assert time_left(deadline, T0 - timedelta(hours=2)) == timedelta(hours=2)
    assert time_left(deadline, T0 + timedelta(hours=5)) == timedelta(hours=-5)


def test_naive_datetimes_are_refused_with_the_argument_name():
    with pytest.raises(DeadlineError, match="became_aware_at must be timezone-aware"):
        first_response_due(datetime(2024, 1, 1))


def test_other_timezones_are_converted_to_utc():
    paris = timezone(timedelta(hours=1))
    assert first_response_due(datetime(2024, 1, 1, 13, 0, tzinfo=paris)) == datetime(2024, 1, 4, 12, 0, tzinfo=UTC)


def _incident(**overrides):
    arguments = dict(
        became_aware_at=T0,
        first_disclosed_at=T0 + timedelta(hours=1),
        first_response_at=None,
        full_report_at=None,
        last_update_at=None,
        whiteboard_next_update=None,
        action_item_changed_at=None,
        revocation_delay=False,
        open_questions=[],
        is_open=True,
        now=T0 + timedelta(days=1),
    )
    arguments.update(overrides)
    return incident_deadlines(**arguments)


def _by_kind(deadlines: list[Deadline]) -> dict[str, Deadline]:
    return {(d.kind if d.subject is None else f"{d.kind}:{d.subject}"): d for d in deadlines}


def test_new_incident_has_first_response_and_full_report_pending_and_no_update_yet():
    found = _by_kind(_incident())
    assert set(found) == {"first_response", "full_report"}
    assert found["first_response"].due_at == T0 + timedelta(hours=72)
    assert found["full_report"].due_at == T0 + timedelta(hours=1, days=14)


def test_full_report_posted_first_counts_as_first_response_and_starts_update_cadence():
    posted = T0 + timedelta(days=2)
    found = _by_kind(_incident(full_report_at=posted, now=T0 + timedelta(days=3)))
    assert found["first_response"].met_at == posted
    assert found["full_report"].met_at == posted
    assert found["next_update"].due_at == posted + timedelta(days=7)


def test_acknowledgement_with_a_date_answers_the_question_and_the_promised_answer_is_due_that_day():
    asked = T0 + timedelta(days=3)
    acknowledged = asked + timedelta(days=2)
    question = OpenQuestion("c12", asked, acknowledged, date(2024, 3, 20))
    found = _by_kind(_incident(open_questions=[question], now=T0 + timedelta(days=10)))
    assert found["question:c12"].met_at == acknowledged
    assert state(found["question:c12"], T0 + timedelta(days=10)) == "met"
    promised = found["question_full_answer:c12"]
    assert promised.due_at == datetime(2024, 3, 20, 23, 59, 59, tzinfo=UTC)
    assert promised.met_at is None


def test_unanswered_question_given_as_plain_tuple_is_pending():
    asked = T0 + timedelta(days=1)
    found = _by_kind(_incident(open_questions=[("c3", asked, None, None)], now=asked + timedelta(days=8)))
    assert state(found["question:c3"], asked + timedelta(days=8)) == "overdue"
    assert "question_full_answer:c3" not in found


def test_events_after_now_are_not_yet_counted():
    later = T0 + timedelta(days=2)
    found = _by_kind(_incident(first_response_at=later, now=T0 + timedelta(days=1)))
    assert found["first_response"].met_at is None


def test_closed_incident_has_no_pending_deadline():
    found = _incident(
        first_response_at=T0 + timedelta(hours=5),
        open_questions=[("c1", T0, None, None)],
        is_open=False,
        now=T0 + timedelta(days=30),
    )
    assert [d.kind for d in found] == [DeadlineKind.FIRST_RESPONSE]
    assert all(d.met_at is not None for d in found)


def test_deadlines_come_sorted_by_due_time():
    found = _incident(
        first_response_at=T0 + timedelta(hours=5),
        open_questions=[("c1", T0 + timedelta(hours=6), None, None)],
    )
    assert [d.due_at for d in found] == sorted(d.due_at for d in found)


def test_malformed_open_question_is_refused():
    with pytest.raises(DeadlineError, match="open question"):
        _incident(open_questions=[("c1", T0)])
