"""The worker SIGKILLed (its whole process group) and started again with the same command: every
reminder still reaches its recipient, exactly once when the kill falls in the sweep, and at most twice
(the same Message-ID) only for the rows a sender had claimed when the kill fell between the SMTP
server's 250 and the row being marked sent.

Reminder rows here: overdue incidents of two CAs, each CA with one representative (mailed at once);
staff read a daily digest, whose hour is set far from now, so their rows are not mailed.
"""

from __future__ import annotations

import time
from datetime import timedelta

from django.utils import timezone

from tests.conftest import PASSWORD
from tests.e2e.conftest import needs_deployment

pytestmark = needs_deployment

# Enough overdue incidents that the sweep takes a moment to run (it is seen running, then killed).
INCIDENTS = 400
WITHIN = 300  # seconds: every reminder arrives within 5 minutes of the kill


def _overdue_incidents(make_incident, owners, n: int) -> None:
    now = timezone.now()
    for i in range(n):
        make_incident(owners[i % len(owners)], disclosed=now - timedelta(days=4 + i % 20))


def _queue_a_sweep_from_the_staff_page(deployment, staff):
    """Staff press "run a sweep now" on the job schedule page; returns their signed-in client (the page
    saying "was queued" is left for later: the sweep is already running)."""
    web = deployment.client()
    web.sign_in(staff.username, PASSWORD)
    status, headers, body = web.post_form("/notifications/schedule/", "/notifications/schedule/", {})
    assert status == 302, (status, body[:500])
    return web


def _kill_while_a_sweep_runs(deployment, timeout: float = 60) -> tuple[int, float]:
    """SIGKILL the worker's process group as soon as a sweep is seen started and not finished."""
    from notifications.models import SweepRun

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = SweepRun.objects.filter(job=SweepRun.Job.SWEEP).order_by("pk").first()
        if run is not None:
            assert run.finished_at is None, "the sweep finished before it was seen running"
            seen = time.monotonic()
            deployment.worker.kill_group()
            return run.pk, time.monotonic() - seen
        time.sleep(0.005)
    raise AssertionError("no sweep started:\n" + deployment.logs())


def _wait_until_every_immediate_row_is_sent(sink, *, timeout: float, made_after_run: int | None = None):
    """Wait (with made_after_run) for a later sweep that made rows, then for the outbox to empty and
    the mail to stop."""
    from notifications.models import Notification, SweepRun

    deadline = time.monotonic() + timeout
    while made_after_run is not None and not SweepRun.objects.filter(
            pk__gt=made_after_run, finished_at__isnull=False, created__gt=0).exists():
        assert time.monotonic() < deadline, "no sweep after the restart made the reminders"
        time.sleep(0.5)
    rows = Notification.objects.filter(delivery="immediate")
    while rows.exclude(state="sent").exists() or len(sink) < rows.count():
        assert time.monotonic() < deadline, (
            f"{rows.exclude(state='sent').count()} reminder(s) unsent, {len(sink)} of {rows.count()} mails")
        time.sleep(0.3)
    sink.wait_quiet(3, timeout=30)  # anything still in flight arrives now
    return list(rows.values_list("pk", "recipient__email"))


def test_worker_killed_mid_sweep_and_restarted_mails_every_reminder_exactly_once(
    deployment, smtp_sink, make_incident, owner_a, owner_b, rep_a, rep_b, staff
):
    from notifications.models import Notification, SweepRun

    _overdue_incidents(make_incident, [owner_a, owner_b], INCIDENTS)
    staff_web = _queue_a_sweep_from_the_staff_page(deployment, staff)
    killed_run, kill_took = _kill_while_a_sweep_runs(deployment)
    killed_at = time.monotonic()

    # Killed inside the sweep: it never finished, made no row and mailed nothing.
    assert SweepRun.objects.get(pk=killed_run).finished_at is None
    assert Notification.objects.count() == 0 and len(smtp_sink) == 0
    assert deployment.worker.proc.returncode == -9 and not deployment.worker.members()
    page = staff_web.get("/notifications/schedule/")[2]  # what staff see meanwhile
    assert b"A sweep was queued" in page and b"(running)" in page

    deployment.restart_worker()
    rows = _wait_until_every_immediate_row_is_sent(smtp_sink, made_after_run=killed_run, timeout=WITHIN)
    took = smtp_sink.messages[-1].at - killed_at

    arrived = sorted(smtp_sink.keys())
    expected = sorted((email, str(pk)) for pk, email in rows)
    assert len(rows) >= INCIDENTS and {email for _, email in rows} == {rep_a.email, rep_b.email}
    assert arrived == expected, "each reminder arrives exactly once"
    assert took < WITHIN
    assert not Notification.objects.filter(recipient=staff, state="sent").exists()  # digest readers wait
    recovered = SweepRun.objects.filter(pk__gt=killed_run).order_by("pk").first()
    duration = (recovered.finished_at - recovered.started_at).total_seconds()
    print(f"\nkill mid-sweep: the sweep seen running, its worker's process group dead {kill_took * 1000:.0f} ms later "
          f"(a whole sweep takes {duration:.2f} s); {len(rows)} reminders, each mailed once, the last {took:.0f} s "
          f"after the kill (beat's sweep run {recovered.pk} made {recovered.created} rows)")


def test_worker_killed_while_sending_loses_no_reminder_and_repeats_only_mails_already_accepted(
    deployment, smtp_sink, make_incident, owner_a, owner_b, rep_a, rep_b, staff
):
    """The window the outbox cannot close, held open on purpose: once some mails are through, the SMTP
    server keeps each sender waiting for the answer to its QUIT (its mail accepted, its row still
    claimed), and the worker is killed then. A claim older than NOTIFICATION_STALE_CLAIM_SECONDS is
    released by the next sweep and mailed again: a row is mailed twice exactly when it was claimed at
    the kill and its mail had been accepted, both copies with the row's own Message-ID."""
    from collections import Counter

    from notifications.models import Notification, SweepRun

    command = deployment.worker.command
    concurrency = int(command[command.index("--concurrency") + 1])
    _overdue_incidents(make_incident, [owner_a, owner_b], INCIDENTS // 4)
    smtp_sink.stall_quit_after(20)
    staff_web = _queue_a_sweep_from_the_staff_page(deployment, staff)

    deadline = time.monotonic() + 60
    while smtp_sink.stalled < concurrency and time.monotonic() < deadline:
        # Every sender of the pool held (or, if one is busy elsewhere, what is held after a while).
        if smtp_sink.stalled and deadline - time.monotonic() > 5:
            deadline = time.monotonic() + 5
        time.sleep(0.01)
    held = smtp_sink.stalled
    assert held >= 1, "no sender reached the window:\n" + deployment.logs()
    deployment.worker.kill_group()
    killed_at = time.monotonic()
    smtp_sink.release()

    # What the kill left: rows claimed by the dead pool, and the mails the server had accepted.
    claimed = set(Notification.objects.filter(state="claimed").values_list("pk", flat=True))
    accepted = {pk for m in smtp_sink.messages for pk in m.notification_ids}
    sent_before = Notification.objects.filter(state="sent").count()
    assert 1 <= len(claimed) <= concurrency
    assert len(claimed & accepted) >= held  # each held sender had its mail accepted and its row claimed

    assert b"A sweep was queued" in staff_web.get("/notifications/schedule/")[2]

    deployment.restart_worker()
    first_run = SweepRun.objects.filter(job=SweepRun.Job.SWEEP).order_by("pk").first().pk
    rows = _wait_until_every_immediate_row_is_sent(smtp_sink, timeout=WITHIN)
    took = smtp_sink.messages[-1].at - killed_at

    by_row = Counter(pk for m in smtp_sink.messages for pk in m.notification_ids)
    assert set(by_row) == {pk for pk, _ in rows}, "no reminder lost, none mailed that has no row"
    twice = {pk for pk, n in by_row.items() if n > 1}
    assert max(by_row.values()) <= 2
    assert twice == claimed & accepted, "only rows claimed at the kill, with their mail already accepted, repeat"
    assert len(twice) <= concurrency
    for pk in twice:
        copies = [m for m in smtp_sink.messages if m.notification_ids == (pk,)]
        ids = {m.header("Message-ID") for m in copies}
        assert len(ids) == 1 and next(iter(ids)).startswith(f"<notification-{pk}@"), ids  # clients collapse them
        assert len({m.rcpt_to for m in copies}) == 1
    recipients = {m.rcpt_to[0] for m in smtp_sink.messages}
    assert recipients == {rep_a.email, rep_b.email}
    released = sum(r.by_kind.get("stale_claims_released", 0) for r in SweepRun.objects.filter(pk__gt=first_run))
    assert released == len(claimed)
    assert took < WITHIN
    print(f"\nkill while sending: {len(rows)} reminders; at the kill {sent_before} sent, {len(claimed)} claimed "
          f"(concurrency {concurrency}), {held} sender(s) held after their 250; {len(twice)} mailed twice "
          f"(same Message-ID), none lost; the last mail {took:.0f} s after the kill")
