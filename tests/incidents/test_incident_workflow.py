"""Filing, triage, history, comments with safe Markdown, questions (needinfo), and bad input."""

from __future__ import annotations

import pytest

from compliance.actions import incidents as act
from compliance.domain.markdown import render
from compliance.models import Comment, Incident, Question
from config.errors import DomainError, TransitionError
from history.selectors import for_subject


@pytest.mark.django_db
def test_filing_prefixes_the_owner_and_keeps_the_description_as_comment_zero(owner_a, rep_a, reviewer):
    own = act.incident_create(actor=rep_a, ca_owner=owner_a, title="  OU   misuse ", description="**What** happened")
    assert own.title == "Acme Trust: OU misuse" and own.status == "ASSIGNED"
    assert own.comments.get().body_html == "<p><strong>What</strong> happened</p>"
    third = act.incident_create(actor=reviewer, ca_owner=owner_a, title="Acme Trust: seen on crt.sh",
                                description="x", source="third_party")
    assert third.title == "Acme Trust: seen on crt.sh" and third.status == "UNCONFIRMED"
    assert third.number == own.number + 1


@pytest.mark.django_db
def test_unknown_ca_or_missing_title_is_a_clear_error_and_nothing_is_stored(reviewer, owner_a, client_for):
    with pytest.raises(DomainError) as caught:
        act.incident_create(actor=reviewer, ca_owner=None, title="", description="")
    assert set(caught.value.errors) == {"ca_owner", "title", "description"}
    api = client_for(reviewer).post("/api/v1/incidents/", {"ca_owner": "Nobody CA", "title": "x", "description": "y"},
                                    content_type="application/json")
    assert api.status_code == 400 and "Unknown CA owner 'Nobody CA'" in api.json()["detail"]
    page = client_for(reviewer).post("/incidents/new/", {"ca_owner": "999", "title": "x", "description": "y",
                                                        "source": "third_party"})
    assert page.status_code == 200 and "Choose a known CA owner." in page.content.decode()
    assert not Incident.objects.exists()


@pytest.mark.django_db
def test_api_files_with_owner_name_and_staff_triage_over_api(owner_a, reviewer, staff, client_for):
    created = client_for(reviewer).post("/api/v1/incidents/", {
        "ca_owner": "Acme Trust", "title": "Bad OU", "description": "d", "source": "third_party"},
        content_type="application/json")
    assert created.status_code == 201
    number = created.json()["id"]
    changed = client_for(staff).patch(f"/api/v1/incidents/{number}/", {
        "status": "ASSIGNED", "whiteboard": "[ca-compliance] [ov misissuance]", "assignee": "staff"},
        content_type="application/json")
    assert changed.status_code == 200
    assert changed.json()["tags"] == ["ca-compliance", "ov-misissuance"] and changed.json()["assignee"] == "staff"
    assert client_for(reviewer).patch(f"/api/v1/incidents/{number}/", {"status": "NEW"},
                                      content_type="application/json").status_code == 403


@pytest.mark.django_db
def test_status_changes_follow_the_workflow_and_every_change_is_kept(public_a, staff, client_for):
    act.incident_update(actor=staff, incident=public_a, status="RESOLVED", resolution="FIXED",
                        whiteboard="[ca-compliance] [crl-failure]")
    with pytest.raises(TransitionError, match="cannot go from RESOLVED to ASSIGNED"):
        act.incident_update(actor=staff, incident=public_a, status="ASSIGNED")
    act.incident_update(actor=staff, incident=public_a, status="REOPENED")
    with pytest.raises(DomainError, match="needs a resolution"):
        act.incident_update(actor=staff, incident=public_a, status="RESOLVED", resolution="")
    public_a.refresh_from_db()
    assert (public_a.status, public_a.resolution) == ("REOPENED", "")
    events = list(for_subject(public_a).values_list("actor_name", "field", "old", "new"))
    assert ("staff", "status", "ASSIGNED", "RESOLVED") in events
    assert ("staff", "resolution", "", "FIXED") in events
    assert ("staff", "status", "RESOLVED", "REOPENED") in events
    assert ("staff", "resolution", "FIXED", "") in events
    api = client_for(staff).patch(f"/api/v1/incidents/{public_a.number}/", {"status": "UNCONFIRMED"},
                                  content_type="application/json")
    assert api.status_code == 409
    history = client_for(None).get(f"/incidents/{public_a.number}/history/").content.decode()
    assert "RESOLVED" in history and "crl-failure" in history


@pytest.mark.django_db
def test_a_script_in_a_comment_never_runs():
    html = render('<script>alert(1)</script> <img src=x onerror="alert(2)"> [x](javascript:alert(3)) '
                  '<a href="#" onclick="alert(4)">y</a>\n\n```\n<script>\n```')
    assert "<script" not in html and "<img" not in html and "javascript:" not in html and "<a href=\"#\"" not in html
    assert "&lt;script&gt;" in html


@pytest.mark.django_db
def test_comment_page_preview_and_post_store_sanitized_html(public_a, reviewer, client_for):
    client = client_for(reviewer)
    body = "Look: <script>alert(1)</script> and **bold**, see Bug 1234567"
    preview = client.post(f"/incidents/{public_a.number}/comment/", {"body": body, "preview": "1"})
    assert preview.status_code == 200 and "<strong>bold</strong>" in preview.content.decode()
    assert Comment.objects.filter(incident=public_a).count() == 1
    client.post(f"/incidents/{public_a.number}/comment/", {"body": body, "post": "1"})
    comment = Comment.objects.filter(incident=public_a).last()
    assert "<script>" not in comment.body_html and 'href="/incidents/1234567/"' in comment.body_html
    assert "<script>alert(1)</script>" not in client.get(f"/incidents/{public_a.number}/").content.decode()


@pytest.mark.django_db
def test_a_question_is_answered_only_by_the_asked_party(public_a, reviewer, rep_a, rep_b, staff, client_for):
    question = act.question_ask(actor=reviewer, incident=public_a, body="How many certificates?")
    named = act.question_ask(actor=staff, incident=public_a, body="Reviewer, which crt.sh query?", asked_user=reviewer)
    for intruder in (rep_b, reviewer, staff):
        with pytest.raises(DomainError, match="Only Acme Trust's representatives"):
            act.question_answer(actor=intruder, question=question, body="not mine")
    with pytest.raises(DomainError, match="Only reviewer"):
        act.question_answer(actor=rep_a, question=named, body="not mine")
    assert not Comment.objects.filter(kind="answer").exists()
    api = client_for(rep_b).post(f"/api/v1/incidents/{public_a.number}/questions/{question.pk}/answer/",
                                 {"body": "x"}, content_type="application/json")
    assert api.status_code == 403  # a refusal of who, not of what was typed
    page = client_for(rep_b).post(f"/incidents/{public_a.number}/questions/{question.pk}/answer/", {"body": "x"})
    assert page.status_code == 403 and "can answer this question" in page.content.decode()
    anonymous = client_for(None).post(f"/api/v1/incidents/{public_a.number}/questions/{question.pk}/answer/",
                                      {"body": "x"}, content_type="application/json")
    assert anonymous.status_code in (401, 403)
    ok = client_for(rep_a).post(f"/api/v1/incidents/{public_a.number}/questions/{question.pk}/answer/",
                                {"body": "12 certificates."}, content_type="application/json")
    assert ok.status_code == 201
    question.refresh_from_db()
    assert question.closed_at is not None and question.answered_by.body == "12 certificates."
    with pytest.raises(TransitionError):
        act.question_answer(actor=rep_a, question=question, body="again")


@pytest.mark.django_db
def test_questions_from_the_comment_box_ask_the_ca_and_are_never_private(public_a, reviewer, staff, client_for):
    client_for(reviewer).post(f"/incidents/{public_a.number}/comment/",
                              {"body": "Please list the serials.", "needinfo": "ca", "post": "1"})
    question = Question.objects.get()
    assert question.asked_user is None and question.comment.kind == "question"
    refused = client_for(staff).post(f"/incidents/{public_a.number}/comment/",
                                     {"body": "secret q", "needinfo": "ca", "is_private": "on", "post": "1"})
    assert refused.status_code == 400 and Question.objects.count() == 1


@pytest.mark.django_db
def test_the_list_filters_by_ca_status_tag_and_open_questions(make_incident, owner_a, owner_b, staff, reviewer,
                                                              client_for):
    a = make_incident(owner_a, title="A crl", whiteboard="[ca-compliance] [crl-failure]")
    b = make_incident(owner_b, title="B ocsp", whiteboard="[ocsp-failure]")
    act.incident_update(actor=staff, incident=b, status="RESOLVED", resolution="FIXED")
    act.question_ask(actor=reviewer, incident=a, body="?")
    client = client_for(None)

    def titles(query):
        return [r["title"] for r in client.get(f"/api/v1/incidents/?{query}").json()["results"]]

    assert titles(f"ca={owner_b.pk}") == ["Borealis PKI: B ocsp"]
    assert titles("status=open") == ["Acme Trust: A crl"]
    assert titles("tag=ocsp-failure") == ["Borealis PKI: B ocsp"]
    assert titles("open_questions=true") == ["Acme Trust: A crl"]
    assert titles("sort=number") == ["Acme Trust: A crl", "Borealis PKI: B ocsp"]
    assert client.get("/api/v1/incidents/?tag=nonsense").status_code == 400
    page = client.get("/incidents/?tag=crl-failure").content.decode()
    assert "A crl" in page and "B ocsp" not in page
