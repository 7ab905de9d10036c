"""IRG report forms: every field filled or N/A, preview == posted Markdown, versions with changes,
the affected-certificates CSV validated row by row and linked to the registry."""

from __future__ import annotations

import pytest

from compliance.actions import incidents as act
from compliance.domain import reports
from compliance.models import AffectedCertificate, Comment, ReportVersion
from config.errors import DomainError, NotPermitted
from tests.incidents import incident_helpers as h

HEADER = ",".join(f'"{c}"' if "," in c else c for c in reports.AFFECTED_CSV_COLUMNS)
SHA = "AB" * 32
ROW = f",{SHA},CN=shop.example,CN=Acme CA,2024-01-02,2024-04-01,0A1B,shop.example,yes,2024-02-03,superseded"


def _form_post(data: dict) -> dict:
    """The report as the page's form posts it."""
    post: dict = {}
    for key, value in data.items():
        if isinstance(value, list):
            post[f"{key}-rows"] = str(len(value) + 1)
            for i, row in enumerate(value):
                for col, cell in row.items():
                    post[f"{key}-{i}-{col}"] = cell
        elif value == "N/A" and key == "related_incidents":
            post[f"{key}-na"] = "1"
        else:
            post[key] = value
    return post


@pytest.mark.django_db
def test_preview_shows_exactly_the_markdown_that_is_posted(public_a, rep_a, client_for):
    client = client_for(rep_a)
    url = f"/incidents/{public_a.number}/reports/full/"
    post = _form_post(h.full_report_data())
    preview = client.post(url, {**post, "action": "preview"})
    assert preview.status_code == 200
    _, expected = act.report_preview(kind="full", data=h.full_report_data())
    assert expected.replace("'", "&#x27;").replace('"', "&quot;") in preview.content.decode()
    assert not Comment.objects.filter(kind="full_report").exists()
    posted = client.post(url, {**post, "action": "post"})
    assert posted.status_code == 302
    comment = Comment.objects.get(kind="full_report")
    assert comment.body == expected
    assert comment.report_version.version == 1


@pytest.mark.django_db
def test_a_report_missing_a_field_is_refused_with_the_field_named_and_nothing_stored(public_a, rep_a, client_for):
    data = h.full_report_data(went_well="", total_certificates="many")
    response = client_for(rep_a).post(f"/incidents/{public_a.number}/reports/full/",
                                      {**_form_post(data), "action": "post"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "required: fill it in or write &quot;N/A&quot;" in page
    assert "expected a whole number" in page
    assert not ReportVersion.objects.exists() and not Comment.objects.filter(kind="full_report").exists()


@pytest.mark.django_db
def test_a_csv_row_with_a_bad_fingerprint_or_date_is_refused_row_by_row(public_a, rep_a, client_for):
    bad_print = ROW.replace(SHA, "XYZ")
    bad_date = ROW.replace("2024-01-02", "02/01/2024").replace(SHA, "CD" * 32)
    csv = "\n".join([HEADER, ROW, bad_print, bad_date])
    with pytest.raises(DomainError) as caught:
        act.report_post(actor=rep_a, incident=public_a, kind="full", data=h.full_report_data(appendix=csv))
    errors = caught.value.errors
    assert any("expected 64 hex digits" in m for m in errors["appendix.row 2"])
    assert any("Not before" in m for m in errors["appendix.row 3"])
    assert "appendix.row 1" not in errors
    assert not AffectedCertificate.objects.exists() and not Comment.objects.filter(kind="full_report").exists()
    response = client_for(rep_a).post(f"/incidents/{public_a.number}/reports/full/",
                                      {**_form_post(h.full_report_data(appendix=csv)), "action": "preview"})
    assert response.status_code == 400 and "CSV row 2: Certificate SHA-256: expected 64 hex digits" in response.content.decode()


@pytest.mark.django_db
def test_affected_certificates_are_linked_to_the_registry_when_known(public_a, rep_a):
    from datetime import UTC, datetime

    from registry.models import Certificate

    known = Certificate.objects.create(
        sha256=SHA, sha1="0" * 40, spki_sha256="1" * 64, cross_sign_key="2" * 64, subject_key="3" * 64,
        issuer_key="4" * 64, der=b"x", subject_der=b"x", issuer_der=b"x", serial_hex="0A1B", subject_text="CN=shop",
        issuer_text="CN=Acme CA", not_before=datetime(2024, 1, 2, tzinfo=UTC), not_after=datetime(2024, 4, 1, tzinfo=UTC),
        key_type="EC", kind="leaf",
    )
    unknown_row = ROW.replace(SHA, "CD" * 32)
    act.report_post(actor=rep_a, incident=public_a, kind="full",
                    data=h.full_report_data(appendix="\n".join([HEADER, ROW, unknown_row])))
    rows = {a.sha256: a for a in AffectedCertificate.objects.filter(incident=public_a)}
    assert rows[SHA].certificate == known
    assert rows["CD" * 32].certificate is None and rows["CD" * 32].serial_hex == "0A1B"


@pytest.mark.django_db
def test_an_updated_report_is_a_new_version_that_shows_what_changed(public_a, rep_a, client_for):
    act.report_post(actor=rep_a, incident=public_a, kind="full", data=h.full_report_data())
    items = h.full_report_data()["action_items"]
    items[0]["status"] = "Complete"
    v2 = act.report_post(actor=rep_a, incident=public_a, kind="full",
                         data=h.full_report_data(action_items=items, total_remaining_valid="0", got_lucky="Low volume."))
    assert v2.version == 2
    assert {c["field"] for c in v2.changes} == {"action_items[1].status", "got_lucky"}
    public_a.refresh_from_db()
    assert public_a.action_item_changed_at == v2.created_at
    page = client_for(None).get(f"/incidents/{public_a.number}/").content.decode()
    assert "Changes since version 1" in page and "action_items[1].status" in page
    with pytest.raises(DomainError, match="Nothing changed"):
        act.report_post(actor=rep_a, incident=public_a, kind="full",
                        data=h.full_report_data(action_items=items, got_lucky="Low volume."))


@pytest.mark.django_db
def test_reports_count_as_first_response_and_full_report(public_a, rep_a):
    act.report_post(actor=rep_a, incident=public_a, kind="preliminary", data={
        "incident_description": "x", "relevant_policies": "N/A", "source_of_disclosure": "Self Reported"})
    public_a.refresh_from_db()
    assert public_a.first_response_at is not None and public_a.full_report_at is None
    act.report_post(actor=rep_a, incident=public_a, kind="full", data=h.full_report_data())
    public_a.refresh_from_db()
    assert public_a.full_report_at is not None
    closure = act.report_post(actor=rep_a, incident=public_a, kind="closure", data={
        "incident_description": "x", "incident_root_causes": "y", "remediation_description": "z",
        "commitment_summary": "w"})
    assert closure.comment.kind == Comment.Kind.CLOSURE_REPORT


@pytest.mark.django_db
def test_other_cas_and_reviewers_cannot_file_reports(public_a, rep_b, reviewer):
    for user in (rep_b, reviewer):
        with pytest.raises(NotPermitted):
            act.report_post(actor=user, incident=public_a, kind="full", data=h.full_report_data())
    assert not ReportVersion.objects.exists()


@pytest.mark.django_db
def test_report_api_previews_posts_and_lists_versions(public_a, rep_a, client_for):
    client = client_for(rep_a)
    url = f"/api/v1/incidents/{public_a.number}/reports/"
    preview = client.post(url, {"kind": "full", "preview": True, "data": h.full_report_data()},
                          content_type="application/json")
    assert preview.status_code == 200 and preview.json()["markdown"].startswith("## Full Incident Report")
    bad = client.post(url, {"kind": "full", "data": h.full_report_data(timeline="N/A")}, content_type="application/json")
    assert bad.status_code == 400 and bad.json()["errors"]["timeline"] == ['"N/A" is not accepted here']
    created = client.post(url, {"kind": "full", "data": h.full_report_data()}, content_type="application/json")
    assert created.status_code == 201 and created.json()["version"] == 1
    assert [v["version"] for v in client.get(url).json()] == [1]
