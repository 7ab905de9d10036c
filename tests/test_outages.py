"""The web process as shipped (docker-compose's gunicorn command) while its database does not answer:
every kind of page answers 503 with Retry-After, in the shape its clients read, and quickly."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str, **headers) -> tuple[int, dict, bytes]:
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


@pytest.fixture(scope="module")
def web_without_database():
    command = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]["web"]["command"]
    assert command[0] == "gunicorn"
    port = _free_port()
    command = [a if a != "0.0.0.0:8000" else f"127.0.0.1:{port}" for a in command]
    command[command.index("--workers") + 1] = "1"
    dead = _free_port()  # nothing listens there: the database "is down"
    env = dict(os.environ, DATABASE_URL=f"postgres://postgres@127.0.0.1:{dead}/rootwatch", SECRET_KEY="outage-test",
               DEBUG="0", HTTPS="0", ALLOWED_HOSTS="127.0.0.1")
    env.pop("REDIS_URL", None)
    proc = subprocess.Popen([sys.executable, "-m", *command], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            assert proc.poll() is None, proc.stdout.read()
            time.sleep(0.2)
    yield base
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.mark.parametrize("path", ["/incidents/", "/incidents/1/", "/cas/", "/audits/", "/distrust/"])
def test_pages_answer_503_with_retry_after_when_the_database_is_down(web_without_database, path):
    started = time.monotonic()
    status, headers, body = _get(web_without_database + path)
    assert status == 503, body[:300]
    assert int(headers["Retry-After"]) > 0
    assert b"briefly unavailable" in body and b"Traceback" not in body
    assert time.monotonic() - started < 5


def test_api_answers_503_json_when_the_database_is_down(web_without_database):
    status, headers, body = _get(web_without_database + "/api/v1/incidents/", Accept="application/json")
    assert status == 503 and int(headers["Retry-After"]) > 0
    assert json.loads(body)["error"] == "unavailable"


def test_rest_answers_503_in_bugzillas_shape_when_the_database_is_down(web_without_database):
    status, headers, body = _get(web_without_database + "/rest/bug?product=CA%20Program")
    assert status == 503 and int(headers["Retry-After"]) > 0
    data = json.loads(body)
    assert data["error"] is True and data["code"] == 32000


def test_healthz_says_the_database_is_down(web_without_database):
    status, _, body = _get(web_without_database + "/healthz")
    assert status == 503
    assert b"database" in body
