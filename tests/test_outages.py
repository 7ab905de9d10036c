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


# --- Redis refused or hanging: the rate limiter fails open, quickly ----------------------------------


@pytest.fixture
def hanging_redis():
    """A port that accepts connections and never answers (a Redis that hangs)."""
    import threading

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    held, stop = [], threading.Event()

    def accept():
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join(timeout=2)
    for conn in held:
        conn.close()
    server.close()


def _throttle_cache_at(settings, port: int) -> None:
    from accounts import throttling

    throttling._cache_down_until = 0.0  # each test meets the outage afresh
    throttle = dict(settings.CACHES["api_throttle"])
    throttle.update(BACKEND="django.core.cache.backends.redis.RedisCache", LOCATION=f"redis://127.0.0.1:{port}/0",
                    OPTIONS={"socket_connect_timeout": 0.5, "socket_timeout": 0.5})
    settings.CACHES = {**settings.CACHES, "api_throttle": throttle}
    settings.API_RATE_LIMITS = {"key": "1000/hour", "address": "300/minute"}


@pytest.mark.django_db
@pytest.mark.parametrize("redis_state", ["refused", "hanging"])
def test_api_rest_feeds_and_sign_in_answer_within_2_s_while_redis_is_down(settings, client, hanging_redis,
                                                                           redis_state, django_user_model):
    assert "socket_timeout" in str(_shipped_throttle_options())
    _throttle_cache_at(settings, hanging_redis if redis_state == "hanging" else _free_port())
    django_user_model.objects.create_user("someone", "someone@example.test", "right-password")
    for method, path, data in [("get", "/api/v1/incidents/", None), ("get", "/rest/bug?limit=1", None),
                               ("get", "/feeds/incidents.atom", None),
                               ("post", "/accounts/login/", {"username": "someone", "password": "wrong"}),
                               ("post", "/accounts/login/", {"username": "someone", "password": "right-password"})]:
        started = time.monotonic()
        response = getattr(client, method)(path, data) if data else getattr(client, method)(path)
        assert response.status_code in (200, 302), (path, response.status_code)
        assert time.monotonic() - started < 2, path
    assert client.get("/accounts/").status_code == 200  # the right password signed in


@pytest.mark.django_db
def test_the_limiter_counts_again_once_its_cache_answers(settings, client):
    from accounts import throttling

    throttling._cache_down_until = 0.0
    settings.CACHES = {**settings.CACHES, "api_throttle": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                                                           "LOCATION": f"outage-{id(settings)}"}}
    settings.API_RATE_LIMITS = {"key": None, "address": "2/minute"}
    assert [client.get("/api/v1/incidents/").status_code for _ in range(3)] == [200, 200, 429]


def _shipped_throttle_options():
    """The api_throttle cache settings.py builds when REDIS_URL is set (read without importing it twice)."""
    source = (ROOT / "config" / "settings.py").read_text()
    return source[source.index('"api_throttle"'):source.index("BUGZILLA_DEFAULT_LIMIT")]
