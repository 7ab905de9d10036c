import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, parse_database_url, parse_redis_url

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    "url, says",
    [
        ("mysql://root@localhost/db", "scheme 'mysql'"),
        ("postgres://postgres@127.0.0.1:5432/", "names no database"),
        ("postgres://postgres@127.0.0.1:notaport/db", "malformed"),
        ("not a url at all", "scheme ''"),
    ],
)
def test_malformed_database_url_is_refused_with_a_clear_message(url, says):
    with pytest.raises(ImproperlyConfigured) as exc:
        parse_database_url(url)
    assert "DATABASE_URL" in str(exc.value)
    assert says in str(exc.value)


def test_postgres_and_sqlite_urls_are_accepted():
    pg = parse_database_url("postgres://postgres@127.0.0.1:5432/rootwatch")
    assert pg["ENGINE"] == "django.db.backends.postgresql" and pg["NAME"] == "rootwatch"
    lite = parse_database_url("sqlite:////tmp/x.sqlite3")
    assert lite["ENGINE"] == "django.db.backends.sqlite3"


def test_bad_boolean_and_redis_url_are_refused():
    os.environ["RW_TEST_FLAG"] = "maybe"
    try:
        with pytest.raises(ImproperlyConfigured, match="RW_TEST_FLAG='maybe' is not a boolean"):
            env_bool("RW_TEST_FLAG", False)
    finally:
        del os.environ["RW_TEST_FLAG"]
    with pytest.raises(ImproperlyConfigured, match="not a Redis URL"):
        parse_redis_url("http://127.0.0.1:6379")


def _manage(*args, **env):
    # A clean production-like environment: none of the test run's own variables leak in
    # (the browser tests set DJANGO_ALLOW_ASYNC_UNSAFE, which check --deploy rightly warns about).
    dropped = ("DATABASE_URL", "REDIS_URL", "DEBUG", "SECRET_KEY", "HTTPS", "EMAIL_BACKEND", "DJANGO_ALLOW_ASYNC_UNSAFE")
    base = {k: v for k, v in os.environ.items() if k not in dropped}
    base.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=base, capture_output=True, text=True, timeout=120
    )


def test_process_refuses_to_start_with_a_malformed_database_url():
    result = _manage("check", SECRET_KEY="x" * 50, DATABASE_URL="oracle://scott:tiger@db/orcl")
    assert result.returncode != 0
    assert "DATABASE_URL='oracle://scott:tiger@db/orcl' has scheme 'oracle'" in result.stderr


def test_process_refuses_to_start_without_secret_key_outside_debug():
    result = _manage("check")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_check_deploy_is_clean_with_production_values():
    result = _manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        SECRET_KEY="k3y-" + "x9Q2#vL8$pR5!mT1&zW4" * 3,
        ALLOWED_HOSTS="rootwatch.example.org",
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/rootwatch",
        REDIS_URL="redis://127.0.0.1:6379/0",
    )
    assert result.returncode == 0, result.stderr + result.stdout
    assert "System check identified no issues" in result.stdout
