"""manage.py generate_data: a realistic database at a chosen scale, for the benchmarks of issue 17.

Run at a tiny scale on whichever database the suite uses (PostgreSQL: COPY from a second thread;
SQLite: batched INSERTs). What the app would have derived must be what the generator wrote: every
comment's HTML, every report (valid, and its Markdown as posted), the affected-certificate rows of
each full report's CSV, the cached deadline columns, the certificate columns and real signatures.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from django.db.models import Count

from accounts.models import User
from audits.models import AuditStatement, StatementCertificate
from compliance import selectors as sel
from compliance.actions.incidents import refresh_deadlines
from compliance.domain import markdown, reports
from compliance.domain.whiteboard import parse_whiteboard
from compliance.generator.build import WRITTEN
from compliance.models import (
    AffectedCertificate,
    Comment,
    Incident,
    IncidentTag,
    Question,
    ReportVersion,
)
from pki.x509 import load_der, verify_issued_by
from registry.actions import _certificate_values
from registry.models import CAOwner, Certificate, IssuerLink

ROOT = Path(__file__).resolve().parent.parent
AS_OF = "2026-06-01T12:00Z"
AS_OF_DT = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
SMALL = dict(incidents=50, seed=7, owners=6, certificates=300, as_of=AS_OF)


def _generate(**overrides) -> str:
    out = io.StringIO()
    call_command("generate_data", stdout=out, **{**SMALL, **overrides})
    return out.getvalue()


def _counts() -> dict[str, int]:
    return {model._meta.label: model.objects.count() for model in WRITTEN}


def _snapshot() -> list:
    """What a second run with the same seed must reproduce exactly."""
    return [
        list(Incident.objects.order_by("number").values_list(
            "number", "title", "status", "resolution", "whiteboard", "next_due_at", "next_due_kind", "created_at")),
        list(Certificate.objects.order_by("pk").values_list("sha256", "kind", "owner__name")),
        list(Comment.objects.order_by("pk").values_list("incident__number", "kind", "body", "created_at")),
        list(AffectedCertificate.objects.order_by("pk").values_list("incident__number", "sha256", "serial_hex")),
    ]


@pytest.mark.django_db(transaction=False)
def test_generates_the_requested_shape_and_reports_its_rates():
    output = _generate()

    assert Incident.objects.count() == 50
    assert CAOwner.objects.count() == 6
    # Owners are the real CA owner names of the CCADB report shipped in registry/demo_data.
    csv_owners = {row.split('","')[1] for row in (ROOT / "registry/demo_data/ccadb_IncludedCACertificateReportForMSFTCSV_2025-10.csv")
                  .read_text(encoding="utf-8").splitlines()[1:]}
    assert set(CAOwner.objects.values_list("name", flat=True)) <= csv_owners
    total_certs = Certificate.objects.count()
    assert 290 <= total_certs <= 330, total_certs
    kinds = dict(Certificate.objects.values_list("kind").annotate(n=Count("pk")))
    assert set(kinds) == {"root", "intermediate", "leaf"}
    # Every certificate but the roots has its issuer link.
    assert IssuerLink.objects.count() == total_certs - kinds["root"]
    comments = Comment.objects.count()
    assert 400 <= comments <= 1500, comments
    assert max(Incident.objects.annotate(n=Count("comments")).values_list("n", flat=True)) >= 200
    statuses = set(Incident.objects.values_list("status", flat=True))
    assert "RESOLVED" in statuses and statuses - {"RESOLVED"}, statuses
    assert Question.objects.exists() and ReportVersion.objects.exists() and AffectedCertificate.objects.exists()
    assert AuditStatement.objects.count() == 6 and StatementCertificate.objects.exists()
    assert Incident.objects.filter(whiteboard__contains="Next update").exists()
    # Progress: rows per table and rates.
    assert "rows/s" in output and "compliance_comment:" in output and "incidents (50)" in output


@pytest.mark.django_db
def test_generated_rows_are_what_the_app_would_have_written():
    _generate()

    # Comment HTML is markdown.render of the body, for every comment (reports included).
    for body, html in Comment.objects.values_list("body", "body_html"):
        assert markdown.render(body) == html

    # Every report version validates, and its Markdown is the one the app renders and posts.
    versions = list(ReportVersion.objects.select_related("comment"))
    assert {v.kind for v in versions} == {"preliminary", "full", "closure"}
    for version in versions:
        clean = reports.validate(version.kind, version.data)
        assert clean.to_data() == version.data
        assert reports.render_markdown(version.kind, clean) == version.markdown == version.comment.body
        assert version.comment.kind == f"{version.kind}_report"

    # Affected certificates are exactly the rows of the full report's CSV, linked to the registry.
    with_csv = [v for v in versions if v.kind == "full" and v.data["appendix"] != "N/A"]
    assert with_csv
    for version in with_csv:
        parsed = reports.parse_affected_csv(version.data["appendix"])
        stored = list(AffectedCertificate.objects.filter(report_version=version).order_by("pk").values_list(
            "sha256", "precertificate_sha256", "serial_hex", "not_before", "is_revoked", "certificate__sha256"))
        assert stored == [(a.certificate_sha256 or "", a.precertificate_sha256 or "", a.serial_hex, a.not_before,
                           a.is_revoked, a.certificate_sha256) for a in parsed]

    # Tags and next_update are what the whiteboard says.
    for incident in Incident.objects.all():
        board = parse_whiteboard(incident.whiteboard, today=AS_OF_DT.date())
        assert sorted(IncidentTag.objects.filter(incident=incident).values_list("tag", flat=True)) == sorted(board.tags)
        assert incident.next_update == board.next_update

    # Cached deadline columns: what refresh_deadlines computes, as of the generated "now".
    open_incidents = list(Incident.objects.open())
    assert open_incidents and any(i.next_due_at for i in open_incidents)
    for incident in Incident.objects.all():
        stored = (incident.next_due_at, incident.next_due_kind)
        refresh_deadlines(incident, AS_OF_DT)
        incident.refresh_from_db()
        assert (incident.next_due_at, incident.next_due_kind) == stored, incident.number
        pending = sel.next_pending(sel.incident_deadlines(incident, AS_OF_DT))
        assert (pending.due_at if pending else None) == stored[0]

    # No event is stamped after the generated "now".
    assert not Comment.objects.filter(created_at__gt=AS_OF_DT).exists()
    assert not Incident.objects.filter(updated_at__gt=AS_OF_DT).exists()


@pytest.mark.django_db
def test_certificates_are_real_signed_and_stored_as_the_registry_import_stores_them():
    _generate()
    for cert in Certificate.objects.order_by("?")[:40]:
        expected = _certificate_values(load_der(bytes(cert.der), source="generate_data"))
        for name, value in expected.items():
            stored = getattr(cert, name)
            assert (bytes(stored) if isinstance(stored, memoryview) else stored) == value, name
    for link in IssuerLink.objects.select_related("child", "parent").order_by("?")[:40]:
        child = load_der(bytes(link.child.der), source="child")
        parent = load_der(bytes(link.parent.der), source="parent")
        assert verify_issued_by(child, parent)
    # A cross-signed intermediate: one subject and key, two certificates.
    groups = Certificate.objects.filter(kind="intermediate").values("cross_sign_key").annotate(
        n=Count("pk")).filter(n__gt=1)
    assert groups.exists() or Certificate.objects.filter(kind="intermediate").count() < 20


@pytest.mark.django_db
def test_same_seed_gives_the_same_rows():
    class Again(Exception):
        pass

    try:
        with transaction.atomic():
            _generate()
            first = _snapshot()
            raise Again
    except Again:
        pass
    assert Incident.objects.count() == 0
    _generate()
    assert _snapshot() == first
    assert Incident.objects.count() == 50


@pytest.mark.django_db
def test_refuses_a_database_with_incidents_and_changes_nothing(owner_a):
    now = datetime(2026, 1, 1, tzinfo=UTC)
    existing = Incident.objects.create(number=1800000, ca_owner=owner_a, title="Acme Trust: real one",
                                       first_disclosed_at=now, created_at=now, updated_at=now)
    before = _counts()
    with pytest.raises(CommandError, match=r"already holds 1 incidents.*--append"):
        _generate()
    assert _counts() == before

    # --append adds after the highest number and leaves the existing incident alone.
    _generate(append=True, incidents=20)
    assert Incident.objects.count() == 21
    assert Incident.objects.exclude(pk=existing.pk).order_by("number").first().number == 1800001
    existing.refresh_from_db()
    assert existing.title == "Acme Trust: real one"


@pytest.mark.django_db
@pytest.mark.parametrize("bad, message", [
    (dict(incidents=-1), "--incidents must be 0 or more"),
    (dict(owners=0), "--owners must be 1 or more"),
    (dict(as_of="next tuesday"), "--as-of: expected a date"),
])
def test_bad_arguments_are_refused_and_change_nothing(bad, message):
    before = _counts()
    with pytest.raises(CommandError, match=message):
        if "as_of" in bad:
            call_command("generate_data", "--incidents", "5", "--as-of", bad["as_of"], stdout=io.StringIO())
        else:
            _generate(**bad)
    assert _counts() == before


@pytest.mark.django_db
def test_list_page_and_api_serve_the_generated_incidents(client_for, anonymous):
    _generate(password="generated pw 1")
    staff = User.objects.get(username="gen-staff-1")
    assert staff.is_staff and staff.check_password("generated pw 1")
    newest = Incident.objects.order_by("-number").first()

    page = client_for(staff).get("/incidents/")
    assert page.status_code == 200
    assert str(newest.number).encode() in page.content

    api = client_for(staff).get("/api/v1/incidents/?page_size=100")
    assert api.status_code == 200
    assert api.json()["count"] == 50

    # Nobody signed in sees what is security-sensitive (one more is made so, should the seed give none).
    Incident.objects.filter(pk=newest.pk).update(security_sensitive=True)
    public = client_for(None).get("/api/v1/incidents/?page_size=100")
    assert public.status_code == 200
    shown = {row["number"] for row in public.json()["results"]}
    hidden = set(Incident.objects.filter(security_sensitive=True).values_list("number", flat=True))
    assert newest.number in hidden and not shown & hidden
    assert len(shown) == 50 - len(hidden)

    # The incident with 200+ comments opens.
    heavy = max(Incident.objects.all(), key=lambda i: i.comments.count())
    assert client_for(staff).get(f"/incidents/{heavy.number}/").status_code == 200


@pytest.mark.django_db
def test_generated_accounts_cannot_sign_in_without_a_password():
    _generate()
    users = User.objects.filter(username__startswith="gen-")
    assert users.exists()
    assert not any(u.has_usable_password() for u in users)
    rep = User.objects.filter(username__startswith="gen-rep-").first()
    assert rep.represented_owners.count() == 1 and not rep.is_staff
