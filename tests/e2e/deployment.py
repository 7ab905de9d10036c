"""The deployment as docker-compose ships it, started on this machine for the end-to-end tests.

Web (gunicorn), the Celery worker and beat run with the commands and the environment docker-compose.yml
gives them, read from the YAML. What is replaced, and only that: web's bind address (a free loopback
port), beat's schedule file (a temporary path), and in the environment the addresses of this machine's
PostgreSQL (the pytest-django test database), Redis and SMTP server, the secret key, the host name,
and the timing the tests need (a sweep every minute, stale claims released after 30 s, the daily
digest's hour far from now). Each process leads its own process group, so a kill reaches the
worker's pool children too; `stop_all()` leaves no process behind.
"""

from __future__ import annotations

import http.client
import os
import re
import secrets
import signal
import sys
import time
import urllib.parse
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import yaml

from tests.notifications.notif_support import free_port
from tests.test_worker import compose_command

ROOT = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"
# The name the deployment is reached by (ALLOWED_HOSTS) and writes into links and Message-IDs.
SITE_URL = "https://rootwatch.e2e.test"
QUEUES = ("default", "notifications")
# What of this machine's environment the processes inherit: the rest comes from docker-compose.yml.
_INHERITED = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "TZ")
_INTERPOLATION = re.compile(r"\$\$|\$\{(\w+)(?:(:?[-?])([^}]*))?\}")


# --- docker-compose.yml ----------------------------------------------------------------------


def compose_environment(service: str, values: dict[str, str]) -> dict[str, str]:
    """The service's environment from docker-compose.yml, with ${VAR:-default} / ${VAR:?message} filled
    in from `values` (this deployment's .env) the way compose does."""
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    env = compose["services"][service].get("environment") or {}

    def fill(match: re.Match) -> str:
        if match.group(0) == "$$":
            return "$"
        name, op, arg = match.groups()
        value = values.get(name)
        if op in (":?", "?") and not value:
            raise AssertionError(f"docker-compose.yml requires {name} ({arg}); the test must give it")
        if op in (":-", "-") and not value:
            return arg
        return value or ""

    return {key: _INTERPOLATION.sub(fill, str(value)) for key, value in env.items()}


def database_url() -> str:
    """The pytest-django test database (its name is in settings once the database fixture ran)."""
    from django.conf import settings

    from tests.notifications.test_exactly_once_worker import _database_url

    assert settings.DATABASES["default"]["ENGINE"].endswith("postgresql"), "the processes share the test database"
    return _database_url()


def broker_reset(redis_url: str) -> None:
    """Empty the queues and kombu's unacked store: a task a killed worker held (acks_late) would
    otherwise come back after the visibility timeout, in some later test's worker."""
    import redis

    client = redis.Redis.from_url(redis_url)
    names = [q + suffix for q in QUEUES for suffix in ("", *(f"\x06\x16{p}" for p in range(10)))]
    client.delete(*names, "unacked", "unacked_index", "unacked_mutex")
    client.close()


# --- processes ---------------------------------------------------------------------------------


# Becomes `python -m <command>` (execv: same process, same group) after asking Linux for a SIGTERM should
# the test runner die without its teardown (a CI timeout, a SIGKILL), so no deployment outlives it.
_LAUNCHER = (
    "import ctypes, os, signal, sys\n"
    "ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG\n"
    "if os.getppid() != int(sys.argv[1]):\n"
    "    sys.exit('the test runner is gone')\n"
    "os.execv(sys.executable, [sys.executable, *sys.argv[2:]])\n"
)


def _group_members(pgid: int) -> list[int]:
    """Live (not zombie) processes in a process group, read from /proc."""
    members = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid pgrp ...: comm may hold spaces and parentheses, so split after the last ')'.
        state, _ppid, pgrp = stat[stat.rindex(")") + 2:].split()[:3]
        if int(pgrp) == pgid and state not in ("Z", "X"):
            members.append(int(entry))
    return members


@dataclass
class Service:
    name: str
    command: list[str]
    env: dict[str, str]
    log: Path
    ready_line: str | None = None  # a line in the log that says it is up
    procs: list = field(default_factory=list)

    @property
    def proc(self):
        return self.procs[-1]

    def start(self) -> Service:
        import subprocess

        with self.log.open("a") as log:
            log.write(f"\n===== {datetime.now(UTC):%H:%M:%S.%f} start: {' '.join(self.command)}\n")
        self._offset = self.log.stat().st_size
        handle = self.log.open("ab")
        self.procs.append(subprocess.Popen(
            [sys.executable, "-c", _LAUNCHER, str(os.getpid()), "-m", *self.command], cwd=ROOT, env=self.env,
            stdout=handle, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True,  # its own process group: killpg reaches every child
        ))
        handle.close()
        return self

    def output(self, *, since_start: bool = True) -> str:
        data = self.log.read_bytes()
        return data[self._offset:].decode("utf-8", "replace") if since_start else data.decode("utf-8", "replace")

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.output().splitlines()[-lines:])

    def wait_ready(self, timeout: float = 60, probe=None) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"{self.name} exited with {self.proc.returncode}:\n{self.tail()}")
            if (self.ready_line is None or self.ready_line in self.output()) and (probe is None or probe()):
                return
            time.sleep(0.2)
        raise AssertionError(f"{self.name} not ready within {timeout:.0f} s:\n{self.tail()}")

    def members(self) -> list[int]:
        return _group_members(self.proc.pid) if self.procs else []

    def kill_group(self, sig: int = signal.SIGKILL, timeout: float = 20) -> None:
        """Signal the whole process group at once; for SIGKILL, wait until none of it is alive."""
        try:
            os.killpg(self.proc.pid, sig)
        except ProcessLookupError:
            pass
        if sig == signal.SIGKILL:
            self._wait_gone(timeout)

    def stop(self, grace: float = 15) -> None:
        """SIGTERM to the group, SIGKILL to whatever is left after `grace` seconds."""
        if not self.procs:
            return
        if self.members():
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            deadline = time.monotonic() + grace
            while self.members() and time.monotonic() < deadline:
                time.sleep(0.1)
            if self.members():
                os.killpg(self.proc.pid, signal.SIGKILL)
        self._wait_gone(20)

    def _wait_gone(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        for p in self.procs:
            try:
                p.wait(timeout=max(deadline - time.monotonic(), 0.1))  # reap the leader
            except Exception:
                p.kill()
        while self.members() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not self.members(), f"{self.name}: processes {self.members()} outlived SIGKILL"


class Deployment:
    """web, worker and beat as docker-compose starts them, against this machine's services."""

    def __init__(self, *, workdir: Path, smtp_port: int, redis_url: str, stale_claim_seconds: int = 30,
                 extra_env: dict[str, str] | None = None):
        self.workdir = workdir
        self.port = free_port()
        self.redis_url = redis_url
        values = {  # what a .env beside docker-compose.yml would hold
            "SECRET_KEY": secrets.token_urlsafe(40),
            "ALLOWED_HOSTS": f"{HOST},{urllib.parse.urlsplit(SITE_URL).hostname}",
            "SITE_URL": SITE_URL,
            "EMAIL_HOST": HOST,
            "EMAIL_PORT": str(smtp_port),
        }
        local = {
            # docker-compose names its own hosts (db, redis): here they are this machine's.
            "DATABASE_URL": database_url(),
            "REDIS_URL": redis_url,
            # Not in docker-compose.yml: the settings' default outside DEBUG, written out.
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            # Timing for a test that lasts minutes, not days.
            "NOTIFICATION_SWEEP_MINUTES": "1",
            "NOTIFICATION_STALE_CLAIM_SECONDS": str(stale_claim_seconds),
            "NOTIFICATION_DIGEST_HOUR": str((datetime.now(UTC).hour + 12) % 24),
            **(extra_env or {}),
        }
        base = {k: os.environ[k] for k in _INHERITED if k in os.environ}

        def env(service: str) -> dict[str, str]:
            return {**base, **compose_environment(service, values), **local}

        web = compose_command("web")
        assert web[0] == "gunicorn" and "0.0.0.0:8000" in web, web
        web = [f"{HOST}:{self.port}" if word == "0.0.0.0:8000" else word for word in web]
        worker = compose_command("worker")
        assert worker[:4] == ["celery", "-A", "config", "worker"], worker
        beat = compose_command("beat")
        assert beat[:4] == ["celery", "-A", "config", "beat"] and "--schedule" in beat, beat
        beat[beat.index("--schedule") + 1] = str(workdir / "celerybeat-schedule")

        self._web_command, self._env = web, env
        self.web = Service("web", web, env("web"), workdir / "web.log")
        self.worker = Service("worker", worker, env("worker"), workdir / "worker.log", ready_line=" ready.")
        self.beat = Service("beat", beat, env("beat"), workdir / "beat.log", ready_line="beat: Starting...")
        self.services = (self.web, self.worker, self.beat)
        self.extra: list[tuple[Service, int | None]] = []  # scaled out: more web and worker processes

    def add_web(self) -> int:
        """One more gunicorn, the same command and environment on another port (as a load balancer's second
        backend); returns its port."""
        port = free_port()
        command = [f"{HOST}:{port}" if word == f"{HOST}:{self.port}" else word for word in self._web_command]
        n = len(self.extra) + 2
        service = Service(f"web{n}", command, self._env("web"), self.workdir / f"web{n}.log").start()
        probe = WebClient(HOST, port)
        service.wait_ready(probe=lambda: probe.healthy())
        self.extra.append((service, port))
        return port

    def add_worker(self) -> Service:
        """One more Celery worker, the very command and environment of the first (a second container)."""
        n = len(self.extra) + 2
        service = Service(f"worker{n}", list(self.worker.command), dict(self.worker.env), self.workdir / f"worker{n}.log",
                          ready_line=" ready.").start()
        service.wait_ready()
        self.extra.append((service, None))
        return service

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def client(self, port: int | None = None) -> WebClient:
        return WebClient(HOST, port or self.port)

    def start(self, *, beat: bool = True) -> Deployment:
        broker_reset(self.redis_url)
        self.web.start()
        self.worker.start()
        if beat:
            self.beat.start()
        probe = self.client()
        self.web.wait_ready(probe=lambda: probe.healthy())
        self.worker.wait_ready()
        if beat:
            self.beat.wait_ready()
        return self

    def restart_worker(self) -> None:
        """The worker again, with the same command and environment."""
        assert not self.worker.members()
        self.worker.start()
        self.worker.wait_ready()

    def stop_all(self) -> None:
        errors = []
        for service in (self.beat, *(s for s, _ in self.extra), self.worker, self.web):
            try:
                service.stop()
            except AssertionError as exc:
                errors.append(str(exc))
        broker_reset(self.redis_url)
        assert not errors, errors

    def logs(self) -> str:
        services = (*self.services, *(s for s, _ in self.extra))
        return "\n".join(f"--- {s.name} ---\n{s.tail(60)}" for s in services if s.procs)


# --- a browser, roughly: cookies, CSRF tokens, and the proxy's headers --------------------------


class WebClient:
    """Talks HTTP to gunicorn as the TLS-terminating proxy in front of it would (X-Forwarded-Proto:
    https, from a trusted address), keeping the cookies a browser would, Secure ones included."""

    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        self.cookies: dict[str, str] = {}
        self.public_host = urllib.parse.urlsplit(SITE_URL).hostname

    def request(self, method: str, path: str, *, body: bytes | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        sent = {"Host": self.public_host, "X-Forwarded-Proto": "https", "X-Forwarded-For": "192.0.2.10",
                **(headers or {})}
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        try:
            conn.request(method, path, body=body, headers=sent)
            response = conn.getresponse()
            data = response.read()
            for name, value in response.getheaders():
                if name.lower() == "set-cookie":
                    cookie, _, _ = value.partition(";")
                    key, _, val = cookie.partition("=")
                    self.cookies[key.strip()] = val.strip().strip('"')
            return response.status, {k.lower(): v for k, v in response.getheaders()}, data
        finally:
            conn.close()

    def get(self, path: str, **headers) -> tuple[int, dict[str, str], bytes]:
        return self.request("GET", path, headers=headers)

    def healthy(self) -> bool:
        try:
            return self.get("/healthz")[0] == 200
        except OSError:
            return False

    def post_form(self, path: str, form_page: str, data: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        """Open `form_page`, take its CSRF token, post `data` to `path` as the browser would."""
        status, _, page = self.get(form_page)
        assert status == 200, (form_page, status, page[:500])
        token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        assert token, f"no CSRF token on {form_page}"
        origin = f"https://{self.public_host}"
        body = urllib.parse.urlencode({"csrfmiddlewaretoken": token.group(1).decode(), **data}).encode()
        return self.request("POST", path, body=body, headers={
            "Content-Type": "application/x-www-form-urlencoded", "Origin": origin, "Referer": origin + form_page})

    def sign_in(self, username: str, password: str) -> None:
        status, headers, body = self.post_form("/accounts/login/", "/accounts/login/",
                                               {"username": username, "password": password})
        assert status == 302, (status, body[:800])
        assert "sessionid" in self.cookies, self.cookies

    def api(self, method: str, path: str, *, token: str, json_body: dict | None = None):
        import json

        body = None if json_body is None else json.dumps(json_body).encode()
        status, headers, data = self.request(method, path, body=body, headers={
            "Authorization": f"Token {token}", "Content-Type": "application/json", "Accept": "application/json"})
        return status, (json.loads(data) if data and headers.get("content-type", "").startswith("application/json")
                        else data)
