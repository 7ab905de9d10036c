"""Audit criteria parsing, fingerprints and compliance checks (pure, no Django)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest

from audits.domain.checks import (
    NUMEROUS_QUALIFICATIONS,
    SERIOUS_QUALIFICATIONS_ACTION,
    SERIOUS_QUALIFICATIONS_CONSIDER,
    AuditError,
    CertInScope,
    Statement,
    add_one_year,
    current_statements,
    late_statement,
    period_gap,
    period_too_long,
    point_in_time_where_period_due,
    run_checks,
    serious_qualifications,
    unapproved_auditor,
    uncovered_certificate,
    validate_statement,
)
from audits.domain.criteria import (
    CRITERIA,
    FAMILIES,
    ccadb_audit_headers,
    ccadb_family_for_header,
    criterion,
    extract_fingerprints,
    parse_ccadb_date,
    parse_criteria,
    validate_fingerprint,
)

# Real SHA-256 fingerprints: ISRG Root X1 and its "Subject + SPKI SHA256" column value
# (CCADB IncludedCACertificateReportPEMCSV header sample).
ISRG_X1 = "96BCEC06264976F37460779ACF28C5A7CFE8A3C0AAE11A8FFCEE05C0BDDF08C6"
OTHER = "DA43F86604EB9619893C744D6AFBC37A7A57A0FBA3841E8D95488F5C798B150A"
QUOVADIS = "C0EE0CCED463096DF07D27257AF79C986FF92B678F669C109FFF570F32AB433F"
TODAY = date(2025, 10, 1)


def stmt(id: str, start: date, end: date, **kw) -> Statement:
    fields = dict(
        id=id, criteria_family="tls-baseline", kind="period", period_start=start, period_end=end,
        statement_date=end + timedelta(days=30), auditor_approved=True, source="auditor", verified=False,
        fingerprints=frozenset({ISRG_X1}), findings=(),
    )
    fields.update(kw)
    return Statement(**fields)


def codes(findings) -> list[str]:
    return [f.code for f in findings]


# --- criteria ---------------------------------------------------------------------

def test_every_criterion_has_a_stable_key_label_and_known_family():
    assert CRITERIA, "criteria table is empty"
    for key, c in CRITERIA.items():
        assert c.key == key and c.label and c.family in FAMILIES
    assert criterion("webtrust-ev").family == "ev"
    with pytest.raises(AuditError, match="unknown audit criterion key 'nope'"):
        criterion("nope")


def test_bare_ccadb_audit_type_resolves_through_the_column_family():
    # "WebTrust" is the real value of "Standard Audit Type" for ISRG Root X1.
    assert parse_criteria("WebTrust", family="ca")[0].criterion.key == "webtrust-ca"
    assert parse_criteria("WebTrust", family="ev")[0].criterion.key == "webtrust-ev"
    assert parse_criteria("ETSI EN 319 411-1", family="tls-baseline")[0].criterion.key == (
        "etsi-en-319-411-1-tls-baseline")
    assert parse_criteria("ETSI EN 319 411-2", family="ev")[0].criterion.key == "etsi-en-319-411-2-ev"


def test_bare_scheme_without_family_is_ambiguous():
    with pytest.raises(AuditError, match="names only the WebTrust scheme"):
        parse_criteria("WebTrust")
    with pytest.raises(AuditError, match="without policies"):
        parse_criteria("ETSI EN 319 411-1")


@pytest.mark.parametrize(("text", "key"), [
    ("WebTrust Principles and Criteria for Certification Authorities", "webtrust-ca"),
    ("WebTrust for CAs - Network Security v1.0", "webtrust-netsec"),
    ("WebTrust Principles and Criteria for Certification Authorities \u2013 SSL Baseline with Network Security "
     "v2.6", "webtrust-tls-br-netsec"),
    ("WebTrust for Certification Authorities - SSL Baseline Requirements v2.7", "webtrust-tls-br"),
    ("WebTrust for Certification Authorities \u2013 Extended Validation SSL v1.7.8", "webtrust-ev"),
    ("WebTrust for CAs - S/MIME v1.0.1", "webtrust-smime"),
    ("ETSI TS 119 411-6 V1.1.1", "etsi-ts-119-411-6"),
])
def test_specific_free_text_names_one_criterion(text, key):
    assert [m.criterion.key for m in parse_criteria(text)] == [key]


def test_etsi_policies_pick_the_family_and_stay_with_their_standard():
    matches = parse_criteria("ETSI EN 319 411-1 V1.3.1 (DVCP, OVCP, EVCP) and ETSI EN 319 411-2 V2.4.1 (QCP-w)")
    assert [(m.criterion.key, m.policies) for m in matches] == [
        ("etsi-en-319-411-1-tls-baseline", ("DVCP", "OVCP")),
        ("etsi-en-319-411-1-ev", ("EVCP",)),
        ("etsi-en-319-411-2-ev", ("QCP-w",)),
    ]
    ncp = parse_criteria("EN 319 411-1: LCP, NCP, NCP+")
    assert [(m.criterion.key, m.policies) for m in ncp] == [("etsi-en-319-411-1-ca", ("LCP", "NCP", "NCP+"))]


def test_policy_of_the_other_etsi_part_is_rejected():
    with pytest.raises(AuditError, match="policy DVCP is not defined by ETSI EN 319 411-2"):
        parse_criteria("ETSI EN 319 411-2 (DVCP)")


def test_en_319_403_is_rejected_as_an_accreditation_standard():
    with pytest.raises(AuditError, match="accreditation standard, not an audit criterion"):
        parse_criteria("ETSI EN 319 403 V2.2.2")


def test_criterion_filed_under_another_family_is_rejected():
    with pytest.raises(AuditError, match="names a 'ca' criterion but was filed under 'ev'"):
        parse_criteria("WebTrust for CAs", family="ev")


def test_unknown_or_empty_audit_type_is_rejected():
    for text in ("", "ISO 21188", "WebTrust for CAs - EV Code Signing"):
        with pytest.raises(AuditError):
            parse_criteria(text)
    with pytest.raises(AuditError, match="unknown audit family"):
        parse_criteria("WebTrust", family="tls")


def test_ccadb_headers_map_to_families_in_both_report_formats():
    # Header names from cpu/ccadb-utils testdata (AllCertificateRecordsCSVFormat, IncludedCACertificateReportPEMCSV).
    assert ccadb_family_for_header("TLS BR Audit Period Start Date") == ("tls-baseline", "Period Start Date")
    assert ccadb_family_for_header("S/MIME BR Audit Type") == ("smime", "Type")
    assert ccadb_family_for_header("NetSec Audit Statement Date") == ("netsec", "Statement Date")
    assert ccadb_family_for_header("Standard Audit") == ("ca", "URL")
    assert ccadb_family_for_header("Standard Audit Statement Dt") == ("ca", "Statement Date")
    assert ccadb_family_for_header("Code Signing Audit Type") is None
    assert ccadb_family_for_header("Auditor") is None
    assert ccadb_audit_headers("TLS EVG")["Period End Date"] == "TLS EVG Audit Period End Date"


def test_ccadb_dates_parse_and_bad_ones_name_the_field():
    assert parse_ccadb_date("2024.11.20") == date(2024, 11, 20)
    assert parse_ccadb_date("  ") is None
    with pytest.raises(AuditError, match="Standard Audit Statement Dt: '2024.13.01'"):
        parse_ccadb_date("2024.13.01", field="Standard Audit Statement Dt")


# --- fingerprints -----------------------------------------------------------------

def test_fingerprints_extracted_in_any_spelling_normalized_and_deduplicated():
    colons = ":".join(ISRG_X1[i:i + 2] for i in range(0, 64, 2))
    spaced = " ".join(OTHER[i:i + 2] for i in range(0, 64, 2)).lower()
    text = (f"Root: {colons}\nIntermediate and {spaced}.\n"
            f"Again {ISRG_X1.lower()} and {QUOVADIS}")
    assert extract_fingerprints(text) == [ISRG_X1, OTHER, QUOVADIS]


def test_hex_runs_that_are_not_sha256_are_ignored():
    sha1 = "A0:B1:" * 9 + "C2:D3"  # 20 pairs
    text = f"{ISRG_X1}AB (too long) {ISRG_X1[:-2]} (too short) {sha1}\n{':'.join([ISRG_X1[:24]] * 1)}"
    assert extract_fingerprints(text) == []
    # 20 colon pairs followed by a colon fingerprint must not merge into a false 32-pair match.
    colons = ":".join(OTHER[i:i + 2] for i in range(0, 64, 2))
    assert extract_fingerprints(f"{sha1}:{colons}") == []
    assert extract_fingerprints(f"{sha1}\n{colons}") == [OTHER]


def test_validate_fingerprint_accepts_only_64_hex_digits():
    assert validate_fingerprint(ISRG_X1.lower()) == ISRG_X1
    for bad in (ISRG_X1[:-1], ISRG_X1 + "0", ISRG_X1[:-1] + "G", ":".join(ISRG_X1[i:i + 2] for i in range(0, 64, 2)),
                None, 42):
        with pytest.raises(AuditError, match="not a SHA-256 fingerprint"):
            validate_fingerprint(bad)


# --- validation -----------------------------------------------------------------

@pytest.mark.parametrize(("change", "field"), [
    (dict(period_end=date(2023, 12, 31), period_start=date(2024, 1, 1)), "period_end"),
    (dict(statement_date=date(2024, 12, 30)), "statement_date"),
    (dict(period_end=TODAY + timedelta(days=1), statement_date=None), "period_end"),
    (dict(statement_date=TODAY + timedelta(days=1)), "statement_date"),
    (dict(fingerprints=frozenset({"ABC"})), "fingerprints"),
    (dict(criteria_family="codesigning"), "criteria_family"),
    (dict(kind="point"), "period_end"),
    (dict(findings=(("fatal", "x"),)), "findings"),
])
def test_inconsistent_statement_raises_naming_the_field(change, field):
    s = replace(stmt("S1", date(2024, 1, 1), date(2024, 12, 31)), **change)
    with pytest.raises(AuditError, match=rf"statement 'S1': {field}"):
        validate_statement(s, today=TODAY)


def test_duplicate_statement_ids_are_rejected():
    s = stmt("S1", date(2023, 1, 1), date(2023, 12, 31))
    with pytest.raises(AuditError, match="repeated: S1"):
        run_checks([s, s], [], today=TODAY)


# --- late statements ------------------------------------------------------------

def test_statement_missing_on_day_92_is_on_time_and_late_from_day_93():
    s = stmt("S1", date(2024, 1, 1), date(2024, 12, 31), statement_date=None)
    day_92 = date(2025, 4, 2)
    assert (day_92 - s.period_end).days == 92
    assert late_statement([s], today=day_92) == []
    [late] = late_statement([s], today=day_92 + timedelta(days=1))
    assert late.code == "late_statement" and late.date == date(2025, 4, 3) and late.statement_ids == ("S1",)


def test_statement_received_on_day_92_is_on_time_and_on_day_93_needs_a_letter():
    on_time = stmt("S1", date(2024, 1, 1), date(2024, 12, 31), statement_date=date(2025, 4, 2))
    late = stmt("S2", date(2024, 1, 1), date(2024, 12, 31), statement_date=date(2025, 4, 3))
    found = late_statement([on_time, late], today=date(2025, 5, 1))
    assert [(f.code, f.statement_ids) for f in found] == [("late_statement_received", ("S2",))]
    assert "explanation letter" in found[0].message


def test_no_audit_for_the_next_period_is_missing_after_a_year_and_92_days():
    s = stmt("S1", date(2023, 1, 1), date(2023, 12, 31))
    assert late_statement([s], today=date(2025, 4, 2)) == []
    [missing] = late_statement([s], today=date(2025, 4, 3))
    assert missing.code == "missing_audit" and missing.date == date(2025, 4, 3)


# --- gaps ----------------------------------------------------------------------

def test_touching_periods_are_contiguous_and_one_missing_day_is_a_gap():
    a = stmt("A", date(2023, 1, 1), date(2023, 12, 31))
    touching = stmt("B", date(2024, 1, 1), date(2024, 12, 31))
    apart = stmt("C", date(2024, 1, 2), date(2024, 12, 31))
    assert period_gap([a, touching]) == []
    [gap] = period_gap([apart, a])
    assert gap.code == "period_gap" and gap.date == date(2024, 1, 1) and gap.statement_ids == ("A", "C")
    assert "2024-01-01..2024-01-01 (1 day)" in gap.message


def test_overlapping_periods_and_other_families_make_no_gap():
    a = stmt("A", date(2023, 1, 1), date(2023, 12, 31))
    overlap = stmt("B", date(2023, 7, 1), date(2024, 6, 30))
    after_overlap = stmt("C", date(2024, 7, 1), date(2025, 6, 30))
    ev = stmt("E", date(2024, 6, 1), date(2025, 5, 31), criteria_family="ev")
    assert period_gap([a, overlap, after_overlap, ev]) == []
    # A short period inside a long one does not hide a gap after the long one.
    inner = stmt("I", date(2023, 2, 1), date(2023, 3, 1))
    late = stmt("L", date(2024, 1, 3), date(2024, 12, 31))
    assert [g.statement_ids for g in period_gap([a, inner, late])] == [("A", "L")]


# --- period length ----------------------------------------------------------------

@pytest.mark.parametrize(("start", "end", "flagged"), [
    (date(2023, 1, 1), date(2023, 12, 31), False),  # 365 days
    (date(2024, 1, 1), date(2024, 12, 31), False),  # 366 days, leap year: one year
    (date(2023, 1, 1), date(2024, 1, 1), True),     # 366 days, no 29 February: one day too many
    (date(2023, 1, 1), date(2024, 1, 2), True),     # 367 days
    (date(2024, 2, 29), date(2025, 2, 28), False),  # starts on 29 February
    (date(2024, 2, 29), date(2025, 3, 1), True),
])
def test_period_of_at_most_one_year(start, end, flagged):
    found = period_too_long([stmt("S", start, end)])
    assert codes(found) == (["period_too_long"] if flagged else [])


def test_add_one_year_maps_leap_day_to_first_of_march():
    assert add_one_year(date(2024, 2, 29)) == date(2025, 3, 1)
    assert add_one_year(date(2023, 7, 1)) == date(2024, 7, 1)


# --- point-in-time ----------------------------------------------------------------

def test_point_in_time_is_fine_as_first_audit_and_flagged_after_a_period_audit():
    pit = stmt("P1", date(2022, 6, 30), date(2022, 6, 30), kind="point")
    period = stmt("Y1", date(2022, 7, 1), date(2023, 6, 30))
    assert point_in_time_where_period_due([pit, period]) == []
    again = stmt("P2", date(2023, 9, 30), date(2023, 9, 30), kind="point")
    [f] = point_in_time_where_period_due([pit, period, again])
    assert f.statement_ids == ("Y1", "P2") and f.code == "point_in_time_where_period_due"


def test_point_in_time_for_a_new_root_beside_ongoing_period_audits_is_fine():
    period = stmt("Y1", date(2022, 7, 1), date(2023, 6, 30))
    new_root = stmt("P", date(2023, 9, 30), date(2023, 9, 30), kind="point", fingerprints=frozenset({OTHER}))
    assert point_in_time_where_period_due([period, new_root]) == []
    second_pit = stmt("P2", date(2024, 1, 31), date(2024, 1, 31), kind="point", fingerprints=frozenset({OTHER}))
    assert [f.statement_ids for f in point_in_time_where_period_due([period, new_root, second_pit])] == [
        ("P", "P2")]


# --- coverage, auditors, qualifications ----------------------------------------------

def test_trusted_certificate_not_in_the_current_statement_is_uncovered():
    old = stmt("Y1", date(2023, 1, 1), date(2023, 12, 31), fingerprints=frozenset({ISRG_X1, OTHER}))
    latest = stmt("Y2", date(2024, 1, 1), date(2024, 12, 31), fingerprints=frozenset({ISRG_X1}))
    certs = [CertInScope(sha256=ISRG_X1, kind="root", trusted=True),
             CertInScope(sha256=OTHER.lower(), kind="intermediate", trusted=True),
             CertInScope(sha256=QUOVADIS, kind="intermediate", trusted=False)]
    [f] = uncovered_certificate([old, latest], certs, today=TODAY)
    assert f.certificate == OTHER and f.statement_ids == ("Y2",) and "'Y2' does not list it" in f.message


def test_coverage_lapses_one_year_and_92_days_after_the_period_end():
    s = stmt("Y1", date(2023, 7, 1), date(2024, 6, 30))
    cert = [CertInScope(sha256=ISRG_X1, kind="root", trusted=True)]
    last_day = date(2025, 9, 30)  # 2025-06-30 + 92 days
    assert current_statements([s], today=last_day) == {"tls-baseline": s}
    assert uncovered_certificate([s], cert, today=last_day) == []
    [f] = uncovered_certificate([s], cert, today=last_day + timedelta(days=1))
    assert f.date == date(2025, 10, 1) and "no counting statement is current" in f.message


def test_each_required_family_must_list_the_certificate():
    tls = stmt("T", date(2024, 1, 1), date(2024, 12, 31))
    ev = stmt("E", date(2024, 1, 1), date(2024, 12, 31), criteria_family="ev", fingerprints=frozenset({OTHER}))
    cert = CertInScope(sha256=ISRG_X1, kind="root", trusted=True, required_families=frozenset({"tls-baseline", "ev"}))
    [f] = uncovered_certificate([tls, ev], [cert], today=TODAY)
    assert "current ev statement" in f.message and f.statement_ids == ("E",)


def test_unapproved_auditor_and_unverified_ca_statement_are_flagged_and_do_not_count():
    good = stmt("Y1", date(2023, 1, 1), date(2023, 12, 31))
    unapproved = stmt("Y2", date(2024, 1, 1), date(2024, 12, 31), auditor_approved=False)
    unverified = stmt("Y3", date(2024, 1, 1), date(2024, 12, 31), source="ca", verified=False)
    verified = replace(unverified, id="Y4", verified=True)
    assert codes(unapproved_auditor([good, unapproved, unverified, verified])) == [
        "unapproved_auditor", "unverified_statement"]
    today = date(2025, 3, 1)
    assert current_statements([good, unapproved, unverified], today=today)["tls-baseline"].id == "Y1"
    assert current_statements([good, unapproved, unverified, verified], today=today)["tls-baseline"].id == "Y4"


def test_numerous_minor_or_any_serious_qualification_carries_the_seed_response():
    minor = [("minor", f"finding {i}") for i in range(NUMEROUS_QUALIFICATIONS)]
    few = stmt("F", date(2024, 1, 1), date(2024, 12, 31), findings=tuple(minor[:-1]))
    numerous = stmt("N", date(2024, 1, 1), date(2024, 12, 31), findings=tuple(minor))
    serious = stmt("S", date(2024, 1, 1), date(2024, 12, 31), findings=(("major", "key ceremony not witnessed"),))
    critical = stmt("C", date(2024, 1, 1), date(2024, 12, 31), findings=(("critical", "x"), ("minor", "y")))
    found = {f.statement_ids[0]: f for f in serious_qualifications([few, numerous, serious, critical])}
    assert sorted(found) == ["C", "N", "S"]
    assert found["N"].severity == "major" and "numerous" in found["N"].message
    assert found["C"].severity == "critical"
    assert found["S"].action == SERIOUS_QUALIFICATIONS_ACTION == (
        "File a CA compliance bug, request that the CA respond with remediation plans, and request an incident report")
    assert "new period-of-time audits" in found["S"].consider == SERIOUS_QUALIFICATIONS_CONSIDER


def test_run_checks_combines_every_check_in_date_order():
    statements = [
        stmt("Y1", date(2022, 1, 1), date(2022, 12, 31)),
        stmt("Y2", date(2023, 1, 2), date(2024, 1, 2), findings=(("major", "x"),)),  # gap + too long
        stmt("Y3", date(2024, 1, 3), date(2024, 12, 31), statement_date=None),     # late
        stmt("P", date(2025, 3, 1), date(2025, 3, 1), kind="point", auditor_approved=False),  # gap before it
    ]
    certs = [CertInScope(sha256=OTHER, kind="root", trusted=True)]
    found = run_checks(statements, certs, today=TODAY)
    assert sorted(codes(found)) == sorted([
        "period_gap", "period_gap", "period_too_long", "serious_qualifications", "late_statement",
        "point_in_time_where_period_due", "unapproved_auditor", "uncovered_certificate"])
    dates = [f.date for f in found]
    assert dates == sorted(dates)
    with pytest.raises(AuditError, match="statement 'Y1': period_end"):
        run_checks([replace(statements[0], period_end=TODAY + timedelta(days=1))], [], today=TODAY)
