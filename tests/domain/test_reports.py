"""IRG v3 report templates: validation, Markdown rendering, appendix CSV, version diffs."""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime

import pytest

from compliance.domain.reports import (
    AFFECTED_CSV_COLUMNS,
    AFFECTED_CSV_MAX_ROWS,
    NA,
    TEMPLATES,
    FieldChange,
    ReportError,
    ReportKind,
    diff_reports,
    parse_affected_csv,
    render_markdown,
    validate,
)

SHA_A = "5C" * 32
SHA_B = "a1:" * 31 + "a1"
CSV_HEADER = ",".join(
    f'"{c}"' if "," in c else c for c in AFFECTED_CSV_COLUMNS
)


def _csv(*rows: str) -> str:
    return "\n".join([CSV_HEADER, *rows]) + "\n"


GOOD_ROW = (
    f"{SHA_A},,CN=shop.example,CN=Example Issuing CA 1,2024-01-02T00:00:00Z,2024-04-01T23:59:59Z,"
    "0a:1b:2c,shop.example www.shop.example,yes,2024-02-03T10:00:00Z,superseded"
)


def full_report_data() -> dict:
    return {
        "ca_owner_ccadb_id": "A001234",
        "incident_description": "Certificates were issued with a | in the OU.\nSecond line.",
        "non_compliance_start_date": "2024-01-02",
        "non_compliance_identified_date": "2024-02-01",
        "non_compliance_end_date": "2024-02-02",
        "relevant_policies": "TLS BR v2.0.2 section 7.1.4.3",
        "source_of_disclosure": "third party reported",
        "total_certificates": "1,204",
        "total_remaining_valid": 0,
        "affected_certificate_types": "OV TLS",
        "incident_heuristic": "OU present in certificates from Example Issuing CA 1",
        "issuance_stopped": "Yes, on 2024-02-01 at 10:12 UTC, until the fix was deployed.",
        "analysis": "n/a",
        "additional_considerations": "N/A",
        "timeline": [
            {"at": "2024-02-01 09:30 UTC", "event": "Third party report received."},
            {"at": datetime(2024, 2, 1, 10, 12, 45, tzinfo=UTC), "event": "Issuance stopped."},
        ],
        "related_incidents": [
            {"bug": "1890123", "date": "2023-05-04", "description": "Another CA's OU | misuse"},
        ],
        "root_causes": [
            {
                "description": "The linter did not check OU.",
                "timeline": "Since the 2021 profile change.",
                "detection": "Third party report.",
                "interaction": "N/A",
            }
        ],
        "went_well": "Quick stop of issuance.",
        "went_badly": "Linting gap.",
        "got_lucky": "N/A",
        "lessons_additional": "N/A",
        "action_items": [
            {
                "action_item": "Add OU lint",
                "kind": "prevent",
                "root_causes": "Root Cause #1",
                "evaluation_criteria": "Lint rejects OU in test issuance",
                "due_date": "2024-03-01",
                "status": "Ongoing",
            },
            {
                "action_item": "Monitor CT for OU",
                "kind": "Detect",
                "root_causes": "Root Cause #1",
                "evaluation_criteria": "Daily CT scan alerts",
                "due_date": date(2024, 4, 1),
                "status": "Delayed",
            },
        ],
        "appendix": _csv(GOOD_ROW),
    }


def test_complete_full_report_renders_to_the_posted_markdown():
    clean = validate("full", full_report_data())
    markdown = render_markdown("full", clean)
    lines = markdown.split("\n")
    headings = [line for line in lines if line.startswith("#")]
    assert headings == [
        "## Full Incident Report",
        "### Summary",
        "### Impact",
        "### Timeline",
        "### Related Incidents",
        "### Root Cause Analysis",
        "#### Contributing Factor #1",
        "### Lessons Learned",
        "### Action Items",
        "### Appendix",
    ]
    assert "- **CA Owner CCADB unique ID:** A001234" in lines
    assert "- **Incident description:** Certificates were issued with a | in the OU." in lines
    assert "  Second line." in lines
    assert "- **Timeline summary:**" in lines
    assert "  - **Non-compliance start date:** 2024-01-02" in lines
    assert "- **Source of incident disclosure:** Third Party Reported" in lines
    assert "- **Total number of certificates:** 1204" in lines
    assert "- **Analysis:** N/A" in lines
    assert "- 2024-02-01 10:12 UTC: Issuance stopped." in lines
    assert "| 1890123 | 2023-05-04 | Another CA's OU \\| misuse |" in lines
    assert "- **Interaction with other factors:** N/A" in lines
    assert (
        "| Action Item | Kind | Corresponding Root Cause(s) | Evaluation Criteria | Due Date | Status |"
        in lines
    )
    assert "| Add OU lint | Prevent | Root Cause #1 | Lint rejects OU in test issuance | 2024-03-01 | Ongoing |" in lines
    assert "```csv" in lines
    assert markdown == render_markdown("full", validate("full", full_report_data())), "not deterministic"
    assert markdown.endswith("```\n")


def test_clean_report_round_trips_through_its_json_form():
    clean = validate("full", full_report_data())
    again = validate("full", clean.to_data())
    assert again.values == clean.values
    assert clean.affected[0].serial_hex == "0A1B2C"


def test_missing_field_and_bad_ccadb_id_are_reported_per_field():
    data = full_report_data()
    data["ca_owner_ccadb_id"] = "A12345"
    del data["relevant_policies"]
    data["went_well"] = "   "
    with pytest.raises(ReportError) as caught:
        validate("full", data)
    errors = caught.value.errors
    assert set(errors) == {"ca_owner_ccadb_id", "relevant_policies", "went_well"}
    assert '"A" followed by 6 digits' in errors["ca_owner_ccadb_id"][0]
    assert errors["relevant_policies"] == ['required: fill it in or write "N/A"']


def test_na_is_refused_where_the_report_needs_a_value():
    data = full_report_data()
    data["action_items"] = "N/A"
    data["ca_owner_ccadb_id"] = "n/a"
    with pytest.raises(ReportError) as caught:
        validate("full", data)
    assert caught.value.errors["action_items"] == ['"N/A" is not accepted here']
    assert caught.value.errors["ca_owner_ccadb_id"] == ['"N/A" is not accepted here']


def test_full_report_needs_at_least_one_action_item():
    data = full_report_data()
    data["action_items"] = []
    with pytest.raises(ReportError) as caught:
        validate("full", data)
    assert caught.value.errors["action_items"] == ["needs at least 1 row(s), got 0"]


def test_bad_enum_date_and_table_cells_are_reported_with_row_numbers():
    data = full_report_data()
    data["action_items"][1]["status"] = "Done"
    data["action_items"][1]["due_date"] = "2024-02-30"
    data["timeline"][0]["at"] = "2024-02-01 09:30 CET"
    data["source_of_disclosure"] = "Twitter"
    data["total_remaining_valid"] = "5000"
    with pytest.raises(ReportError) as caught:
        validate("full", data)
    errors = caught.value.errors
    assert "Ongoing, Complete, Delayed, Canceled" in errors["action_items[2].status"][0]
    assert "not a real date" in errors["action_items[2].due_date"][0]
    assert "YYYY-MM-DD HH:MM" in errors["timeline[1].at"][0]
    assert "Self Reported" in errors["source_of_disclosure"][0]
    assert errors["total_remaining_valid"] == ["5000 remaining valid is more than the 1204 affected"]


def test_unknown_field_is_reported_instead_of_ignored():
    data = full_report_data() | {"severity": "high"}
    with pytest.raises(ReportError) as caught:
        validate("full", data)
    assert caught.value.errors == {"severity": ["not a field of the full report"]}


def test_bad_appendix_csv_fails_the_report_with_its_row():
    data = full_report_data()
    data["appendix"] = _csv(GOOD_ROW.replace(SHA_A, "XYZ"))
    with pytest.raises(ReportError) as caught:
        validate("full", data)
    assert list(caught.value.errors) == ["appendix.row 1"]


def test_appendix_may_be_crt_sh_urls_instead_of_csv():
    data = full_report_data()
    data["appendix"] = "https://crt.sh/?id=1\nhttps://crt.sh/?id=2"
    clean = validate("full", data)
    assert clean.affected == ()
    assert render_markdown("full", clean).endswith("### Appendix\n\nhttps://crt.sh/?id=1\nhttps://crt.sh/?id=2\n")


def test_preliminary_and_closure_reports_have_their_own_fields():
    preliminary = validate(
        ReportKind.PRELIMINARY,
        {"incident_description": "x", "relevant_policies": "N/A", "source_of_disclosure": "Audit"},
    )
    assert render_markdown("preliminary", preliminary) == (
        "## Preliminary Incident Report\n\n### Summary\n\n"
        "- **Incident description:** x\n- **Relevant policies:** N/A\n"
        "- **Source of incident disclosure:** Audit\n"
    )
    closure_keys = [f.key for f in TEMPLATES[ReportKind.CLOSURE].fields()]
    assert closure_keys == [
        "incident_description",
        "incident_root_causes",
        "remediation_description",
        "commitment_summary",
    ]


def test_unknown_report_kind_is_refused():
    with pytest.raises(ReportError, match="unknown report kind 'final'"):
        validate("final", {})


def test_csv_with_bad_fingerprint_and_bad_date_reports_both_row_numbers():
    text = _csv(
        GOOD_ROW,
        GOOD_ROW.replace(SHA_A, "12345"),
        GOOD_ROW.replace(SHA_A, SHA_B).replace("2024-01-02T00:00:00Z", "02/01/2024"),
    )
    with pytest.raises(ReportError) as caught:
        parse_affected_csv(text)
    errors = caught.value.errors
    assert set(errors) == {"row 2", "row 3"}
    assert errors["row 2"] == ["Precertificate SHA-256: expected 64 hex digits, got '12345'"]
    assert errors["row 3"][0].startswith("Not before: expected a UTC date")


def test_csv_rows_parse_into_normalised_values():
    text = _csv(GOOD_ROW, GOOD_ROW.replace(SHA_A, SHA_B).replace(",yes,2024-02-03T10:00:00Z,superseded", ",No,,"))
    first, second = parse_affected_csv(text)
    assert first.precertificate_sha256 == SHA_A and first.certificate_sha256 is None
    assert first.dns_names == ("shop.example", "www.shop.example")
    assert first.is_revoked and first.revocation_reason == "superseded"
    assert first.revocation_date == datetime(2024, 2, 3, 10, 0, tzinfo=UTC)
    assert second.precertificate_sha256 == "A1" * 32
    assert not second.is_revoked and second.revocation_date is None


def test_csv_revoked_without_date_and_unrevoked_with_reason_are_errors():
    text = _csv(
        GOOD_ROW.replace("2024-02-03T10:00:00Z", ""),
        GOOD_ROW.replace(SHA_A, SHA_B).replace(",yes,", ",no,"),
    )
    with pytest.raises(ReportError) as caught:
        parse_affected_csv(text)
    assert caught.value.errors["row 1"][0].startswith("Revocation date: expected")
    assert caught.value.errors["row 2"] == ["not revoked, but has a revocation date or reason"]


def test_csv_with_missing_column_is_refused_at_the_header():
    with pytest.raises(ReportError) as caught:
        parse_affected_csv("Subject,Issuer\nCN=a,CN=b\n")
    assert caught.value.errors["header"][0].startswith("missing column(s): Precertificate SHA-256")


def test_csv_over_the_irg_limit_asks_for_crt_sh_urls():
    rows = [
        GOOD_ROW.replace(SHA_A, f"{n:064X}") for n in range(AFFECTED_CSV_MAX_ROWS + 1)
    ]
    with pytest.raises(ReportError, match="crt.sh URLs"):
        parse_affected_csv(_csv(*rows))


def test_csv_duplicate_certificate_is_reported():
    with pytest.raises(ReportError) as caught:
        parse_affected_csv(_csv(GOOD_ROW, GOOD_ROW))
    assert caught.value.errors == {"row 2": ["same certificate as row 1"]}


def test_diff_shows_a_changed_action_item_status():
    old_data = full_report_data()
    new_data = copy.deepcopy(old_data)
    new_data["action_items"][0]["status"] = "Complete"
    changes = diff_reports(validate("full", old_data), validate("full", new_data))
    assert changes == [FieldChange("action_items[1].status", "Ongoing", "Complete")]


def test_diff_matches_action_items_by_text_not_position():
    old_data = full_report_data()
    new_data = copy.deepcopy(old_data)
    new_row = dict(new_data["action_items"][0], action_item="Train staff", kind="Mitigate")
    new_data["action_items"].insert(0, new_row)
    new_data["total_remaining_valid"] = "N/A"
    changes = diff_reports(validate("full", old_data), validate("full", new_data))
    assert [c.field for c in changes] == ["total_remaining_valid", "action_items[1]"]
    assert changes[0] == FieldChange("total_remaining_valid", 0, NA)
    assert changes[1].old is None and changes[1].new["action_item"] == "Train staff"


def test_diff_reports_a_removed_timeline_entry():
    old_data = full_report_data()
    new_data = copy.deepcopy(old_data)
    del new_data["timeline"][0]
    changes = diff_reports(validate("full", old_data), validate("full", new_data))
    assert changes == [
        FieldChange("timeline[1]", {"at": "2024-02-01 09:30", "event": "Third party report received."}, None)
    ]


def test_identical_versions_have_no_changes():
    assert diff_reports(validate("full", full_report_data()), validate("full", full_report_data())) == []


def test_table_cells_escape_pipes_even_after_backslashes_and_keep_line_breaks():
    data = full_report_data()
    data["related_incidents"][0]["description"] = "uses a\\|b\nand *more*"
    markdown = render_markdown("full", validate("full", data))
    assert "| 1890123 | 2023-05-04 | uses a\\\\\\|b<br>and *more* |" in markdown.split("\n")
