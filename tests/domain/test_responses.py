"""The seed's problem -> immediate minimum response table."""

from __future__ import annotations

import pytest

from compliance.domain.responses import (
    ACTIONS,
    CONSIDERATION_GROUPS,
    CONSIDERATIONS,
    LARGE_COUNT_THRESHOLD,
    RESPONSES,
    Classification,
    Problem,
    ResponseError,
    classify,
)


def _response(**classification):
    return RESPONSES[classify(Classification(**classification))]


def test_few_enumerable_tls_certs_are_distrusted_in_firefox():
    response = _response(cert_type="tls", count=3, enumerable=True)
    assert classify(Classification("tls", 3, True)) is Problem.TLS_FEW_ENUMERABLE
    assert response.actions == ("distrust_certificates", "push_update_firefox")
    assert response.immediate_minimum.startswith("Actively distrust that set of TLS certificates")
    assert response.suggests_active_distrust


def test_few_enumerable_email_certs_are_distrusted_in_thunderbird():
    response = _response(cert_type="email", count=12, enumerable=True)
    assert response.immediate_minimum == (
        "Actively distrust that set of email certificates in Thunderbird, "
        "and push out an update to Thunderbird."
    )
    assert response.actions == ("distrust_certificates", "push_update_thunderbird")
    assert response.consider_actions == ("distrust_intermediate", "distrust_root")


def test_hundreds_of_enumerable_end_entity_certs_get_a_compliance_bug_and_report_not_distrust():
    response = _response(cert_type="tls", count=LARGE_COUNT_THRESHOLD, enumerable=True)
    assert response.immediate_minimum == "Open a CA compliance and request an incident report."
    assert response.actions == ("open_compliance_bug", "request_incident_report")
    assert "onecrl_intermediate" in response.consider_actions
    assert not response.suggests_active_distrust


def test_just_under_the_threshold_is_still_a_small_set():
    assert classify(Classification("email", LARGE_COUNT_THRESHOLD - 1, True)) is Problem.EMAIL_FEW_ENUMERABLE
    assert classify(Classification("email", LARGE_COUNT_THRESHOLD, True)) is Problem.END_ENTITY_MANY_ENUMERABLE


def test_unenumerated_end_entity_certs_distrust_intermediate_and_root_in_all_products():
    response = _response(cert_type="tls", count=None, enumerable=False)
    assert response.actions == ("distrust_intermediate", "distrust_root", "push_update_all_products")
    assert response.consider_actions == ("distrust_all_roots",)
    assert response.suggests_active_distrust


def test_not_yet_known_enumerability_is_treated_as_unenumerated():
    assert classify(Classification("email", 40, None)) is Problem.END_ENTITY_UNKNOWN_UNENUMERATED


def test_few_enumerable_intermediates_are_distrusted_in_all_products():
    response = _response(cert_type="intermediate", count=2, enumerable=True)
    assert response.immediate_minimum == (
        "Actively distrust the intermediate certificates, and push out an update to all Mozilla products."
    )
    assert response.actions == ("distrust_intermediate", "push_update_all_products")


def test_unenumerated_intermediates_distrust_the_root():
    response = _response(cert_type="intermediate", count=None, enumerable=False)
    assert response.actions == ("distrust_root", "push_update_all_products")
    assert response.immediate_minimum.startswith("Actively distrust the root certificate")


def test_audit_problem_asks_for_remediation_plan_and_report_and_may_require_new_audits():
    response = _response(cert_type=None, count=None, enumerable=None, audit_problem=True)
    assert response.actions == ("open_compliance_bug", "request_remediation_plan", "request_incident_report")
    assert response.consider_actions == ("require_new_pot_audits",)
    assert not response.suggests_active_distrust


def test_every_problem_has_a_response_with_known_actions():
    assert set(RESPONSES) == set(Problem)
    for response in RESPONSES.values():
        assert set(response.actions) | set(response.consider_actions) <= set(ACTIONS)
        assert response.immediate_minimum and response.consider


@pytest.mark.parametrize(
    "classification",
    [
        Classification(None, 3, True),
        Classification("tls", None, True),
        Classification("tls", 0, True),
        Classification("code-signing", 3, True),  # type: ignore[arg-type]
    ],
)
def test_unclassifiable_input_raises_response_error_naming_it(classification):
    with pytest.raises(ResponseError, match="classification"):
        classify(classification)


def test_considerations_have_unique_keys_in_known_groups_and_valid_parents():
    keys = [c.key for c in CONSIDERATIONS]
    assert len(keys) == len(set(keys))
    assert {c.group for c in CONSIDERATIONS} == set(CONSIDERATION_GROUPS)
    assert all(c.parent in keys for c in CONSIDERATIONS if c.parent)
    assert sum(c.group == "red_flags" for c in CONSIDERATIONS) == 3
    assert sum(c.group == "response_factors" for c in CONSIDERATIONS) == 6
