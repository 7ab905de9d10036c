"""Reads for the notification pages and the navigation count."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from celery.schedules import BaseSchedule, crontab, schedule
from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from accounts import permissions as perm
from notifications.models import Notification, SweepRun, Watch

# Which SweepRun job records each beat task's runs.
JOB_OF_TASK = {
    "notifications.tasks.sweep": SweepRun.Job.SWEEP,
    "notifications.tasks.digest": SweepRun.Job.DIGEST,
}


def unread_count(*, user: Any) -> int:
    return Notification.objects.filter(perm.notification_visibility_q(user)).unread().count()


def notifications_for(*, user: Any) -> QuerySet[Notification]:
    """A user's own notifications, newest first (one query a page)."""
    return Notification.objects.filter(perm.notification_visibility_q(user)).order_by("read_at", "-created_at", "-pk")


def watches_for(*, user: Any) -> QuerySet[Watch]:
    """The CA owners a user watches."""
    return Watch.objects.filter(user_id=user.pk).select_related("ca_owner")


def cc_incidents_for(*, user: Any):
    """The incidents whose CC list a user is on (watching an incident is being on it), that they may
    still see, newest first: one query."""
    from compliance.models import Incident

    return (Incident.objects.filter(perm.incident_visibility_q(user), cc=user.pk)
            .only("pk", "number", "title", "security_sensitive").order_by("-number"))


def _as_schedule(value) -> BaseSchedule:
    if isinstance(value, BaseSchedule):
        return value
    if isinstance(value, timedelta):
        return schedule(run_every=value)
    return schedule(run_every=timedelta(seconds=float(value)))


def describe_schedule(value) -> str:
    sched = _as_schedule(value)
    if isinstance(sched, crontab):
        return f"daily at {int(next(iter(sched.hour))):02d}:{int(next(iter(sched.minute))):02d} UTC" if (
            len(sched.hour) == 1 and len(sched.minute) == 1 and len(sched.day_of_week) == 7
        ) else f"cron {sched}"
    minutes = sched.run_every.total_seconds() / 60
    return f"every {minutes:g} minutes"


def schedule_rows(*, now: datetime | None = None, runs_per_job: int = 5) -> list[dict]:
    """Each beat job: its schedule, last and next run, and what its latest runs found (2 queries)."""
    now = now or timezone.now()
    jobs = [job for job in JOB_OF_TASK.values()]
    recent: dict[str, list[SweepRun]] = {job: [] for job in jobs}
    # Small per-job history: the latest runs of each job, newest first.
    for run in SweepRun.objects.filter(job__in=jobs).order_by("-started_at", "-pk")[: runs_per_job * len(jobs) * 4]:
        if len(recent[run.job]) < runs_per_job:
            recent[run.job].append(run)
    rows = []
    for name, entry in sorted(settings.CELERY_BEAT_SCHEDULE.items()):
        sched = _as_schedule(entry["schedule"])
        job = JOB_OF_TASK.get(entry["task"])
        runs = recent.get(job, []) if job else []
        last = runs[0] if runs else None
        next_run = None
        if last is not None:
            next_run = now + sched.remaining_estimate(last.started_at)
        elif isinstance(sched, crontab):
            next_run = now + sched.remaining_estimate(now)
        rows.append({
            "name": name,
            "task": entry["task"],
            "schedule": describe_schedule(entry["schedule"]),
            "last": last,
            "next_run": next_run,
            "runs": runs,
        })
    return rows


def failed_notifications(*, limit: int = 50) -> QuerySet[Notification]:
    return Notification.objects.filter(state=Notification.State.FAILED).select_related("recipient")[:limit]


def outbox_counts() -> dict[str, int]:
    from django.db.models import Count

    return dict(Notification.objects.order_by().values_list("state").annotate(c=Count("pk")))
