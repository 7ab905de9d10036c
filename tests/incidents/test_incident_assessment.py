"""Staff assessment: for each problem type the seed lists, the classification gives its immediate
minimum response (in the record and on the page); decisions; the distrust link."""

from __future__ import annotations

import pytest

from compliance.actions import incidents as act
from compliance.domain import responses as resp
from config.errors import DomainError, NotPermitted
from history.selectors import for_subject

CASES = [
    # classification -> the seed's problem and a phrase of its immediate minimum response
    (dict(cert_type="tls", count=3, enumerable=True), "tls_few_enumerable", "set of TLS certificates in Firefox"),
    (dict(cert_type="email", count=3, enumerable=True), "email_few_enumerable", "email certificates in Thunderbird"),
    (dict(cert_type="tls", count=400, enumerable=True), "end_entity_many_enumerable", "Open a CA compliance"),
    (dict(cert_type="email", count=None, enumerable=False), "end_entity_unknown_unenumerated",
     "intermediate and root certificates"),
    (dict(cert_type="intermediate", count=2, enumerable=True), "intermediate_few_enumerable",
     "Actively distrust the intermediate certificates"),
    (dict(cert_type="intermediate", count=None, enumerable=None), "intermediate_unknown_unenumerated",
     "Actively distrust the root certificate"),
    (dict(audit_problem=True), "audit_documentation", "request that the CA respond with remediation plans"),
]


def test_the_cases_cover_every_problem_the_seed_lists():
    assert {problem for _, problem, _ in CASES} == {str(p) for p in resp.Problem}


@pytest.mark.django_db
@pytest.mark.parametrize("classification,problem,phrase", CASES, ids=[c[1] for c in CASES])
def test_classification_gives_the_seeds_immediate_minimum_response(classification, problem, phrase, public_a, staff,
                                                                   client_for):
    assessment = act.assessment_save(actor=staff, incident=public_a, **classification)
    assert assessment.problem == problem
    assert phrase in resp.RESPONSES[resp.Problem(problem)].immediate_minimum
    page = client_for(staff).get(f"/incidents/{public_a.number}/assessment/").content.decode()
    applies = page.split('class="applies"')[1].split("</tr>")[0]
    assert phrase in applies
    assert page.count('class="applies"') == 1
    # Every problem of the seed is listed with its response and what else to consider.
    for response in resp.RESPONSES.values():
        assert response.immediate_minimum.replace("'", "&#x27;") in page


@pytest.mark.django_db
def test_considerations_are_stored_per_incident_and_changes_are_staff_only_history(public_a, staff, client_for):
    act.assessment_save(actor=staff, incident=public_a, cert_type="tls", count=5, enumerable=True,
                        considerations={"red_flags.deception": {"answer": "no", "note": "Forthcoming."}})
    public_a.assessment.refresh_from_db()
    assert public_a.assessment.considerations == {"red_flags.deception": {"answer": "no", "note": "Forthcoming."}}
    assert for_subject(public_a).filter(field="assessment.problem", staff_only=True).exists()
    history = client_for(None).get(f"/incidents/{public_a.number}/history/").content.decode()
    assert "assessment" not in history


@pytest.mark.django_db
def test_bad_assessment_input_changes_nothing(public_a, staff):
    with pytest.raises(DomainError, match="count"):
        act.assessment_save(actor=staff, incident=public_a, cert_type="tls", count=0, enumerable=True)
    with pytest.raises(DomainError, match="not one of the seed"):
        act.assessment_save(actor=staff, incident=public_a, considerations={"made.up": {"answer": "yes"}})
    from compliance.models import Assessment

    assert not Assessment.objects.exists()


@pytest.mark.django_db
def test_only_staff_assess_or_decide(public_a, rep_a, reviewer):
    for user in (rep_a, reviewer):
        with pytest.raises(NotPermitted):
            act.assessment_save(actor=user, incident=public_a, cert_type="tls", count=1, enumerable=True)
        with pytest.raises(NotPermitted):
            act.decision_record(actor=user, incident=public_a, action="no_action")


@pytest.mark.django_db
def test_a_decision_to_actively_distrust_links_to_a_new_distrust_action(public_a, staff, client_for):
    from distrust.models import DistrustAction

    act.decision_record(actor=staff, incident=public_a, action="distrust_intermediate", note="Per the seed.",
                        is_private=False)
    action = DistrustAction.objects.create(title="Distrust Acme intermediates")
    action.incidents.add(public_a)
    page = client_for(staff).get(f"/incidents/{public_a.number}/assessment/").content.decode()
    assert f'href="/distrust/new/?incident={public_a.number}"' in page
    assert "Distrust Acme intermediates" in page
    detail = client_for(None).get(f"/incidents/{public_a.number}/").content.decode()
    assert "distrust_intermediate" in detail and "Distrust Acme intermediates" in detail
    assert "/distrust/new/" not in detail  # only staff get the link
