"""Deadlines of a stored incident at each boundary (the arithmetic itself is tested in tests/domain)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from compliance import selectors as sel
from compliance.actions import incidents as act
from compliance.models import Incident, Question

T0 = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
H = timedelta(hours=1)
M = timedelta(minutes=1)


def _state(incident, kind, now):
    incident.refresh_from_db()
    rows = {r.kind: r for r in sel.deadline_rows(incident, now)}
    return rows[kind].state if kind in rows else None


@pytest.fixture
def incident(make_incident, owner_a):
    i = make_incident(owner_a)
    Incident.objects.filter(pk=i.pk).update(became_aware_at=T0, first_disclosed_at=T0, created_at=T0)
    i.refresh_from_db()
    return i


@pytest.mark.django_db
def test_first_response_at_71h59_is_met_and_at_72h01_is_late(incident):
    Incident.objects.filter(pk=incident.pk).update(first_response_at=T0 + 71 * H + 59 * M)
    assert _state(incident, "first_response", T0 + 100 * H) == "met"
    Incident.objects.filter(pk=incident.pk).update(first_response_at=T0 + 72 * H + M)
    assert _state(incident, "first_response", T0 + 100 * H) == "met_late"


@pytest.mark.django_db
def test_no_first_response_is_overdue_just_after_72_hours(incident):
    assert _state(incident, "first_response", T0 + 71 * H + 59 * M) == "due_soon"
    assert _state(incident, "first_response", T0 + 72 * H + M) == "overdue"


@pytest.mark.django_db
def test_full_report_is_due_on_day_14_after_disclosure(incident):
    assert _state(incident, "full_report", T0 + timedelta(days=13, hours=23, minutes=59)) == "due_soon"
    assert _state(incident, "full_report", T0 + timedelta(days=14) + M) == "overdue"
    Incident.objects.filter(pk=incident.pk).update(full_report_at=T0 + timedelta(days=14))
    assert _state(incident, "full_report", T0 + timedelta(days=20)) == "met"


@pytest.mark.django_db
def test_updates_are_due_every_3_days_with_revocation_delay_else_7(incident, staff):
    Incident.objects.filter(pk=incident.pk).update(first_response_at=T0, last_update_at=T0, full_report_at=T0)
    assert _state(incident, "next_update", T0 + timedelta(days=6, hours=23)) == "due_soon"
    assert _state(incident, "next_update", T0 + timedelta(days=3, minutes=1)) == "due"
    Incident.objects.filter(pk=incident.pk).update(whiteboard="[ca-compliance] [leaf-revocation-delay]")
    assert _state(incident, "next_update", T0 + timedelta(days=2, hours=23, minutes=59)) == "due_soon"
    assert _state(incident, "next_update", T0 + timedelta(days=3, minutes=1)) == "overdue"


@pytest.mark.django_db
def test_whiteboard_next_update_date_replaces_the_7_day_cadence(incident, staff):
    Incident.objects.filter(pk=incident.pk).update(first_response_at=T0, last_update_at=T0)
    incident.refresh_from_db()
    act.incident_update(actor=staff, incident=incident, next_update=(T0 + timedelta(days=10)).date())
    incident.refresh_from_db()
    assert incident.whiteboard.endswith("Next update 2024-03-11")
    assert _state(incident, "next_update", T0 + timedelta(days=8)) == "due"
    assert _state(incident, "next_update", datetime(2024, 3, 12, 0, 0, 1, tzinfo=UTC)) == "overdue"


@pytest.mark.django_db
def test_an_action_item_slipping_its_due_date_makes_an_update_due_within_3_days(incident, rep_a):
    from tests.incidents import incident_helpers as h

    act.report_post(actor=rep_a, incident=incident, kind="full", data=h.full_report_data(action_items=[
        {"action_item": "Add OU lint", "kind": "Prevent", "root_causes": "#1", "evaluation_criteria": "N/A",
         "due_date": "2099-01-10", "status": "Ongoing"}]))
    incident.refresh_from_db()
    posted = incident.last_update_at
    slipped = datetime(2099, 1, 10, 23, 59, 59, tzinfo=UTC)
    Incident.objects.filter(pk=incident.pk).update(last_update_at=slipped - timedelta(days=2),
                                                   full_report_at=posted, first_response_at=posted)
    rows = {r.kind: r for r in sel.deadline_rows(Incident.objects.get(pk=incident.pk), slipped + timedelta(days=1))}
    assert rows["next_update"].due_at == slipped + timedelta(days=3)


@pytest.mark.django_db
def test_a_question_is_due_in_7_days_and_an_acknowledgement_with_a_date_counts(incident, reviewer, rep_a):
    question = act.question_ask(actor=reviewer, incident=incident, body="How many?")
    Question.objects.filter(pk=question.pk).update(asked_at=T0)
    assert _state(incident, "question", T0 + timedelta(days=7) - M) == "due_soon"
    assert _state(incident, "question", T0 + timedelta(days=7) + M) == "overdue"
    act.question_answer(actor=rep_a, question=question, body="We will know by Friday.",
                        promised_date=datetime(2099, 1, 1).date())
    rows = {r.kind: r for r in sel.deadline_rows(Incident.objects.get(pk=incident.pk), datetime(2098, 1, 1, tzinfo=UTC))}
    assert rows["question"].state == "met_late"  # answered long after T0 + 7 days
    assert rows["question_full_answer"].state == "due"
    assert Incident.objects.with_open_questions().filter(pk=incident.pk).exists()
    act.question_answer(actor=rep_a, question=question, body="12 certificates.")
    assert not Incident.objects.with_open_questions().filter(pk=incident.pk).exists()


@pytest.mark.django_db
def test_overdue_filter_reads_the_cached_earliest_deadline(make_incident, owner_a, client_for, staff):
    late = make_incident(owner_a, title="Late")
    make_incident(owner_a, title="On time")
    Incident.objects.filter(pk=late.pk).update(became_aware_at=T0)
    act.refresh_deadlines(Incident.objects.get(pk=late.pk))
    assert list(Incident.objects.overdue().values_list("title", flat=True)) == ["Acme Trust: Late"]
    page = client_for(staff).get("/incidents/?overdue=on").content.decode()
    assert "Acme Trust: Late" in page and "Acme Trust: On time" not in page
    assert "Overdue" in page
    api = client_for(None).get("/api/v1/incidents/?overdue=true").json()
    assert [r["title"] for r in api["results"]] == ["Acme Trust: Late"]
    assert api["results"][0]["next_deadline"]["state"] == "overdue"


@pytest.mark.django_db
def test_status_endpoint_gives_every_deadline_and_open_question(incident, reviewer, client_for):
    act.question_ask(actor=reviewer, incident=incident, body="Why?")
    body = client_for(None).get(f"/api/v1/incidents/{incident.number}/status/").json()
    assert body["status"] == "ASSIGNED" and body["resolution"] == ""
    assert {d["kind"] for d in body["deadlines"]} == {"first_response", "full_report", "question"}
    assert {d["state"] for d in body["deadlines"] if d["kind"] != "question"} == {"overdue"}
    assert len(body["open_questions"]) == 1 and body["open_questions"][0]["asks"] == "ca"
