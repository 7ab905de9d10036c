"""`make run` runs the periodic jobs: run_schedule runs the beat schedule's due jobs in its process."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from django.core.management import call_command

from notifications.models import SweepRun

ROOT = Path(__file__).resolve().parent.parent.parent


@pytest.mark.django_db
def test_run_schedule_once_runs_the_sweep_now_and_leaves_the_daily_digest_for_its_hour(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    out = io.StringIO()
    call_command("run_schedule", "--once", stdout=out)
    assert list(SweepRun.objects.values_list("job", flat=True)) == [SweepRun.Job.SWEEP]
    assert "notifications-sweep" in out.getvalue()


@pytest.mark.django_db
def test_a_failing_job_is_reported_and_does_not_stop_the_others(settings):
    settings.CELERY_BEAT_SCHEDULE = {
        "broken": {"task": "no.such.task", "schedule": 60.0},
        "notifications-sweep": settings.CELERY_BEAT_SCHEDULE["notifications-sweep"],
    }
    err = io.StringIO()
    call_command("run_schedule", "--once", stdout=io.StringIO(), stderr=err)
    assert "broken failed" in err.getvalue()
    assert SweepRun.objects.filter(job=SweepRun.Job.SWEEP).count() == 1


def test_make_run_starts_run_schedule_beside_the_server():
    recipe = re.search(r"^run:[^\n]*\n((?:\t[^\n]*\n)+)", (ROOT / "Makefile").read_text(), flags=re.M).group(1)
    assert "manage.py run_schedule &" in recipe and "manage.py runserver" in recipe
