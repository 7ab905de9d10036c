"""Attachments on incidents: the action's rules, the sniffed type, the size limit, private files, the
obsolete flag, the incident page and the download path (issue 16)."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from compliance.actions import attachments as att
from compliance.actions import incidents as act
from compliance.domain import attachments as sniffing
from compliance.models import Attachment
from config.errors import DomainError, NotPermitted
from history.models import Event

pytestmark = pytest.mark.django_db
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
# A 1x1 transparent PNG.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


def add(actor, incident, data=b"serial,revoked\n01,yes\n02,no\n", **kw):
    kw.setdefault("filename", "certs.csv")
    kw.setdefault("description", "Affected certificates")
    return att.attachment_add(actor=actor, incident=incident, data=data, **kw)


# --------------------------------------------------------------------------- sniffing


@pytest.mark.parametrize(("data", "expected"), [
    (b"%PDF-1.7\n...", sniffing.PDF),
    (PNG, sniffing.PNG),
    (b"\xff\xd8\xff\xe0\x00\x10JFIF", sniffing.JPEG),
    (b"GIF89a\x01\x00", sniffing.GIF),
    (b"PK\x03\x04rest", sniffing.ZIP),
    (b"\x1f\x8b\x08\x00", sniffing.GZIP),
    (b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n", sniffing.PEM_FILE),
    (b"serial,revoked\n01,yes\n02,no\n", sniffing.CSV),
    ("Timeline: 2024-05-01 détecté\n".encode(), sniffing.TEXT),
    (b"\x00\x01\x02binary", sniffing.OCTET_STREAM),
    (b"\x30\x03\x02\x01\x01", sniffing.OCTET_STREAM),  # DER-looking, not a certificate
    (b"text\xff\xfe not utf-8", sniffing.OCTET_STREAM),
])
def test_content_type_is_sniffed_from_the_bytes(data, expected):
    assert sniffing.sniff(data) == expected


def test_a_der_certificate_is_recognised():
    der = (FIXTURES / "certs/chains/paypal_ev_nss/PayPalEE.cert").read_bytes()
    assert sniffing.sniff(der) == sniffing.DER_CERTIFICATE


def test_file_names_lose_folders_and_control_characters():
    assert sniffing.clean_filename("../../etc/passwd") == "passwd"
    assert sniffing.clean_filename("C:\\Users\\ca\\list.csv") == "list.csv"
    assert sniffing.clean_filename("a\x00b\nc.txt") == "abc.txt"
    assert len(sniffing.clean_filename("x" * 400 + ".pdf")) == 255


# --------------------------------------------------------------------------- action


def test_a_png_claiming_to_be_text_is_stored_as_png(rep_a, public_a):
    a = add(rep_a, public_a, data=PNG, filename="notes.txt")
    a.refresh_from_db()
    assert a.content_type == "image/png" and a.filename == "notes.txt" and a.size == len(PNG)
    assert a.file.read() == PNG
    assert "notes" not in a.file.name and a.file.name.startswith("attachments/")


def test_size_limit_is_a_setting_with_a_clear_error(settings, rep_a, public_a):
    settings.ATTACHMENT_MAX_BYTES = 1000
    with pytest.raises(DomainError) as refused:
        add(rep_a, public_a, data=b"x" * 1001)
    assert "1001 bytes" in refused.value.message and "at most" in refused.value.message
    assert refused.value.errors["file"]
    add(rep_a, public_a, data=b"x" * 1000)
    with pytest.raises(DomainError, match="empty"):
        add(rep_a, public_a, data=b"")
    assert Attachment.objects.count() == 1


def test_description_and_name_are_required(rep_a, public_a):
    with pytest.raises(DomainError) as refused:
        add(rep_a, public_a, description="  ", filename="/")
    assert set(refused.value.errors) == {"description", "filename"}
    assert not Attachment.objects.exists()


def test_who_may_attach_follows_who_may_comment(staff, rep_a, rep_b, reviewer, anonymous, public_a, secret_a):
    for user in (staff, rep_a, rep_b, reviewer):
        add(user, public_a)
    with pytest.raises(NotPermitted):
        add(anonymous, public_a)
    with pytest.raises(NotPermitted):
        add(rep_b, secret_a)  # cannot see it
    add(rep_a, secret_a)


def test_private_files_are_for_staff_and_the_cas_representatives(staff, rep_a, rep_b, reviewer, public_a):
    add(staff, public_a, is_private=True)
    add(rep_a, public_a, is_private=True)
    for user in (rep_b, reviewer):
        with pytest.raises(NotPermitted):
            add(user, public_a, is_private=True)
    # A comment with a private file would be private: only staff may post one.
    with pytest.raises(NotPermitted, match="description"):
        add(rep_a, public_a, is_private=True, comment="Here is the list.")
    a = add(staff, public_a, is_private=True, comment="Unredacted letter.")
    assert a.comment.is_private and a.comment.body == "Unredacted letter."


def test_history_rows_and_private_rows_are_staff_only(staff, rep_a, public_a):
    public = add(rep_a, public_a)
    private = add(rep_a, public_a, is_private=True, filename="customers.csv")
    rows = Event.objects.filter(field="attachment").order_by("pk")
    assert [(r.new, r.staff_only) for r in rows] == [(f"#{public.pk} certs.csv", False),
                                                     (f"#{private.pk} customers.csv", True)]
    att.attachment_update(actor=rep_a, attachment=public, is_obsolete=True)
    row = Event.objects.get(field=f"attachment #{public.pk} obsolete")
    assert (row.old, row.new, row.staff_only) == ("no", "yes", False)


def test_obsolete_flag_is_set_by_the_uploader_or_staff(staff, rep_a, reviewer, public_a):
    a = add(rep_a, public_a)
    with pytest.raises(NotPermitted):
        att.attachment_update(actor=reviewer, attachment=a, is_obsolete=True)
    assert att.attachment_update(actor=rep_a, attachment=a, is_obsolete=True)
    a.refresh_from_db()
    assert a.is_obsolete
    assert att.attachment_update(actor=rep_a, attachment=a, is_obsolete=True) == []  # no change, no row
    att.attachment_update(actor=staff, attachment=a, is_obsolete=False)
    a.refresh_from_db()
    assert not a.is_obsolete


def test_a_failed_attach_leaves_no_file(settings, tmp_path, rep_a, public_a):
    with pytest.raises(NotPermitted):
        add(rep_a, public_a, is_private=True, comment="visible?")
    media = Path(settings.MEDIA_ROOT)
    assert not media.exists() or not [p for p in media.rglob("*") if p.is_file()]


# --------------------------------------------------------------------------- page and download


def upload(client, incident, data=PNG, name="shot.png", **fields):
    post = {"description": "Screenshot", "file": SimpleUploadedFile(name, data, content_type="text/plain"), **fields}
    return client.post(f"/incidents/{incident.number}/attachments/", post)


def test_page_upload_lists_and_downloads_with_safe_headers(client_for, rep_a, public_a):
    client = client_for(rep_a)
    response = upload(client, public_a, name="shot.txt")
    assert response.status_code == 302, response.content.decode()[:2000]
    a = Attachment.objects.get()
    assert a.content_type == "image/png"
    page = client.get(f"/incidents/{public_a.number}/").content.decode()
    assert "shot.txt" in page and f"/attachments/{a.pk}/download" in page and "PNG image" in page
    download = client_for(None).get(f"/attachments/{a.pk}/download")
    assert download.status_code == 200
    assert download["Content-Type"] == "image/png"
    assert download["Content-Disposition"].startswith("attachment;") and "shot.txt" in download["Content-Disposition"]
    assert download["X-Content-Type-Options"] == "nosniff"
    assert b"".join(download.streaming_content) == PNG


def test_page_refuses_too_large_file_next_to_the_field_keeping_the_description(settings, client_for, rep_a, public_a):
    settings.ATTACHMENT_MAX_BYTES = 10
    response = upload(client_for(rep_a), public_a, description="My list")
    assert response.status_code == 400
    page = response.content.decode()
    assert "attachments may be at most" in page and 'value="My list"' in page
    assert not Attachment.objects.exists()


def test_private_attachment_is_invisible_to_others_on_page_and_download(
        client_for, staff, rep_a, rep_b, reviewer, public_a):
    a = add(rep_a, public_a, is_private=True, filename="customers.csv", description="Customer list")
    for user in (staff, rep_a):
        client = client_for(user)
        assert "customers.csv" in client.get(f"/incidents/{public_a.number}/").content.decode()
        assert client.get(f"/attachments/{a.pk}/download").status_code == 200
    for user in (rep_b, reviewer, None):
        client = client_for(user)
        page = client.get(f"/incidents/{public_a.number}/").content.decode()
        assert "customers.csv" not in page and "Customer list" not in page
        assert client.get(f"/attachments/{a.pk}/download").status_code == 404
        assert client.get(f"/incidents/{public_a.number}/history/").content.decode().count("customers.csv") == 0


def test_attachment_of_a_security_incident_follows_the_incident(client_for, rep_a, rep_b, secret_a):
    a = add(rep_a, secret_a)
    assert client_for(rep_a).get(f"/attachments/{a.pk}/download").status_code == 200
    assert client_for(rep_b).get(f"/attachments/{a.pk}/download").status_code == 404
    assert client_for(None).get(f"/attachments/{a.pk}/download").status_code == 404


def test_page_marks_obsolete_and_only_allowed_people_may(client_for, rep_a, reviewer, public_a):
    a = add(rep_a, public_a)
    page = client_for(reviewer).get(f"/incidents/{public_a.number}/").content.decode()
    assert "Mark obsolete" not in page
    assert client_for(reviewer).post(f"/attachments/{a.pk}/", {"what": "obsolete", "is_obsolete": "on"}).status_code == 403
    response = client_for(rep_a).post(f"/attachments/{a.pk}/", {"what": "obsolete", "is_obsolete": "on"})
    assert response.status_code == 302
    a.refresh_from_db()
    assert a.is_obsolete
    assert "Obsolete" in client_for(reviewer).get(f"/incidents/{public_a.number}/").content.decode()


def test_reviewer_and_anonymous_see_no_private_checkbox_or_no_form(client_for, reviewer, public_a):
    page = client_for(reviewer).get(f"/incidents/{public_a.number}/").content.decode()
    assert "Attach the file" in page and 'name="is_private"' not in page.split('id="attachments"')[1].split("</section>")[0]
    assert "Attach the file" not in client_for(None).get(f"/incidents/{public_a.number}/").content.decode()


def test_incident_page_lists_attachments_in_a_fixed_number_of_queries(client_for, rep_a, public_a,
                                                                     django_assert_max_num_queries):
    client = client_for(rep_a)
    add(rep_a, public_a)
    client.get(f"/incidents/{public_a.number}/")
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as one:
        client.get(f"/incidents/{public_a.number}/")
    for _ in range(5):
        add(rep_a, public_a)
    act.comment_create(actor=rep_a, incident=public_a, body="x")  # keep the story the same size apart from this
    with django_assert_max_num_queries(len(one.captured_queries) + 2):
        client.get(f"/incidents/{public_a.number}/")


def test_the_upload_form_carries_a_working_csrf_token(rep_a, public_a):
    import re

    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(rep_a)
    page = client.get(f"/incidents/{public_a.number}/").content.decode()
    section = page.split('id="attachments"')[1].split("</section>")[0]
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', section).group(1)
    post = {"description": "Notes", "file": SimpleUploadedFile("notes.txt", b"hello\n")}
    assert client.post(f"/incidents/{public_a.number}/attachments/", post).status_code == 403
    post = {"csrfmiddlewaretoken": token, "description": "Notes", "file": SimpleUploadedFile("notes.txt", b"hello\n")}
    assert client.post(f"/incidents/{public_a.number}/attachments/", post).status_code == 302
    assert Attachment.objects.get().content_type == sniffing.TEXT


def test_a_cc_readers_page_of_a_security_incident_lists_attachments_in_fixed_queries(client_for, rep_a, reviewer,
                                                                                   secret_a):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from compliance.actions import cc

    cc.cc_change(actor=rep_a, incident=secret_a, add=[reviewer])
    client = client_for(reviewer)
    add(rep_a, secret_a)
    client.get(f"/incidents/{secret_a.number}/")
    with CaptureQueriesContext(connection) as one:
        client.get(f"/incidents/{secret_a.number}/")
    for _ in range(4):
        add(rep_a, secret_a)
    with CaptureQueriesContext(connection) as five:
        page = client.get(f"/incidents/{secret_a.number}/").content.decode()
    assert page.count("/download") == 5
    assert len(five.captured_queries) == len(one.captured_queries)
