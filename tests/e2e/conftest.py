"""Fixtures for the end-to-end tests: an SMTP server on loopback and the deployment as shipped."""

from __future__ import annotations

import os

import pytest

from tests.e2e.deployment import Deployment
from tests.e2e.smtp_sink import SMTPSink
from tests.notifications.conftest import make_incident  # noqa: F401 (the reminders tests' factory, as a fixture here)

# Every test that starts the deployment; the SMTP sink's own tests need neither marker nor services.
needs_deployment = [
    pytest.mark.e2e,
    pytest.mark.worker,  # this test process queues to the real broker too (no eager Celery)
    pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="REDIS_URL unset: the deployment needs Redis"),
    pytest.mark.skipif(
        not os.environ.get("DATABASE_URL", "").startswith("postgres"),
        reason="DATABASE_URL is not PostgreSQL: gunicorn and Celery cannot share an in-memory SQLite test database",
    ),
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def smtp_sink():
    with SMTPSink() as sink:
        yield sink


@pytest.fixture
def deployment(transactional_db, smtp_sink, tmp_path):
    """web, worker and beat up (beat's first sweep is a minute away); all stopped, process groups and all,
    before the test database is flushed. The processes' logs are printed (pytest shows them on failure)."""
    deployed = Deployment(workdir=tmp_path, smtp_port=smtp_sink.port, redis_url=os.environ["REDIS_URL"])
    try:
        deployed.start()
        yield deployed
    finally:
        try:
            print(deployed.logs())
        finally:
            deployed.stop_all()
