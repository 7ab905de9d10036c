"""run_schedule: the periodic jobs of CELERY_BEAT_SCHEDULE, run in this process at their times.

`make run` starts it beside runserver, so the embedded setup (SQLite, no Redis, no beat, no worker)
sweeps deadlines and sends digests like the deployment does. The deployment uses celery beat and
a worker instead; both read the same schedule from settings.
"""

from __future__ import annotations

import time

from celery.schedules import maybe_schedule
from celery.schedules import schedule as interval
from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Run the beat schedule's jobs in this process (for make run; the deployment runs celery beat)."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="run the jobs that are due now, then exit")
        parser.add_argument("--check-every", type=float, default=30.0, metavar="SECONDS",
                            help="how often to look for due jobs (default 30)")

    def handle(self, *args, once: bool, check_every: float, **options):
        from config.celery import app

        app.loader.import_default_modules()
        now = app.now()
        jobs = {}
        for name, entry in settings.CELERY_BEAT_SCHEDULE.items():
            when = maybe_schedule(entry["schedule"], app=app)
            # An interval job runs at start (as beat does); a crontab job waits for its next time.
            last = now - when.run_every if isinstance(when, interval) else now
            jobs[name] = [entry["task"], when, last]
        self.stdout.write(f"run_schedule: {', '.join(jobs)} (checking every {check_every:g} s)")
        while True:
            for name, job in jobs.items():
                task, when, last = job
                if not when.is_due(last).is_due:
                    continue
                job[2] = app.now()
                try:
                    result = app.tasks[task].apply()
                    self.stdout.write(f"run_schedule: {name}: {result.result}")
                except Exception as exc:  # a failing job is logged; the next one still runs
                    self.stderr.write(f"run_schedule: {name} failed: {exc!r}")
            if once:
                return
            time.sleep(max(1.0, min(check_every, _seconds_to_next(jobs))))


def _seconds_to_next(jobs) -> float:
    return min(when.is_due(last).next for _, when, last in jobs.values()) or 1.0


