"""The seed's "Potential Problems, Prevention, Response" as data.

Source: Mozilla wiki "CA/Maintenance and Enforcement" (obsoleted 2025-05-07,
still the process Rootwatch serves). Texts are the seed's wording; the
machine-readable ``actions`` let the distrust workflow propose its steps.
The list is non-binding: it tells staff what to expect, staff decide.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal

__all__ = [
    "ACTIONS",
    "CONSIDERATIONS",
    "CONSIDERATION_GROUPS",
    "LARGE_COUNT_THRESHOLD",
    "RESPONSES",
    "Classification",
    "Consideration",
    "Problem",
    "Response",
    "ResponseError",
    "classify",
]


class ResponseError(ValueError):
    """A classification that does not describe any problem of the seed."""


class Problem(StrEnum):
    TLS_FEW_ENUMERABLE = "tls_few_enumerable"
    EMAIL_FEW_ENUMERABLE = "email_few_enumerable"
    END_ENTITY_MANY_ENUMERABLE = "end_entity_many_enumerable"
    END_ENTITY_UNKNOWN_UNENUMERATED = "end_entity_unknown_unenumerated"
    INTERMEDIATE_FEW_ENUMERABLE = "intermediate_few_enumerable"
    INTERMEDIATE_UNKNOWN_UNENUMERATED = "intermediate_unknown_unenumerated"
    AUDIT_DOCUMENTATION = "audit_documentation"


# Machine-readable actions; the distrust and incident workflows key on them.
ACTIONS: dict[str, str] = {
    "distrust_certificates": "Actively distrust the mis-issued certificates",
    "distrust_intermediate": "Actively distrust the intermediate certificate(s)",
    "distrust_root": "Actively distrust the root certificate",
    "distrust_all_roots": "Distrust all of the root certificates owned by the CA",
    "onecrl_intermediate": "Add the intermediate CA certificate(s) to OneCRL",
    "open_compliance_bug": "Open a CA compliance bug",
    "request_incident_report": "Request an incident report",
    "request_remediation_plan": "Request that the CA respond with remediation plans",
    "require_new_pot_audits": "Require new period-of-time audits once the problems are resolved",
    "push_update_firefox": "Push out an update to Firefox",
    "push_update_thunderbird": "Push out an update to Thunderbird",
    "push_update_all_products": "Push out an update to all Mozilla products",
}

_DISTRUST_ACTIONS = frozenset(
    {"distrust_certificates", "distrust_intermediate", "distrust_root", "distrust_all_roots"}
)


@dataclass(frozen=True)
class Response:
    problem_text: str
    immediate_minimum: str
    consider: tuple[str, ...]
    actions: tuple[str, ...]
    consider_actions: tuple[str, ...]
    # Derived from ``actions`` so the flag can never disagree with them.
    suggests_active_distrust: bool = field(init=False)

    def __post_init__(self) -> None:
        unknown = [a for a in (*self.actions, *self.consider_actions) if a not in ACTIONS]
        if unknown:
            raise ResponseError(f"response {self.problem_text!r}: unknown actions {unknown}")
        distrust = any(action in _DISTRUST_ACTIONS for action in self.actions)
        object.__setattr__(self, "suggests_active_distrust", distrust)


_CONSIDER_DISTRUST_CHAIN = (
    "Depending on the situation, also consider distrusting the intermediate or root "
    "certificate that the mis-issued certificates chain up to."
)

RESPONSES: dict[Problem, Response] = {
    # The seed lists this problem with no response text of its own (the e-mail
    # paragraph follows it directly). The response mirrors the e-mail one for
    # the product that relies on TLS trust: distrust that set of certificates
    # in Firefox (OneCRL/NSS) and push an update.
    Problem.TLS_FEW_ENUMERABLE: Response(
        problem_text="CA mis-issued a small number of TLS certificates that they can enumerate",
        immediate_minimum=(
            "Actively distrust that set of TLS certificates in Firefox, "
            "and push out an update to Firefox."
        ),
        consider=(_CONSIDER_DISTRUST_CHAIN,),
        actions=("distrust_certificates", "push_update_firefox"),
        consider_actions=("distrust_intermediate", "distrust_root"),
    ),
    Problem.EMAIL_FEW_ENUMERABLE: Response(
        problem_text="CA mis-issued a small number of email certificates that they can enumerate",
        immediate_minimum=(
            "Actively distrust that set of email certificates in Thunderbird, "
            "and push out an update to Thunderbird."
        ),
        consider=(_CONSIDER_DISTRUST_CHAIN,),
        actions=("distrust_certificates", "push_update_thunderbird"),
        consider_actions=("distrust_intermediate", "distrust_root"),
    ),
    Problem.END_ENTITY_MANY_ENUMERABLE: Response(
        problem_text=(
            "CA mis-issued a large number (e.g. hundreds) of end-entity certificates "
            "that they can enumerate"
        ),
        # Verbatim: the seed omits "bug" after "CA compliance".
        immediate_minimum="Open a CA compliance and request an incident report.",
        consider=(
            "Depending on the situation, also consider adding the intermediate CA "
            "certificate(s) to OneCRL, distrusting the root certificate that the "
            "mis-issued certificates chain up to, or all of the root certificates "
            "owned by that CA.",
        ),
        actions=("open_compliance_bug", "request_incident_report"),
        consider_actions=("onecrl_intermediate", "distrust_root", "distrust_all_roots"),
    ),
    Problem.END_ENTITY_UNKNOWN_UNENUMERATED: Response(
        problem_text=(
            "CA mis-issued an unknown number of un-enumerated end-entity certificates"
        ),
        immediate_minimum=(
            "Actively distrust the intermediate and root certificates that the "
            "mis-issued certificates chain up to, and push out an update to all "
            "Mozilla products."
        ),
        consider=(
            "Depending on the situation, also consider distrusting all of the root "
            "certificates owned by that CA.",
        ),
        actions=("distrust_intermediate", "distrust_root", "push_update_all_products"),
        consider_actions=("distrust_all_roots",),
    ),
    Problem.INTERMEDIATE_FEW_ENUMERABLE: Response(
        problem_text=(
            "CA mis-issued a small number of intermediate certificates that they can enumerate"
        ),
        immediate_minimum=(
            "Actively distrust the intermediate certificates, and push out an "
            "update to all Mozilla products."
        ),
        consider=(
            "Depending on the situation, also consider distrusting the root "
            "certificate or all of the root certificates owned by that CA.",
        ),
        actions=("distrust_intermediate", "push_update_all_products"),
        consider_actions=("distrust_root", "distrust_all_roots"),
    ),
    Problem.INTERMEDIATE_UNKNOWN_UNENUMERATED: Response(
        problem_text=(
            "CA mis-issued an unknown number of un-enumerated intermediate certificates"
        ),
        immediate_minimum=(
            "Actively distrust the root certificate, and push out an update to all "
            "Mozilla products."
        ),
        consider=(
            "Depending on the situation, also consider distrusting all of the root "
            "certificates owned by that CA.",
        ),
        actions=("distrust_root", "push_update_all_products"),
        consider_actions=("distrust_all_roots",),
    ),
    Problem.AUDIT_DOCUMENTATION: Response(
        problem_text=(
            "CA failed to supply proper audit documentation, or audit report "
            "contains numerous and/or serious qualifications"
        ),
        immediate_minimum=(
            "File a CA compliance bug, request that the CA respond with remediation "
            "plans, and request an incident report"
        ),
        consider=(
            "Depending on the situation, also consider requiring the CA to undergo "
            "new period-of-time audits as soon as the problems have been resolved.",
            "If the same problems are included on the new audit reports, they must "
            "state the dates on which the problems were resolved.",
        ),
        actions=("open_compliance_bug", "request_remediation_plan", "request_incident_report"),
        consider_actions=("require_new_pot_audits",),
    ),
}

# The seed calls "hundreds" a large number. Below 100 certificates, listing
# each one in OneCRL / NSS is still practical and is the seed's response for a
# small set; from 100 on, the response moves to an incident report and to
# distrusting issuers instead.
LARGE_COUNT_THRESHOLD = 100

CertType = Literal["tls", "email", "intermediate"]


@dataclass(frozen=True)
class Classification:
    cert_type: CertType | None
    count: int | None
    enumerable: bool | None
    audit_problem: bool = False


def classify(c: Classification) -> Problem:
    """Map a classified incident to the seed's problem.

    ``enumerable`` None (not known yet) is treated like False: until the CA
    has enumerated the certificates, the un-enumerated response applies. Any
    enumerable set of intermediates is the "few intermediates" problem: the
    seed has no "many intermediates" entry, and distrusting a listed set of
    intermediates works at any size.
    """
    if c.audit_problem:
        return Problem.AUDIT_DOCUMENTATION
    if c.cert_type not in ("tls", "email", "intermediate"):
        raise ResponseError(
            f"classification {c!r}: cert_type must be tls, email or intermediate "
            "(or audit_problem set)"
        )
    if not c.enumerable:
        if c.cert_type == "intermediate":
            return Problem.INTERMEDIATE_UNKNOWN_UNENUMERATED
        return Problem.END_ENTITY_UNKNOWN_UNENUMERATED
    if c.count is None or isinstance(c.count, bool) or not isinstance(c.count, int):
        raise ResponseError(f"classification {c!r}: an enumerable set needs a count")
    if c.count < 1:
        raise ResponseError(f"classification {c!r}: count must be at least 1")
    if c.cert_type == "intermediate":
        return Problem.INTERMEDIATE_FEW_ENUMERABLE
    if c.count >= LARGE_COUNT_THRESHOLD:
        return Problem.END_ENTITY_MANY_ENUMERABLE
    if c.cert_type == "tls":
        return Problem.TLS_FEW_ENUMERABLE
    return Problem.EMAIL_FEW_ENUMERABLE


@dataclass(frozen=True)
class Consideration:
    key: str
    group: str
    text: str
    # Key of the question this one refines (the seed nests some of them).
    parent: str | None = None


CONSIDERATION_GROUPS: dict[str, str] = {
    "magnitude": "Magnitude of the threat",
    "ca_behavior": "CA behavior",
    "red_flags": "Red flags",
    "response_factors": "Incident response factors",
}

CONSIDERATIONS: tuple[Consideration, ...] = (
    Consideration(
        "magnitude.attack_use",
        "magnitude",
        "How can the threat or mis-issuance be used by a hacker to put end-users at risk?",
    ),
    Consideration(
        "magnitude.ca_prevented_impact",
        "magnitude",
        "Has all appropriate action been taken by the CA to prevent further impact to end-users?",
    ),
    Consideration(
        "magnitude.mozilla_actions_needed",
        "magnitude",
        "What additional actions does Mozilla need to take to protect end-users from the "
        "threat or mis-issuance?",
    ),
    Consideration(
        "magnitude.user_impact_of_actions",
        "magnitude",
        "How will end-users be impacted by Mozilla actions?",
        parent="magnitude.mozilla_actions_needed",
    ),
    Consideration(
        "magnitude.narrower_action",
        "magnitude",
        "Can Mozilla take a different action that will protect end-users, but confine "
        "noticeable impact to the smallest group possible?",
        parent="magnitude.mozilla_actions_needed",
    ),
    Consideration(
        "magnitude.action_worse_than_threat",
        "magnitude",
        "Will Mozilla's actions have a worse impact on end-users than the current threat "
        "or mis-issuance?",
        parent="magnitude.mozilla_actions_needed",
    ),
    Consideration(
        "ca_behavior.noticed_error_timely",
        "ca_behavior",
        "Did the CA notice the error and take appropriate action in a timely manner?",
    ),
    Consideration(
        "ca_behavior.error_contained",
        "ca_behavior",
        "Was the threat or error properly contained?",
        parent="ca_behavior.noticed_error_timely",
    ),
    Consideration(
        "ca_behavior.noticed_intrusion_timely",
        "ca_behavior",
        "Did the CA notice the hacker intrusion and take appropriate action in a timely manner?",
    ),
    Consideration(
        "ca_behavior.defenses_sufficient",
        "ca_behavior",
        "Were the CA's defense mechanisms current and sufficient?",
        parent="ca_behavior.noticed_intrusion_timely",
    ),
    Consideration(
        "ca_behavior.intrusion_contained",
        "ca_behavior",
        "Was the intrusion appropriately contained?",
        parent="ca_behavior.noticed_intrusion_timely",
    ),
    Consideration("ca_behavior.reckless", "ca_behavior", "Was the CA's behavior reckless?"),
    Consideration(
        "ca_behavior.cover_up",
        "ca_behavior",
        "Did the CA try to cover up the mistake/threat rather than follow Mozilla's "
        "Security Policy?",
    ),
    Consideration(
        "red_flags.deliberate_violation",
        "red_flags",
        "Deliberate violation of Mozilla or other applicable policy",
    ),
    Consideration("red_flags.deception", "red_flags", "Lying or deception"),
    Consideration(
        "red_flags.concealment",
        "red_flags",
        "Concealing or failing to disclose the full extent of a problem",
    ),
    Consideration(
        "response_factors.responsibility",
        "response_factors",
        "A CA takes responsibility for their own actions.",
    ),
    Consideration(
        "response_factors.seriousness",
        "response_factors",
        "Incidents are taken with an appropriate level of seriousness.",
    ),
    Consideration(
        "response_factors.urgency", "response_factors", "Incidents are handled with urgency."
    ),
    Consideration(
        "response_factors.root_cause_analysis",
        "response_factors",
        "Root cause analysis is performed.",
    ),
    Consideration(
        "response_factors.questions_answered",
        "response_factors",
        "Any questions posed, by anyone, are answered quickly and in detail.",
    ),
    Consideration(
        "response_factors.public_report",
        "response_factors",
        "A reasonably-detailed incident report is made public on what happened, why, and "
        "how things have changed to make sure it won't happen again.",
    ),
)
