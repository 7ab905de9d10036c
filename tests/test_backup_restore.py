"""Backup and restore (`manage.py backup` / `restore`, config/backup.py): real data saved with its media,
restored into a fresh database and a fresh MEDIA_ROOT, and served from there by the web command
docker-compose runs. A damaged or mismatched backup is refused and changes nothing."""

from __future__ import annotations

import http.cookiejar
import io
import json
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import tarfile
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import date
from io import StringIO
from pathlib import Path

import pytest
import yaml
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import connection

from config.backup import sha256_of
from tests.audits.audit_helpers import ISRG_X1, TODAY, minimal_pdf
from tests.conftest import PASSWORD

ROOT = Path(__file__).resolve().parent.parent
COMMENT = "Revocation finished on 2025-09-30; the affected serials are attached to the report."

# Committed rows: pg_dump and the SQLite backup read what other connections see.
committed = pytest.mark.django_db(transaction=True)


@pytest.fixture
def site(settings, tmp_path, staff, rep_a, owner_a):
    """An incident with a comment and a CA-provided audit statement with its PDF, made through the actions."""
    from audits import actions as audits
    from compliance.actions import incidents

    settings.MEDIA_ROOT = str(tmp_path / "media")
    incident = incidents.incident_create(actor=rep_a, ca_owner=owner_a, title="OCSP responses signed with SHA-1",
                                         description="Found by our own monitoring.")
    incidents.comment_create(actor=rep_a, incident=incident, body=COMMENT)
    auditor = audits.auditor_create(actor=staff, name="Schellman & Company, LLC.", location="Tampa, US",
                                    website="https://www.schellman.com/", contact_name="Audit Desk",
                                    contact_email="verify@auditor.test")
    pdf = minimal_pdf()
    statement = audits.statement_submit(
        actor=rep_a, ca_owner=owner_a, auditor=auditor, source="ca", kind="period", period_start=date(2024, 7, 1),
        period_end=date(2025, 6, 30), statement_date=date(2025, 8, 1),
        file=SimpleUploadedFile("webtrust-2025.pdf", pdf, content_type="application/pdf"),
        criteria=[audits.CriterionInput("webtrust-tls-br", "2.8")], fingerprints=[ISRG_X1], today=TODAY,
    )
    assert not statement.is_public  # waits for its auditor: staff and the CA see it, nobody else
    assert (Path(settings.MEDIA_ROOT) / statement.file.name).read_bytes() == pdf
    return {"incident": incident, "statement": statement, "pdf": pdf}


@pytest.fixture
def fresh_database(tmp_path):
    """(DATABASE_URL, sql(statement) -> first value, the query counting its tables) of a new, empty database of
    this run's vendor; dropped afterwards."""
    if connection.vendor == "sqlite":
        path = tmp_path / "restored.sqlite3"

        def sql(statement: str):
            db = sqlite3.connect(path)
            try:
                with db:
                    row = db.execute(statement).fetchone()
            finally:
                db.close()
            return row[0] if row else None

        yield f"sqlite:///{path}", sql, "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
        return

    import psycopg2

    s = connection.settings_dict
    name = f"rw_backup_restored_{os.getpid()}"
    params = {"host": s["HOST"] or None, "port": s["PORT"] or None, "user": s["USER"] or None,
              "password": s["PASSWORD"] or None}
    admin = psycopg2.connect(dbname="postgres", **params)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}"')
        cur.execute(f'CREATE DATABASE "{name}"')

    def sql(statement: str):
        db = psycopg2.connect(dbname=name, **params)
        try:
            with db, db.cursor() as cur:
                cur.execute(statement)
                row = cur.fetchone() if cur.description else None
        finally:
            db.close()
        return row[0] if row else None

    auth = s["USER"] + (f":{urllib.parse.quote(s['PASSWORD'])}" if s["PASSWORD"] else "")
    yield (f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{name}", sql,
           "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
    with admin.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()


def _env(database_url: str, media_root: Path) -> dict:
    env = dict(os.environ, DATABASE_URL=database_url, MEDIA_ROOT=str(media_root), SECRET_KEY="backup-restore-test",
               DEBUG="0", HTTPS="0", ALLOWED_HOSTS="127.0.0.1")
    if not database_url.startswith("postgres"):
        env.pop("REDIS_URL", None)  # the SQLite pass runs without Redis, as `make run` does
    return env


def _manage(*args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Web:
    """docker-compose's web command, word for word but for the bind address, on the restored site."""

    def __init__(self, env: dict):
        command = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]["web"]["command"]
        assert command[0] == "gunicorn" and "0.0.0.0:8000" in command
        self.port = _free_port()
        command = [a if a != "0.0.0.0:8000" else f"127.0.0.1:{self.port}" for a in command]
        self.proc = subprocess.Popen([sys.executable, "-m", *command], cwd=ROOT, env=env,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.base = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                break
            except OSError:
                assert self.proc.poll() is None, self.proc.stdout.read()
                assert time.monotonic() < deadline, "gunicorn did not listen within 30 s"
                time.sleep(0.2)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()


class Browser:
    def __init__(self, base: str):
        self.base = base
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies))

    def get(self, path: str) -> tuple[int, dict, bytes]:
        return self._open(urllib.request.Request(self.base + path))

    def sign_in(self, username: str, password: str) -> None:
        status, _, page = self.get("/accounts/login/")
        assert status == 200
        token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1).decode()
        data = urllib.parse.urlencode({"csrfmiddlewaretoken": token, "username": username, "password": password})
        status, _, body = self._open(urllib.request.Request(self.base + "/accounts/login/", data=data.encode()))
        assert status == 200 and any(c.name == "sessionid" for c in self.cookies), body[:500]

    def _open(self, request) -> tuple[int, dict, bytes]:
        try:
            with self.opener.open(request, timeout=15) as response:
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, dict(exc.headers), exc.read()


def _flip_a_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


@committed
def test_a_backup_restored_into_a_fresh_database_serves_the_incident_and_the_statement_pdf(
    site, fresh_database, tmp_path
):
    database_url, sql, count_tables = fresh_database
    backup = tmp_path / "backup"
    out = StringIO()
    call_command("backup", str(backup), stdout=out)
    manifest = json.loads((backup / "manifest.json").read_text())
    assert manifest["database"]["vendor"] == connection.vendor
    assert "0001_initial" in manifest["migrations"]["compliance"] and manifest["media"]["files"] == 1
    assert "media: 1 files" in out.getvalue() and "backup written" in out.getvalue()
    media = tmp_path / "restored-media"
    env = _env(database_url, media)

    # A flipped byte in the dump: refused before anything is touched.
    damaged = tmp_path / "damaged"
    shutil.copytree(backup, damaged)
    _flip_a_byte(damaged / manifest["database"]["file"])
    result = _manage("restore", str(damaged), env=env)
    assert result.returncode == 1
    assert f"{manifest['database']['file']} is corrupt" in result.stderr and "Nothing was changed" in result.stderr
    assert sql(count_tables) == 0 and not (media.exists() and any(media.iterdir()))

    # A dump cut short, its manifest rewritten to match: the restore starts, fails, and leaves nothing behind.
    dump = damaged / manifest["database"]["file"]
    dump.write_bytes((backup / manifest["database"]["file"]).read_bytes()[: dump.stat().st_size * 2 // 3])
    _tamper(damaged, lambda m: m["files"].update({dump.name: {"sha256": sha256_of(dump), "bytes": dump.stat().st_size}}))
    result = _manage("restore", str(damaged), env=env)
    assert result.returncode == 1, result.stdout
    assert "checks passed" in result.stdout
    assert ("pg_restore failed" in result.stderr and "left as it was" in result.stderr) or \
        "fails SQLite's integrity check" in result.stderr, result.stderr
    assert sql(count_tables) == 0 and not (media.exists() and any(media.iterdir()))

    result = _manage("restore", str(backup), env=env)
    assert result.returncode == 0, result.stderr
    assert "checks passed" in result.stdout and "restored the backup of" in result.stdout
    tables = sql(count_tables)
    assert tables > 30

    # Restoring again over data is refused without --force, and changes nothing.
    incident, statement, pdf = site["incident"], site["statement"], site["pdf"]
    sql(f"UPDATE compliance_incident SET title = 'Changed after the restore' WHERE number = {incident.number}")
    sql("CREATE TABLE left_over (id integer)")
    assert sql(count_tables) == tables + 1
    (media / "left-over.pdf").write_bytes(b"%PDF-1.4 not from the backup")
    result = _manage("restore", str(backup), env=env)
    assert result.returncode == 1 and "is not empty" in result.stderr and "--force" in result.stderr
    assert sql(f"SELECT title FROM compliance_incident WHERE number = {incident.number}") == "Changed after the restore"
    # With --force, what the target held is replaced: tables the backup lacks and files it lacks go.
    result = _manage("restore", "--force", str(backup), env=env)
    assert result.returncode == 0, result.stderr
    assert sql(f"SELECT title FROM compliance_incident WHERE number = {incident.number}") == incident.title
    assert sql(count_tables) == tables  # left_over is gone
    assert sorted(p.name for p in media.iterdir()) == ["audits"]

    web = Web(env)
    try:
        anonymous = Browser(web.base)
        status, _, body = anonymous.get(f"/audits/statements/{statement.pk}/file/")
        assert status == 404 and pdf not in body  # a statement waiting for its auditor stays hidden

        staff = Browser(web.base)
        staff.sign_in("staff", PASSWORD)
        status, _, page = staff.get(f"/incidents/{incident.number}/")
        assert status == 200
        assert b"OCSP responses signed with SHA-1" in page and COMMENT.encode() in page
        status, headers, body = staff.get(f"/audits/statements/{statement.pk}/file/")
        assert status == 200 and headers["Content-Type"] == "application/pdf"
        assert body == pdf
    finally:
        web.stop()


def _tamper(backup: Path, change) -> None:
    manifest = json.loads((backup / "manifest.json").read_text())
    change(manifest)
    (backup / "manifest.json").write_text(json.dumps(manifest))


def _damage(backup: Path, case: str, tmp_path: Path) -> str:
    """Spoil a copy of a good backup in one way; return what the refusal must say."""
    db_file = "database.dump" if connection.vendor == "postgresql" else "database.sqlite3"
    if case == "newer migration":
        _tamper(backup, lambda m: m["migrations"]["compliance"].append("0999_from_a_newer_rootwatch"))
        return "compliance.0999_from_a_newer_rootwatch"
    if case == "other vendor":
        other, other_file = (("sqlite", "database.sqlite3") if connection.vendor == "postgresql"
                             else ("postgresql", "database.dump"))
        (backup / db_file).rename(backup / other_file)

        def swap(m):
            m["database"] = {"vendor": other, "file": other_file}
            m["files"][other_file] = m["files"].pop(db_file)

        _tamper(backup, swap)
        return "this site uses"
    if case == "flipped byte in the media":
        _flip_a_byte(backup / "media.tar")
        return "media.tar is corrupt"
    if case == "missing file":
        (backup / "media.tar").unlink()
        return "media.tar is missing"
    if case == "not a manifest":
        (backup / "manifest.json").write_text("{not json")
        return "is not valid JSON"
    if case == "no manifest":
        (backup / "manifest.json").unlink()
        return "has no manifest.json"
    assert case == "path out of the media folder"
    evil = tmp_path / "evil.tar"
    with tarfile.open(evil, "w") as tar:
        info = tarfile.TarInfo("../outside.pdf")
        info.size = 4
        tar.addfile(info, io.BytesIO(b"%PDF"))
    shutil.copy(evil, backup / "media.tar")
    _tamper(backup, lambda m: m["files"].update({"media.tar": {"sha256": sha256_of(evil), "bytes": evil.stat().st_size}}))
    return "cannot be unpacked safely"


@committed
def test_a_mismatched_or_damaged_backup_is_refused_with_a_clear_message_and_changes_nothing(site, tmp_path, settings):
    from compliance.models import Comment, Incident

    good = tmp_path / "backup"
    call_command("backup", str(good), stdout=StringIO())
    media_root = Path(settings.MEDIA_ROOT)
    before = (Incident.objects.count(), Comment.objects.count(), sorted(media_root.rglob("*")))
    assert before[0] == 1 and before[2]
    for case in ("newer migration", "other vendor", "flipped byte in the media", "missing file", "not a manifest",
                 "no manifest", "path out of the media folder"):
        backup = tmp_path / case.replace(" ", "-")
        shutil.copytree(good, backup)
        expected = _damage(backup, case, tmp_path)
        # With --force, over this test's own database: the checks come before any change.
        with pytest.raises(CommandError) as refused:
            call_command("restore", str(backup), force=True, stdout=StringIO())
        assert expected in str(refused.value) and "Nothing was changed" in str(refused.value), case
        assert (Incident.objects.count(), Comment.objects.count(), sorted(media_root.rglob("*"))) == before, case
    assert not (media_root.parent / "outside.pdf").exists()


@pytest.mark.django_db
def test_backup_goes_only_into_a_new_or_empty_folder(tmp_path):
    folder = tmp_path / "old"
    folder.mkdir()
    (folder / "notes.txt").write_text("keep me")
    with pytest.raises(CommandError, match="not an empty folder"):
        call_command("backup", str(folder), stdout=StringIO())
    assert sorted(p.name for p in folder.iterdir()) == ["notes.txt"]


def test_the_deployment_keeps_media_and_backups_in_volumes_and_ships_a_matching_postgresql_client():
    """What README's compose commands rely on: MEDIA_ROOT and the backup folder are volumes, and the image's
    pg_dump is of compose's PostgreSQL major version (bookworm's postgresql-client is 15)."""
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    dockerfile = (ROOT / "Dockerfile").read_text()
    var_dir = re.search(r"VAR_DIR=(\S+)", dockerfile).group(1)
    for service in ("web", "worker", "beat", "migrate"):
        mounts = dict(v.split(":", 1)[::-1] for v in compose["services"][service]["volumes"])
        assert mounts[f"{var_dir}/media"] == "media" and mounts[f"{var_dir}/backups"] == "backups", service
        assert set(mounts.values()) <= set(compose["volumes"])
    assert compose["services"]["db"]["image"] == "postgres:15"
    assert re.search(r"^FROM python:3\.11-slim-bookworm$", dockerfile, flags=re.M)
    assert "postgresql-client" in dockerfile
    readme = (ROOT / "README.md").read_text()
    assert "docker compose exec web python manage.py backup /app/var/backups/" in readme
    assert f"{var_dir}/backups" == "/app/var/backups"
