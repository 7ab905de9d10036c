"""Bug-mail through the deployment as shipped: a question or a comment posted through gunicorn (the API
or the incident's page), its outbox rows committed with it, the send queued on commit to Redis, the
Celery worker mailing it to the SMTP server on loopback.

Cast: staff ask and comment; rep_a represents the incident's CA (owner A); rep_b represents another;
carol is a community member on the CC list; reviewer and dave watch, but cannot see the incident once
it is security-sensitive.
"""

from __future__ import annotations

import time

from django.utils import timezone

from tests.conftest import PASSWORD, _user
from tests.e2e.conftest import needs_deployment
from tests.e2e.deployment import SITE_URL

pytestmark = needs_deployment

WITHIN = 60  # seconds from the request's answer to the mailbox
SITE_HOST = SITE_URL.split("//", 1)[1]


def _rows_mailed(message) -> list:
    from notifications.models import Notification

    return list(Notification.objects.filter(pk__in=message.notification_ids))


def _comment_mails(messages) -> list:
    return [m for m in messages if m.header("X-Rootwatch-Type") == "comment_added"]


def _assert_the_rows_own_mail(message, recipient) -> None:
    """One row per mail, to that row's recipient, with the row's own Message-ID."""
    [row] = _rows_mailed(message)
    assert row.recipient_id == recipient.pk and message.rcpt_to == (recipient.email,)
    assert message.header("Message-ID") == f"<notification-{row.pk}@{SITE_HOST}>"
    assert message.header("X-Rootwatch-Type") == row.kind
    assert row.state == "sent"


def test_a_staff_question_reaches_the_cas_representative_within_a_minute_by_api_and_by_page(
    deployment, smtp_sink, make_incident, owner_a, owner_b, rep_a, rep_b, staff
):
    from accounts.api_keys import api_key_create

    incident = make_incident(owner_a, disclosed=timezone.now())  # no deadline near: no reminder mail
    token = api_key_create(actor=staff, name="e2e", read_only=False).plain
    web = deployment.client()
    # docker-compose's environment is the web's: HTTPS only, behind a proxy that says the scheme.
    status, headers, _ = web.get("/incidents/", **{"X-Forwarded-Proto": "http"})
    assert status == 301 and headers["location"].startswith("https://"), (status, headers)

    # The API: staff ask the CA (no named person).
    asked = time.monotonic()
    status, body = web.api("POST", f"/api/v1/incidents/{incident.number}/questions/", token=token,
                           json_body={"body": "When will the full report be posted?"})
    assert status == 201, body
    [by_api] = smtp_sink.wait_for(lambda msgs: any(m.rcpt_to == (rep_a.email,) for m in msgs), timeout=WITHIN)
    api_latency = by_api.at - asked

    # The incident's page: a needinfo to the CA from the comment form.
    web.sign_in(staff.username, PASSWORD)
    page = f"/incidents/{incident.number}/"
    asked = time.monotonic()
    status, headers, body = web.post_form(f"{page}comment/", page, {
        "body": "Which certificates are affected?", "needinfo": "ca"})
    assert status == 302, body[:800]
    messages = smtp_sink.wait_for(lambda msgs: len(msgs) >= 2, timeout=WITHIN)
    page_latency = messages[1].at - asked
    smtp_sink.wait_quiet(3, timeout=30)

    # Each question reached the representative once, as a question for them; nobody else was mailed.
    assert [m.rcpt_to for m in smtp_sink.messages] == [(rep_a.email,), (rep_a.email,)]
    for message, text in zip(smtp_sink.messages, ["When will the full report", "Which certificates"], strict=True):
        _assert_the_rows_own_mail(message, rep_a)
        assert message.header("X-Rootwatch-Type") == "question_asked"
        assert message.header("X-Rootwatch-Reason").split() == ["Asked"]
        assert f"Bug {incident.number}" in message.header("Subject")
        assert text in message.message.get_content()
    assert len({m.header("Message-ID") for m in smtp_sink.messages}) == 2
    assert api_latency < WITHIN and page_latency < WITHIN
    assert smtp_sink.to(staff.email) == [] and smtp_sink.to(rep_b.email) == []
    print(f"\nquestion to the CA's representative: by API {api_latency:.2f} s, by the page {page_latency:.2f} s")


def test_a_comment_reaches_each_watcher_who_may_see_the_incident_exactly_once(
    deployment, smtp_sink, make_incident, owner_a, rep_a, rep_b, staff, reviewer
):
    from compliance.models import Comment, Incident
    from notifications.models import Notification, SweepRun, Watch

    carol = _user("carol")
    dave = _user("dave")
    incident = make_incident(owner_a, disclosed=timezone.now())  # no deadline near: no reminder mail
    page = f"/incidents/{incident.number}/"

    # While the incident is public, four people click Watch on its page (the author among them): it puts them
    # on its CC list, the one way to follow an incident.
    for user in (staff, rep_a, carol, reviewer):
        web = deployment.client()
        web.sign_in(user.username, PASSWORD)
        status, _, body = web.post_form(f"{page}watch/", page, {"watch": "1"})
        assert status == 302, (user, body[:500])
    assert set(incident.cc.values_list("username", flat=True)) == {"staff", "rep_a", "carol", "reviewer"}
    Watch.objects.create(user=dave, ca_owner=owner_a)  # dave watches the CA itself
    # Then staff make it security-sensitive, which takes everyone but staff and the CA's representatives off
    # its CC list, and put carol back on it: reviewer and dave may no longer see it.
    from compliance.actions import cc, incidents

    incidents.incident_update(actor=staff, incident=Incident.objects.get(pk=incident.pk), security_sensitive=True)
    assert set(incident.cc.values_list("username", flat=True)) == {"staff", "rep_a"}
    cc.cc_add(actor=staff, incident=Incident.objects.get(pk=incident.pk), user=carol)

    outsider = deployment.client()
    outsider.sign_in(reviewer.username, PASSWORD)
    assert outsider.get(page)[0] == 404  # reviewer cannot see it, so cannot comment on it either
    status, _, _ = outsider.post_form(f"{page}comment/", "/accounts/api-keys/", {"body": "Can I still see this?"})
    assert status == 404 and not Comment.objects.filter(author=reviewer).exists()

    author = deployment.client()
    author.sign_in(staff.username, PASSWORD)
    posted = time.monotonic()
    status, _, body = author.post_form(f"{page}comment/", page, {"body": "Please list the affected serials."})
    assert status == 302, body[:800]
    smtp_sink.wait_for(lambda msgs: len(_comment_mails(msgs)) >= 2, timeout=WITHIN)
    smtp_sink.wait_quiet(3, timeout=30)
    latency = max(m.at for m in _comment_mails(smtp_sink.messages)) - posted

    # A sweep afterwards (staff's button: it queues every pending row) sends none of them again.
    last_run = SweepRun.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    status, _, _ = author.post_form("/notifications/schedule/", "/notifications/schedule/", {})
    assert status == 302
    deadline = time.monotonic() + 60
    while not SweepRun.objects.filter(pk__gt=last_run, finished_at__isnull=False).exists():
        assert time.monotonic() < deadline, "the sweep did not run:\n" + deployment.logs()
        time.sleep(0.2)
    smtp_sink.wait_quiet(3, timeout=30)

    # (The sensitivity and CC changes before it were mailed too: only the comment's mail counts here.)
    got = sorted(m.rcpt_to[0] for m in _comment_mails(smtp_sink.messages))
    assert got == sorted([rep_a.email, carol.email]), "each watcher who may see it, once; not the author"
    for user, reasons in ((rep_a, {"CARepresentative", "CC"}), (carol, {"CC"})):
        [message] = _comment_mails(smtp_sink.to(user.email))
        _assert_the_rows_own_mail(message, user)
        assert message.header("X-Rootwatch-Type") == "comment_added"
        assert reasons <= set(message.header("X-Rootwatch-Reason").split())
        assert "Please list the affected serials." in message.message.get_content()
    for user in (staff, reviewer, dave, rep_b):
        assert _comment_mails(smtp_sink.to(user.email)) == [], user
        # not even a row to read in the app
        assert not Notification.objects.filter(recipient=user, kind="comment_added").exists(), user
    assert set(Notification.objects.filter(kind="comment_added").values_list("state", flat=True)) == {"sent"}
    assert latency < WITHIN
    print(f"\ncomment to its watchers: {len(_comment_mails(smtp_sink.messages))} mails, the last {latency:.2f} s after the post")
