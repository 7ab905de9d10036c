"""Shared data for incident tests (import as `import incident_helpers`)."""

from __future__ import annotations


def full_report_data(**overrides) -> dict:
    """A complete, valid IRG full report (every field filled or N/A)."""
    data = {
        "ca_owner_ccadb_id": "A000001",
        "incident_description": "Certificates were issued with an OU attribute.",
        "non_compliance_start_date": "2024-01-02",
        "non_compliance_identified_date": "2024-02-01",
        "non_compliance_end_date": "2024-02-02",
        "relevant_policies": "TLS BR v2.0.2 section 7.1.4.3",
        "source_of_disclosure": "Third Party Reported",
        "total_certificates": "2",
        "total_remaining_valid": "0",
        "affected_certificate_types": "OV TLS",
        "incident_heuristic": "OU present",
        "issuance_stopped": "Yes, until the fix was deployed.",
        "analysis": "N/A",
        "additional_considerations": "N/A",
        "timeline": [{"at": "2024-02-01 09:30", "event": "Third party report received."}],
        "related_incidents": "N/A",
        "root_causes": [{"description": "The linter did not check OU.", "timeline": "Since 2021.",
                         "detection": "Third party report.", "interaction": "N/A"}],
        "went_well": "Quick stop.",
        "went_badly": "Linting gap.",
        "got_lucky": "N/A",
        "lessons_additional": "N/A",
        "action_items": [{"action_item": "Add OU lint", "kind": "Prevent", "root_causes": "#1",
                          "evaluation_criteria": "Lint blocks OU", "due_date": "2024-03-01", "status": "Ongoing"}],
        "appendix": "N/A",
    }
    data.update(overrides)
    return data
