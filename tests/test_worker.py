"""The worker and beat as shipped: the commands docker-compose and the Makefile run, consuming every
queue a task is routed to, and tasks of each queue run on a real worker over Redis."""

import os
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent

needs_redis = pytest.mark.skipif(
    not os.environ.get("REDIS_URL"), reason="REDIS_URL unset: this run uses eager Celery (CI runs both)"
)


def compose_command(service: str) -> list[str]:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return list(compose["services"][service]["command"])


def makefile_command(target: str) -> list[str]:
    """The recipe's one command line, with $(VENV)/bin/ dropped (the image has celery on its PATH)."""
    text = (ROOT / "Makefile").read_text()
    recipe = re.search(rf"^{target}:[^\n]*\n\t([^\n]+)", text, flags=re.M).group(1)
    return shlex.split(recipe.replace("$(VENV)/bin/", ""))


def _queues_of(command: list[str]) -> set[str] | None:
    """The queues a worker command consumes: its -Q list, or None for every queue in settings."""
    for flag in ("-Q", "--queues"):
        if flag in command:
            return set(command[command.index(flag) + 1].split(","))
    return None


def routed_queues() -> set[str]:
    from config.celery import app

    app.loader.import_default_modules()
    queues = {route["queue"] for route in settings.CELERY_TASK_ROUTES.values()}
    queues |= {task.queue for name, task in app.tasks.items() if not name.startswith("celery.") and task.queue}
    return queues | {settings.CELERY_TASK_DEFAULT_QUEUE}


def test_every_routed_queue_is_declared_and_consumed_by_the_shipped_workers():
    declared = {q.name for q in settings.CELERY_TASK_QUEUES}
    assert {"default", "notifications"} <= routed_queues() <= declared
    for command in (compose_command("worker"), makefile_command("worker")):
        consumed = _queues_of(command)
        assert consumed is None or routed_queues() <= consumed, command


def test_makefile_and_compose_start_the_same_worker_and_beat():
    def core(command: list[str]) -> list[str]:
        # The same program and arguments; the Makefile adds where beat keeps its schedule, compose a concurrency.
        drop = {"--concurrency", "--schedule"}
        out, skip = [], False
        for word in command:
            if skip:
                skip = False
            elif word in drop:
                skip = True
            else:
                out.append(word)
        return out

    assert core(compose_command("worker")) == core(makefile_command("worker"))
    assert core(compose_command("beat")) == core(makefile_command("beat"))


@pytest.fixture
def shipped_worker():
    """docker-compose's worker command, word for word, with a unique node name."""
    command = compose_command("worker")
    assert command[0] == "celery"
    env = dict(os.environ)
    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("postgresql"):
        # The worker reads the test database, as the deployment's worker reads the web's.
        auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
        env["DATABASE_URL"] = f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    proc = subprocess.Popen(
        [sys.executable, "-m", *command, "-n", f"shipped-{os.getpid()}@%h"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    yield proc
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


@needs_redis
@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_the_shipped_worker_runs_tasks_of_every_queue(shipped_worker):
    if not settings.DATABASES["default"]["ENGINE"].endswith("postgresql"):
        pytest.skip("the worker process cannot share an in-memory SQLite test database (CI runs this on PostgreSQL)")
    from accounts.tasks import ping
    from config.celery import app
    from notifications import tasks as notification_tasks
    from notifications.models import SweepRun

    assert settings.CELERY_BROKER_URL.startswith("redis://")
    assert app.conf.task_always_eager is False
    result = ping.apply_async()
    assert result.get(timeout=60) == "pong" and result.successful()
    assert notification_tasks.sweep.queue == "notifications"
    swept = notification_tasks.sweep.apply_async()
    summary = swept.get(timeout=60)
    assert swept.successful() and SweepRun.objects.filter(pk=summary["run"]).exists()


@needs_redis
def test_beat_starts_against_redis_with_the_schedule_from_settings(tmp_path):
    """`celery beat` as the Makefile runs it starts, reads CELERY_BEAT_SCHEDULE and keeps running.

    It talks to another Redis database than the tests' own, so the tasks it sends are never
    consumed by a worker started in another test.
    """
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(os.environ["REDIS_URL"])
    own_db = int(parts.path.strip("/") or 0)
    env = dict(os.environ, REDIS_URL=urlunsplit(parts._replace(path=f"/{(own_db + 1) % 16}")))
    command = makefile_command("beat")
    command[command.index("--schedule") + 1] = str(tmp_path / "beat-schedule")
    proc = subprocess.Popen(
        [sys.executable, "-m", *command, "--max-interval", "1"],
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
