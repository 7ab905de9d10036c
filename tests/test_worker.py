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
