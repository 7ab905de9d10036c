"""A /rest/ client's api_key sent in the URL (Bugzilla-compatible, still accepted) never reaches a
log line: gunicorn's access log (config.gunicorn, as the Dockerfile and compose start it) and
Django's log records (config.redaction.RedactSecrets on the root console handler)."""

from __future__ import annotations

import io
import logging
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from config.redaction import redact

ROOT = Path(__file__).resolve().parents[2]
SECRET = "rw_SECRETKEYVALUE1234567890"


def test_redact_replaces_every_secret_parameter_and_keeps_the_rest():
    line = f'GET /rest/bug?id=1&api_key={SECRET}&Bugzilla_api_key={SECRET}&BUGZILLA_PASSWORD=hunter2;x=2 HTTP/1.1'
    cleaned = redact(line)
    assert SECRET not in cleaned and "hunter2" not in cleaned
    assert cleaned == "GET /rest/bug?id=1&api_key=[redacted]&Bugzilla_api_key=[redacted]&BUGZILLA_PASSWORD=[redacted];x=2 HTTP/1.1"
    # A parameter that only ends in "api_key" is not a secret parameter, and nothing else changes.
    assert redact("/rest/bug?my_api_key=1&summary=api_key") == "/rest/bug?my_api_key=1&summary=api_key"


def test_djangos_log_records_are_redacted_on_the_console_handler():
    handler = next(h for h in logging.getLogger().handlers if any(type(f).__name__ == "RedactSecrets" for f in h.filters))
    stream = io.StringIO()
    previous = handler.setStream(stream)
    try:
        # As runserver logs a request line, and as any code quoting a URL would.
        logging.getLogger("django.server").info('"%s" %s %s', f"GET /rest/bug?api_key={SECRET} HTTP/1.1", 200, 17)
        logging.getLogger("django.request").warning("Bad Request: %s", f"/rest/bug?Bugzilla_api_key={SECRET}")
    finally:
        handler.setStream(previous)
    text = stream.getvalue()
    assert SECRET not in text and "api_key=[redacted]" in text and "Bugzilla_api_key=[redacted]" in text


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_gunicorns_access_log_as_deployed_holds_no_key(tmp_path):
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert '"-c", "python:config.gunicorn"' in dockerfile
    assert '"-c", "python:config.gunicorn"' in (ROOT / "docker-compose.yml").read_text()
    port = _free_port()
    env = {**os.environ, "SECRET_KEY": "x" * 50, "DEBUG": "0", "HTTPS": "0", "ALLOWED_HOSTS": "127.0.0.1",
           "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}", "VAR_DIR": str(tmp_path)}
    env.pop("REDIS_URL", None)
    gunicorn = Path(sys.executable).with_name("gunicorn")
    log = tmp_path / "access.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            [str(gunicorn), "-c", "python:config.gunicorn", "config.wsgi:application", "--bind", f"127.0.0.1:{port}",
             "--workers", "1"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/rest/version?api_key={SECRET}&x=1", timeout=5)
                    break
                except urllib.error.HTTPError:
                    break  # answered (an unknown key is Bugzilla's 400): the line is logged
                except OSError:
                    if time.monotonic() > deadline:
                        pytest.fail("gunicorn did not start: " + log.read_text()[-2000:])
                    time.sleep(0.3)
            time.sleep(0.5)
        finally:
            server.terminate()
            server.wait(timeout=20)
    text = log.read_text()
    assert "/rest/version?api_key=[redacted]&x=1" in text, text[-2000:]
    assert SECRET not in text
