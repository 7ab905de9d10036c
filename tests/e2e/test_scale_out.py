"""Scaled out as the README's deployment section says: two gunicorn instances (two backends behind a load
balancer) and two Celery workers, started with docker-compose's very commands and environment, against one
PostgreSQL and one Redis, with one beat. Whatever instance a request reaches, the results are those of one
instance: rate limits count across both, each reminder is mailed once whoever sends it, and the same
import or the same idempotent request sent to both at once stores its rows once.
"""

from __future__ import annotations

import os
import re
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from tests.conftest import PASSWORD
from tests.e2e.conftest import needs_deployment
from tests.e2e.deployment import Deployment

pytestmark = needs_deployment

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
PER_ADDRESS = 12  # requests per minute and client address, set for this deployment


@pytest.fixture
def scaled(transactional_db, smtp_sink, tmp_path):
    deployed = Deployment(workdir=tmp_path, smtp_port=smtp_sink.port, redis_url=os.environ["REDIS_URL"],
                          extra_env={"API_RATE_PER_ADDRESS": f"{PER_ADDRESS}/minute"})
    try:
        deployed.start()
        deployed.second_port = deployed.add_web()
        deployed.second_worker = deployed.add_worker()
        yield deployed
    finally:
        try:
            print(deployed.logs())
        finally:
            deployed.stop_all()


def _both_at_once(*calls):
    """Run the calls in threads released together; their results in order."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(i, call):
        barrier.wait()
        results[i] = call()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def test_a_rate_limit_counts_the_requests_of_both_web_instances(scaled):
    first, second = scaled.client(), scaled.client(scaled.second_port)
    if time.time() % 60 > 45:  # the window is a clock minute: start in a fresh one
        time.sleep(61 - time.time() % 60)
    # A client address of its own (the proxy says it), so the other tests' requests within the minute don't count.
    headers = {"Accept": "application/json", "X-Forwarded-For": "192.0.2.77"}
    answers = [(first if i % 2 else second).get("/api/v1/incidents/", **headers)[0] for i in range(PER_ADDRESS)]
    assert answers == [200] * PER_ADDRESS
    # The 13th request is refused by whichever instance it reaches: the count is shared in Redis.
    status_first, answered, _ = first.get("/api/v1/incidents/", **headers)
    status_second, _, _ = second.get("/api/v1/incidents/", **headers)
    assert (status_first, status_second) == (429, 429)
    assert 0 < int(answered["retry-after"]) <= 60


def test_two_workers_mail_each_reminder_once(scaled, smtp_sink, make_incident, owner_a, owner_b, rep_a, rep_b, staff):
    from notifications.models import Notification

    now = timezone.now()
    for i in range(120):
        make_incident((owner_a, owner_b)[i % 2], disclosed=now - timedelta(days=4 + i % 20))
    # Staff ask for a sweep on the second instance; both workers take the sends it queues.
    web = scaled.client(scaled.second_port)
    web.sign_in(staff.username, PASSWORD)
    status, _, body = web.post_form("/notifications/schedule/", "/notifications/schedule/", {})
    assert status == 302, body[:500]

    deadline = time.monotonic() + 180
    rows = Notification.objects.filter(delivery="immediate")
    while not rows.exists() or rows.exclude(state="sent").exists() or len(smtp_sink) < rows.count():
        assert time.monotonic() < deadline, f"{rows.exclude(state='sent').count()} unsent, {len(smtp_sink)} mails"
        time.sleep(0.3)
    smtp_sink.wait_quiet(3, timeout=30)
    expected = sorted((email, str(pk)) for pk, email in rows.values_list("pk", "recipient__email"))
    assert len(expected) >= 120
    assert sorted(smtp_sink.keys()) == expected, "each reminder arrives exactly once"
    # Both workers did send: the test is about two of them.
    for worker in (scaled.worker, scaled.second_worker):
        assert re.search(r"notifications\.tasks\.send\[[^]]+\] succeeded", worker.output()), worker.tail()


def _pem_bundle() -> str:
    """40 real intermediates: the first of the revoked intermediates in the 2019 OneCRL snapshot."""
    folder = FIXTURES / "onecrl/revoked_intermediates_2019-12"
    return "\n".join((d / "cert.pem").read_text() for d in sorted(folder.iterdir())[:40])


def test_the_same_upload_on_both_instances_at_once_stores_each_certificate_once(scaled, staff):
    from registry.models import Certificate, IssuerLink

    bundle = _pem_bundle()
    count = bundle.count("BEGIN CERTIFICATE")
    assert count == 40
    clients = [scaled.client(), scaled.client(scaled.second_port)]
    for client in clients:
        client.sign_in(staff.username, PASSWORD)
    upload = "/certificates/upload/"
    answers = _both_at_once(*(lambda c=c: c.post_form(upload, upload, {"pem": bundle}) for c in clients))
    assert [a[0] for a in answers] == [302, 302], [a[2][:600] for a in answers]
    assert Certificate.objects.count() == count
    links = list(IssuerLink.objects.values_list("child_id", "parent_id"))
    assert len(links) == len(set(links))


def test_the_same_idempotent_request_on_both_instances_at_once_is_done_once(scaled, make_incident, owner_a, staff):
    from accounts.api_keys import api_key_create
    from compliance.models import Question

    incident = make_incident(owner_a, disclosed=timezone.now())
    token = api_key_create(actor=staff, name="scale", read_only=False).plain
    clients = [scaled.client(), scaled.client(scaled.second_port)]
    path = f"/api/v1/incidents/{incident.number}/questions/"
    body = b'{"body": "Which certificates are affected?"}'
    headers = {"Authorization": f"Token {token}", "Content-Type": "application/json", "Accept": "application/json",
               "Idempotency-Key": "scale-out-1"}
    answers = _both_at_once(*(lambda c=c: c.request("POST", path, body=body, headers=headers) for c in clients))
    statuses = sorted(a[0] for a in answers)
    # One is done; the other answers with the same result or says the first is still in flight (409).
    assert statuses in ([201, 201], [201, 409]), [(a[0], a[2][:300]) for a in answers]
    assert Question.objects.filter(incident=incident).count() == 1


REPLICA_APP = "rootwatch-replica"


@pytest.fixture
def with_replica(transactional_db, smtp_sink, tmp_path):
    """The deployment with DATABASE_REPLICA_URL set. This machine has no streaming replica: the "replica" is a
    second connection to the same database that, like a hot standby, refuses every write
    (default_transaction_read_only) and names itself, so pg_stat_activity shows which requests used it."""
    from tests.e2e.deployment import database_url

    replica = f"{database_url()}?application_name={REPLICA_APP}&options=-c%20default_transaction_read_only%3Don"
    deployed = Deployment(workdir=tmp_path, smtp_port=smtp_sink.port, redis_url=os.environ["REDIS_URL"],
                          extra_env={"DATABASE_REPLICA_URL": replica})
    try:
        yield deployed.start(beat=False)
    finally:
        try:
            print(deployed.logs())
        finally:
            deployed.stop_all()


def _replica_connections() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name = %s AND datname = %s",
                       [REPLICA_APP, connection.settings_dict["NAME"]])
        return cursor.fetchone()[0]


def test_the_read_only_apis_and_feeds_read_from_the_replica_and_everything_else_from_the_primary(
    with_replica, make_incident, owner_a, staff
):
    from accounts.api_keys import api_key_create
    from compliance.models import Question

    incident = make_incident(owner_a, disclosed=timezone.now())
    token = api_key_create(actor=staff, name="replica", read_only=False).plain
    web = with_replica.client()
    web.sign_in(staff.username, PASSWORD)  # a POST: the primary
    status, _, page = web.get(f"/incidents/{incident.number}/")
    assert status == 200 and incident.title.encode() in page
    assert _replica_connections() == 0, "a page people work on read from the replica"

    status, _, feed = web.get("/feeds/incidents.atom")
    assert status == 200 and incident.title.encode() in feed
    assert _replica_connections() >= 1, "the feed did not read from the replica"
    status, body = web.api("GET", f"/api/v1/incidents/{incident.number}/", token=token)
    assert status == 200 and body["title"] == incident.title
    # A write through the API goes to the primary (the replica would refuse it).
    status, body = web.api("POST", f"/api/v1/incidents/{incident.number}/questions/", token=token,
                           json_body={"body": "Which certificates are affected?"})
    assert status == 201, body
    assert Question.objects.filter(incident=incident).count() == 1
