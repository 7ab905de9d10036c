"""A task sent through a real Celery worker on Redis runs."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(
    not os.environ.get("REDIS_URL"), reason="REDIS_URL unset: this run uses eager Celery (CI runs both)"
)


@pytest.fixture
def worker():
    env = dict(os.environ)
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", "default", "--pool", "solo",
         "--without-gossip", "--without-mingle", "-l", "warning", "-n", f"test-{os.getpid()}@%h"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    yield proc
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.mark.worker
def test_task_runs_on_a_real_worker_over_redis(worker):
    from accounts.tasks import ping
    from config.celery import app

    assert settings.CELERY_BROKER_URL.startswith("redis://")
    assert app.conf.task_always_eager is False
    deadline = time.monotonic() + 60
    result = ping.apply_async()
    value = result.get(timeout=max(1, deadline - time.monotonic()))
    assert value == "pong"
    assert result.successful()


def test_beat_starts_against_redis_with_the_schedule_from_settings(tmp_path):
    """`celery beat` starts, reads CELERY_BEAT_SCHEDULE and keeps running against the broker.

    It talks to another Redis database than the tests' own, so the tasks it sends are never
    consumed by a worker started in another test.
    """
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(os.environ["REDIS_URL"])
    own_db = int(parts.path.strip("/") or 0)
    env = dict(os.environ, REDIS_URL=urlunsplit(parts._replace(path=f"/{(own_db + 1) % 16}")))
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "beat", "-l", "info",
         "--schedule", str(tmp_path / "beat-schedule"), "--max-interval", "1"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        time.sleep(8)
        assert proc.poll() is None, "beat exited early"
    finally:
        proc.terminate()
        output = proc.communicate(timeout=20)[0]
    assert "beat: Starting..." in output
    assert "redis://" in output  # the broker it connected to
    assert "Traceback" not in output
    assert settings.CELERY_BEAT_SCHEDULE, "the schedule lives in settings"
