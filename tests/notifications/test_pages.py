"""The notifications page and count, delivery and watches, one-click unsubscribe, the staff schedule."""

from __future__ import annotations

import time

import pytest
from django.utils import timezone

from notifications import actions
from notifications.models import Delivery, Notification, NotificationPreference, Watch

pytestmark = pytest.mark.django_db


def _notify(user, n=1, **kw):
    now = timezone.now()
    return [
        Notification.objects.create(
            subject_type="incident", subject_id=1000 + i, kind="update_overdue", due_date=now.date(), due_at=now,
            recipient=user, title=f"Bug {1000 + i}: next update overdue", url="/incidents/", delivery="immediate",
            state="sent", next_attempt_at=now, created_at=now, **kw,
        )
        for i in range(n)
    ]


def test_page_lists_only_own_notifications_and_nav_counts_unread(client_for, rep_a, rep_b):
    _notify(rep_a, 2)
    _notify(rep_b, 1)
    page = client_for(rep_a).get("/notifications/")
    assert page.status_code == 200
    body = page.content.decode()
    assert body.count('data-testid="notification"') == 2
    assert "Notifications (2)" in body
    assert "Notifications (1)" in client_for(rep_b).get("/notifications/").content.decode()


def test_mark_all_read_clears_the_count_for_that_user_only(client_for, rep_a, rep_b):
    _notify(rep_a, 2)
    _notify(rep_b, 1)
    client_for(rep_a).post("/notifications/read/")
    assert Notification.objects.filter(recipient=rep_a, read_at__isnull=True).count() == 0
    assert Notification.objects.filter(recipient=rep_b, read_at__isnull=True).count() == 1
    assert "Notifications (0)" in client_for(rep_a).get("/notifications/").content.decode()


def test_anonymous_is_sent_to_sign_in(client_for, anonymous):
    assert client_for(None).get("/notifications/").status_code == 302
    assert client_for(None).get("/notifications/settings/").status_code == 302


def test_list_runs_a_fixed_number_of_queries(client_for, rep_a, django_assert_num_queries):
    c = client_for(rep_a)
    _notify(rep_a, 3)
    c.get("/notifications/")
    with django_assert_num_queries(7) as small:  # 7th: the navigation's saved searches (issue 16)
        c.get("/notifications/")
    Notification.objects.all().delete()
    _notify(rep_a, 50)
    with django_assert_num_queries(len(small.captured_queries)):
        c.get("/notifications/")


def test_choosing_digest_moves_waiting_rows_to_the_digest(client_for, rep_a):
    (row,) = _notify(rep_a, 1)
    Notification.objects.filter(pk=row.pk).update(state="pending")
    r = client_for(rep_a).post("/notifications/settings/", {"form": "delivery", "delivery": "digest"})
    assert r.status_code == 302
    assert NotificationPreference.objects.get(user=rep_a).delivery == Delivery.DIGEST
    assert Notification.objects.get(pk=row.pk).delivery == Delivery.DIGEST
    bad = client_for(rep_a).post("/notifications/settings/", {"form": "delivery", "delivery": "pigeon"})
    assert bad.status_code == 400 and NotificationPreference.objects.get(user=rep_a).delivery == Delivery.DIGEST


def test_watch_a_ca_and_an_incident_but_not_someone_elses_security_incident(client_for, reviewer, owner_a, make_incident):
    public = make_incident(owner_a)
    secret = make_incident(owner_a, security_sensitive=True)
    c = client_for(reviewer)
    assert c.post("/notifications/settings/", {"form": "watch_ca", "ca_owner": owner_a.pk}).status_code == 302
    assert c.post("/notifications/settings/", {"form": "watch_incident", "number": public.number}).status_code == 302
    refused = c.post("/notifications/settings/", {"form": "watch_incident", "number": secret.number})
    assert refused.status_code == 400 and "No incident with that number" in refused.content.decode()
    # Watching an incident is being on its CC list; the settings page lists and leaves the same entry.
    assert set(Watch.objects.filter(user=reviewer).values_list("ca_owner_id", flat=True)) == {owner_a.pk}
    assert list(public.cc.values_list("username", flat=True)) == ["reviewer"]
    assert f"Leave the CC list of bug {public.number}" in c.get("/notifications/settings/").content.decode()
    assert c.post("/notifications/settings/", {"form": "leave_cc", "number": public.number}).status_code == 302
    assert not public.cc.exists()
    watch = Watch.objects.get(user=reviewer)
    assert c.post("/notifications/settings/", {"form": "unwatch", "watch": watch.pk}).status_code == 302
    assert not Watch.objects.filter(pk=watch.pk).exists()


def test_one_click_unsubscribe_asks_on_get_and_acts_on_post_without_csrf(client, rep_a):
    token = actions.unsubscribe_token(rep_a)
    url = f"/notifications/unsubscribe/{token}/"
    assert client.get(url).status_code == 200
    assert not NotificationPreference.objects.filter(user=rep_a).exists()
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)  # a mail client's RFC 8058 POST has no CSRF token
    r = strict.post(url, {"List-Unsubscribe": "One-Click"})
    assert r.status_code == 200
    assert NotificationPreference.objects.get(user=rep_a).delivery == Delivery.NONE


def test_forged_or_stale_unsubscribe_link_changes_nothing(client, rep_a, rep_b):
    token = actions.unsubscribe_token(rep_a)
    assert client.post(f"/notifications/unsubscribe/{token[:-3]}xyz/").status_code == 400
    rep_a.email = "new-address@example.test"
    rep_a.save()
    assert client.post(f"/notifications/unsubscribe/{token}/").status_code == 400
    assert not NotificationPreference.objects.exists()


def test_schedule_is_staff_only_and_shows_jobs_and_runs(client_for, staff, rep_a, reviewer):
    actions.sweep_run(enqueue=False)
    r = client_for(staff).get("/notifications/schedule/")
    body = r.content.decode()
    assert r.status_code == 200
    assert "notifications-sweep" in body and "every 15 minutes" in body
    assert "notifications-digest" in body and "daily at 07:00 UTC" in body
    assert "Latest runs: notifications-sweep" in body
    assert client_for(rep_a).get("/notifications/schedule/").status_code == 403
    assert client_for(reviewer).get("/notifications/schedule/").status_code == 403


def test_schedule_reads_labels_and_tells_a_stopped_run_from_a_running_one(client_for, staff):
    from datetime import timedelta

    from django.utils import timezone

    from notifications.models import SweepRun

    now = timezone.now()
    SweepRun.objects.create(job="sweep", as_of=now - timedelta(hours=3), started_at=now - timedelta(hours=3),
                            by_kind={"first_response_overdue": 3, "stale_claims_released": 2})
    body = client_for(staff).get("/notifications/schedule/").content.decode()
    assert "First response overdue: 3" in body and "Claims of a stopped worker released: 2" in body
    assert "first_response_overdue" not in body and "stale_claims_released" not in body
    assert "(stopped before it finished)" in body
    SweepRun.objects.create(job="sweep", as_of=now, started_at=now)
    assert "(running)" in client_for(staff).get("/notifications/schedule/").content.decode()


def test_with_the_broker_down_pages_answer_at_once_and_say_reminders_wait(client_for, staff, settings):
    settings.REDIS_URL = "redis://127.0.0.1:9/0"  # nothing listens on the discard port
    c = client_for(staff)
    started = time.monotonic()
    assert c.get("/notifications/").status_code == 200
    r = c.post("/notifications/schedule/", follow=True)
    elapsed = time.monotonic() - started
    assert r.status_code == 200
    assert "broker is unavailable" in r.content.decode()
    assert elapsed < 3, elapsed
    assert c.get("/healthz").status_code == 503
