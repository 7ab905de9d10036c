"""The real python-bugzilla library writing through a live Rootwatch server (issue 16): createbug,
addcomment (a private comment refused for a non-staff key), update_bugs with a needinfo flag,
attachfile and openattachment, each read back through the same server."""

from __future__ import annotations

import base64
import io

import bugzilla
import pytest

from compliance.models import Attachment, Comment, Incident, Question

pytestmark = pytest.mark.django_db(transaction=True)
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def rest_url(live_server):
    return f"{live_server.url}/rest"


@pytest.fixture
def connect(rest_url, make_key):
    def make(user, *, read_only=False):
        return bugzilla.Bugzilla(rest_url, force_rest=True, api_key=make_key(user, read_only=read_only))

    return make


def test_createbug_files_an_incident_read_back(connect, rep_a, owner_a):
    bz = connect(rep_a)
    created = bz.createbug(bz.build_createbug(
        product="CA Program", component="CA Certificate Compliance", version="other",
        summary="Acme Trust: CRL not updated for 3 days", description="Our CRL generation stalled on 2026-11-28."))
    incident = Incident.objects.get(number=created.id)
    assert incident.ca_owner == owner_a and incident.reporter == rep_a and incident.status == "ASSIGNED"
    bug = bz.getbug(created.id)
    assert bug.summary == "Acme Trust: CRL not updated for 3 days" and bug.component == "CA Certificate Compliance"
    assert bug.getcomments()[0]["text"] == "Our CRL generation stalled on 2026-11-28."


def test_createbug_security_component_is_seen_only_by_those_allowed(connect, rep_a, rep_b, owner_a):
    bz = connect(rep_a)
    created = bz.createbug(product="CA Program", component="CA Security Vulnerability", version="other",
                           summary="Acme Trust: key compromise", description="A subordinate CA key leaked.")
    assert bz.getbug(created.id).groups == ["ca-program-security"]
    with pytest.raises(bugzilla.BugzillaError) as raised:
        connect(rep_b).getbug(created.id)
    assert raised.value.code == 102


def test_createbug_needs_a_key_that_may_write(connect, rest_url, rep_a, owner_a):
    for bz in (bugzilla.Bugzilla(rest_url, force_rest=True), connect(rep_a, read_only=True)):
        with pytest.raises(bugzilla.BugzillaError) as raised:
            bz.createbug(product="CA Program", component="CA Certificate Compliance", version="other",
                         summary="Acme Trust: x", description="y")
        assert raised.value.code == 410
    assert not Incident.objects.exists()


def test_addcomment_and_private_refused_for_non_staff(connect, staff, rep_a, reviewer, bugs):
    number = bugs["public_a"].number
    bug = connect(rep_a).getbug(number)
    bug.addcomment("We deployed the fix at 10:00 UTC.")
    assert Comment.objects.filter(incident=bugs["public_a"], body="We deployed the fix at 10:00 UTC.",
                                  author=rep_a, is_private=False).exists()
    before = Comment.objects.count()
    for user in (rep_a, reviewer):
        with pytest.raises(bugzilla.BugzillaError) as raised:
            connect(user).getbug(number).addcomment("Only for staff eyes.", private=True)
        assert raised.value.code == 113
    assert Comment.objects.count() == before
    connect(staff).getbug(number).addcomment("Staff note.", private=True)
    assert Comment.objects.get(body="Staff note.").is_private
    texts = [c["text"] for c in connect(rep_a).getbug(number).getcomments()]
    assert "We deployed the fix at 10:00 UTC." in texts and "Staff note." not in texts


def test_update_bugs_with_needinfo_asks_the_ca(connect, staff, rep_a, bugs):
    incident = bugs["public_b"]
    bz = connect(staff)
    result = bz.update_bugs([incident.number], bz.build_update(
        comment="Please list every affected certificate.", flags=[{"name": "needinfo", "status": "?"}]))
    assert result["bugs"][0]["id"] == incident.number
    assert result["bugs"][0]["changes"]["flagtypes.name"]["added"] == "needinfo?(Borealis PKI)"
    question = Question.objects.get(incident=incident)
    assert question.asked_user is None and question.comment.body == "Please list every affected certificate."
    bug = bz.getbug(incident.number)
    assert bug.get_flag_status("needinfo") == "?"
    # Asking a named person, and status/whiteboard changes in the same update:
    result = bz.update_bugs([incident.number], bz.build_update(
        whiteboard="[ca-compliance] [audit-delay] Next update 2030-02-01", flags=[
            {"name": "needinfo", "status": "?", "requestee": "rep_a"}]))
    assert "whiteboard" in result["bugs"][0]["changes"]
    assert Question.objects.filter(incident=incident, asked_user=rep_a).exists()


def test_update_bugs_refuses_triage_by_a_ca_rep(connect, rep_a, bugs):
    bz = connect(rep_a)
    with pytest.raises(bugzilla.BugzillaError) as raised:
        bz.update_bugs([bugs["public_a"].number], bz.build_update(status="RESOLVED", resolution="FIXED"))
    assert raised.value.code == 115
    bugs["public_a"].refresh_from_db()
    assert bugs["public_a"].status == "ASSIGNED"


def test_attachfile_and_openattachment_round_trip(connect, rep_a, reviewer, bugs):
    number = bugs["public_a"].number
    bz = connect(rep_a)
    attachment_id = bz.attachfile(number, io.BytesIO(PNG), "Screenshot of the responder", file_name="screen.txt",
                                  content_type="text/plain")
    stored = Attachment.objects.get(pk=attachment_id)
    assert stored.content_type == "image/png" and stored.uploader == rep_a
    opened = connect(reviewer).openattachment(attachment_id)
    assert opened.read() == PNG and opened.name == "screen.txt"
    listed = bz.get_attachments(number, None)["bugs"][str(number)]
    assert [(a["id"], a["content_type"], a["is_private"], a["is_obsolete"], a["summary"]) for a in listed] == [
        (attachment_id, "image/png", 0, 0, "Screenshot of the responder")]


def test_private_attachfile_is_for_staff_and_the_ca(connect, rest_url, rep_a, rep_b, reviewer, bugs):
    number = bugs["public_a"].number
    private_id = connect(rep_a).attachfile(number, io.BytesIO(b"serial,customer\n01,Example Corp\n"),
                                           "Customer list", file_name="customers.csv", is_private=True)
    assert connect(rep_a).openattachment(private_id).read().startswith(b"serial,customer")
    for bz in (connect(rep_b), connect(reviewer), bugzilla.Bugzilla(rest_url, force_rest=True)):
        with pytest.raises(bugzilla.BugzillaError) as raised:
            bz.openattachment(private_id)
        assert raised.value.code == 304
        assert bz.get_attachments(number, None)["bugs"][str(number)] == []
    with pytest.raises(bugzilla.BugzillaError) as raised:
        connect(reviewer).attachfile(number, io.BytesIO(b"x"), "mine", file_name="x.txt", is_private=True)
    assert raised.value.code == 113


def test_obsolete_flag_through_updateattachmentflags_api(connect, rep_a, bugs):
    number = bugs["public_a"].number
    bz = connect(rep_a)
    attachment_id = bz.attachfile(number, io.BytesIO(b"v1\n"), "Timeline v1", file_name="timeline.txt")
    result = bz._backend.bug_attachment_update([attachment_id], {"is_obsolete": True})
    assert result["attachments"][0]["changes"] == {"is_obsolete": {"removed": "0", "added": "1"}}
    assert bz.get_attachments(None, attachment_id)["attachments"][str(attachment_id)]["is_obsolete"] == 1
