"""Backups of the database and the media folder together, and their restore (`manage.py backup` / `restore`).

A backup is one folder:
  database.dump      PostgreSQL, `pg_dump -Fc` (or database.sqlite3: SQLite's online backup API)
  media.tar          everything under MEDIA_ROOT (audit statement PDFs), paths relative to it
  manifest.json      written last, so a backup that did not finish has none: when it was made, the
                     database vendor, the migrations applied per app, the sha256 and size of each file

The database is saved before the media, so every file a saved row names is in the tar.
Restore checks everything before it changes anything: the manifest, every file's sha256, the vendor,
that this code knows every migration the backup has, that the tar holds only plain relative paths,
and that the target database and MEDIA_ROOT are empty (unless `force`). The database is restored in one
transaction (a failure rolls it back), the media is unpacked beside MEDIA_ROOT's contents and moved
in only once the database is in.

Imports no app: it sees only Django's connection, its migration records and settings.MEDIA_ROOT.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings
from django.db import DatabaseError, connections
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder

FORMAT = "rootwatch-backup"
VERSION = 1
MANIFEST = "manifest.json"
MEDIA_TAR = "media.tar"
DATABASE_FILES = {"postgresql": "database.dump", "sqlite": "database.sqlite3"}
STAGING_PREFIX = ".rootwatch-restore-"
REPLACED_PREFIX = ".rootwatch-replaced-"

Say = Callable[[str], None]


class BackupError(Exception):
    """A backup or restore refused or failed; the message says why and what (if anything) changed."""


# --- backup ----------------------------------------------------------------------------------------


def backup(folder: Path, *, say: Say, using: str = "default") -> dict:
    """Write a backup of the database and MEDIA_ROOT into `folder` (new or empty). Returns the manifest."""
    connection = connections[using]
    vendor = connection.vendor
    if vendor not in DATABASE_FILES:
        raise BackupError(f"Backups cover PostgreSQL and SQLite; this database is {vendor}.")
    folder = Path(folder)
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise BackupError(f"{folder} is not an empty folder: a backup goes into a new or empty one.")
    try:
        migrations = applied_migrations(using)
    except DatabaseError as exc:
        raise BackupError(f"Cannot read the database {connection.settings_dict['NAME']} ({str(exc).strip()}).") from None
    if not migrations:
        raise BackupError("The database has no migrations applied (run `manage.py migrate`): nothing to back up.")
    created = not folder.exists()
    # Only its owner may read it: it holds password hashes, API key digests and sessions.
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    written: list[Path] = []
    try:
        db_path = folder / DATABASE_FILES[vendor]
        written.append(db_path)
        say(f"database ({vendor}): saving to {db_path}")
        if vendor == "postgresql":
            _pg_dump(connection.settings_dict, db_path, say)
        else:
            _sqlite_backup(connection, db_path, say)
        say(f"database: {_size(db_path.stat().st_size)}")

        media_root = Path(settings.MEDIA_ROOT)
        tar_path = folder / MEDIA_TAR
        written.append(tar_path)
        count, total = _tar_media(media_root, tar_path, say)
        say(f"media: {count} files, {_size(total)} from {media_root}")

        files = {}
        for path in written:
            say(f"checksum: {path.name}")
            files[path.name] = {"sha256": sha256_of(path), "bytes": path.stat().st_size}
        manifest = {
            "format": FORMAT,
            "version": VERSION,
            "created_at": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
            "database": {"vendor": vendor, "file": db_path.name},
            "migrations": migrations,
            "media": {"file": MEDIA_TAR, "files": count, "bytes": total},
            "files": files,
        }
        tmp = folder / (MANIFEST + ".part")
        written.append(tmp)
        tmp.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        os.replace(tmp, folder / MANIFEST)
    except BaseException:
        for path in written:
            path.unlink(missing_ok=True)
        if created:
            shutil.rmtree(folder, ignore_errors=True)
        raise
    say(f"backup written: {folder} ({sum(len(v) for v in migrations.values())} migrations, {count} media files)")
    return manifest


def applied_migrations(using: str = "default") -> dict[str, list[str]]:
    """{app label: [migration names]} as recorded in the database's django_migrations."""
    recorder = MigrationRecorder(connections[using])
    if not recorder.has_table():
        return {}
    out: dict[str, list[str]] = {}
    for app, name in recorder.applied_migrations():
        out.setdefault(app, []).append(name)
    return {app: sorted(names) for app, names in sorted(out.items())}


def _pg_dump(settings_dict: dict, path: Path, say: Say) -> None:
    _require_program("pg_dump")
    command = ["pg_dump", "--format=custom", "--no-owner", "--no-privileges", "--verbose", "--file", str(path)]
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(command, env=_libpq_env(settings_dict), stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE)
        assert proc.stderr is not None
        # pg_dump --verbose names each table as it dumps its rows: those lines are the progress.
        for raw in proc.stderr:
            err.write(raw)
            line = raw.decode("utf-8", "replace").strip()
            if "dumping contents of table" in line:
                say("  table " + line.rsplit("table", 1)[1].strip().strip('"'))
        if proc.wait() != 0:
            err.seek(0)
            raise BackupError(f"pg_dump failed (exit {proc.returncode}): {_last_error(err.read())}")


def _sqlite_backup(connection, path: Path, say: Say) -> None:
    connection.ensure_connection()
    target = sqlite3.connect(path)

    def progress(status, remaining, total):
        say(f"  {total - remaining} of {total} pages")

    try:
        # Steps of 1024 pages, so a long copy shows progress and lets other writers in between steps.
        connection.connection.backup(target, pages=1024, progress=progress)
    finally:
        target.close()


def _tar_media(media_root: Path, tar_path: Path, say: Say) -> tuple[int, int]:
    files = []
    if media_root.is_dir():
        files = sorted(
            p for p in media_root.rglob("*")
            if p.is_file() and not p.is_symlink()
            and not p.relative_to(media_root).parts[0].startswith((STAGING_PREFIX, REPLACED_PREFIX))
        )
    say(f"media: packing {len(files)} files into {tar_path}")
    total = 0
    # Not compressed: the PDFs are compressed already.
    with tarfile.open(tar_path, "w", format=tarfile.PAX_FORMAT) as tar:
        for n, path in enumerate(files, start=1):
            tar.add(path, arcname=path.relative_to(media_root).as_posix(), recursive=False)
            total += path.stat().st_size
            if n % 200 == 0 or n == len(files):
                say(f"  {n} of {len(files)} files ({_size(total)})")
    return len(files), total


# --- restore -------------------------------------------------------------------------------------


def restore(folder: Path, *, say: Say, force: bool = False, using: str = "default") -> dict:
    """Restore a backup into this database and MEDIA_ROOT; refuses (changing nothing) on any doubt."""
    folder = Path(folder)
    connection = connections[using]
    manifest = read_manifest(folder, say=say)
    media_root = Path(settings.MEDIA_ROOT)
    _check_matches_this_site(manifest, connection)
    tar_path = folder / MEDIA_TAR
    _check_tar(tar_path, media_root)
    pending = _check_migrations(manifest)
    _check_targets_empty(connection, media_root, force=force)
    if connection.vendor == "postgresql":
        _require_program("pg_restore")
        _require_program("psql")
    say("checks passed: the files match their checksums and this code knows every migration of the backup")

    media_root.mkdir(parents=True, exist_ok=True)
    token = secrets.token_hex(6)
    staging = media_root / f"{STAGING_PREFIX}{token}"
    say(f"media: unpacking {manifest['media']['files']} files")
    try:
        with tarfile.open(tar_path) as tar:
            tar.extractall(staging, filter="data")
        staging.mkdir(exist_ok=True)
        db_path = folder / manifest["database"]["file"]
        connection.close()
        if connection.vendor == "postgresql":
            _pg_restore(connection.settings_dict, db_path, say, clear=force)
        else:
            _sqlite_restore(connection.settings_dict["NAME"], db_path, say)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    connection.close()

    replaced = _swap_media(media_root, staging, token)
    if replaced:
        say(f"media: replaced {replaced} earlier entries of {media_root}")
    say(f"media: {manifest['media']['files']} files in {media_root}")
    restored = applied_migrations(using)
    if restored != manifest["migrations"]:
        raise BackupError("The restored database's migration records differ from the manifest's: check it by hand.")
    say(f"restored the backup of {manifest['created_at']} ({sum(len(v) for v in restored.values())} migrations)")
    if pending:
        say(f"{len(pending)} migrations of this code are newer than the backup "
            f"(first: {pending[0]}): run `manage.py migrate` before serving.")
    return manifest


def read_manifest(folder: Path, *, say: Say | None = None) -> dict:
    """The manifest of a backup folder, after checking it and every file it lists (size and sha256)."""
    path = folder / MANIFEST
    if not folder.is_dir():
        raise BackupError(f"{folder} is not a folder. Nothing was changed.")
    if not path.is_file():
        raise BackupError(f"{folder} has no {MANIFEST}: not a Rootwatch backup, or one that did not finish. "
                          "Nothing was changed.")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BackupError(f"{path} is not valid JSON ({exc}): the backup is damaged. Nothing was changed.") from None
    problem = _manifest_problem(manifest)
    if problem:
        raise BackupError(f"{path} is not a Rootwatch backup manifest: {problem}. Nothing was changed.")
    for name, expected in manifest["files"].items():
        file = folder / name
        if not file.is_file():
            raise BackupError(f"{file} is missing: the backup is incomplete. Nothing was changed.")
        if say:
            say(f"checksum: {name} ({_size(expected['bytes'])})")
        size = file.stat().st_size
        digest = sha256_of(file)
        if size != expected["bytes"] or digest != expected["sha256"]:
            raise BackupError(
                f"{file} is corrupt: its sha256 is {digest} ({size} bytes), the manifest says "
                f"{expected['sha256']} ({expected['bytes']} bytes). Nothing was changed."
            )
    return manifest


def _manifest_problem(m) -> str | None:
    if not isinstance(m, dict) or m.get("format") != FORMAT:
        return f"its format is not {FORMAT!r}"
    if m.get("version") != VERSION:
        return f"its version is {m.get('version')!r}; this code reads version {VERSION}"
    for key in ("created_at", "database", "migrations", "media", "files"):
        if key not in m:
            return f"it lacks {key!r}"
    db, files = m["database"], m["files"]
    if (not isinstance(db, dict) or not isinstance(db.get("vendor"), str) or db["vendor"] not in DATABASE_FILES
            or db.get("file") != DATABASE_FILES[db["vendor"]]):
        return "its database entry names no known vendor and file"
    if not isinstance(files, dict) or set(files) != {db["file"], MEDIA_TAR}:
        return f"its files are not {db['file']} and {MEDIA_TAR}"
    for entry in files.values():
        if not (isinstance(entry, dict) and isinstance(entry.get("sha256"), str) and isinstance(entry.get("bytes"), int)):
            return "a file entry lacks its sha256 or size"
    migrations = m["migrations"]
    if not isinstance(migrations, dict) or not all(
        isinstance(names, list) and all(isinstance(n, str) for n in names) for names in migrations.values()
    ):
        return "its migrations are not lists of names per app"
    if not isinstance(m["media"], dict) or not isinstance(m["media"].get("files"), int):
        return "its media entry lacks a file count"
    return None


def _check_matches_this_site(manifest: dict, connection) -> None:
    vendor = manifest["database"]["vendor"]
    if vendor != connection.vendor:
        raise BackupError(f"The backup is of a {_VENDOR_LABELS[vendor]} database; this site uses "
                          f"{_VENDOR_LABELS.get(connection.vendor, connection.vendor)}. Nothing was changed.")


_VENDOR_LABELS = {"postgresql": "PostgreSQL", "sqlite": "SQLite"}


def _check_migrations(manifest: dict) -> list[str]:
    """Refuse a backup with migrations this code lacks (made by a newer Rootwatch); return the ones it lacks."""
    known = set(MigrationLoader(None, ignore_no_migrations=True).disk_migrations)
    backup = {(app, name) for app, names in manifest["migrations"].items() for name in names}
    unknown = sorted(backup - known)
    if unknown:
        listed = ", ".join(f"{a}.{n}" for a, n in unknown[:5]) + (" ..." if len(unknown) > 5 else "")
        raise BackupError(
            f"The backup's database has {len(unknown)} migrations this code does not know ({listed}): it was made "
            "by another version of Rootwatch. Restore it with that version. Nothing was changed."
        )
    return [f"{a}.{n}" for a, n in sorted(known - backup)]


def _check_tar(tar_path: Path, media_root: Path) -> None:
    try:
        with tarfile.open(tar_path) as tar:
            for member in tar.getmembers():
                if not (member.isfile() or member.isdir()):
                    raise BackupError(f"{tar_path} holds {member.name!r}, which is not a file or a folder. "
                                      "Nothing was changed.")
                tarfile.data_filter(member, str(media_root))
    except (tarfile.TarError, OSError) as exc:
        raise BackupError(f"{tar_path} cannot be unpacked safely ({exc}). Nothing was changed.") from None


def _check_targets_empty(connection, media_root: Path, *, force: bool) -> None:
    try:
        tables = connection.introspection.table_names()
    except DatabaseError as exc:
        raise BackupError(f"Cannot reach the database {connection.settings_dict['NAME']} ({str(exc).strip()}). "
                          "Nothing was changed.") from None
    connection.close()
    if tables and not force:
        name = connection.settings_dict["NAME"]
        raise BackupError(
            f"The database {name} is not empty ({len(tables)} tables, e.g. {', '.join(sorted(tables)[:3])}): "
            "restore into an empty database, or pass --force to replace everything in it. Nothing was changed."
        )
    entries = sorted(p.name for p in media_root.iterdir()) if media_root.is_dir() else []
    if entries and not force:
        raise BackupError(
            f"MEDIA_ROOT {media_root} is not empty ({', '.join(entries[:3])}): restore into an empty one, or "
            "pass --force to replace its contents. Nothing was changed."
        )


# Drops what Django makes in the schema the connection uses, in the restore's own transaction: tables and
# views first (their identity sequences go with them), then any sequence left standing on its own.
_CLEAR_SCHEMA = b"""
DO $rootwatch$
DECLARE r record;
BEGIN
  FOR r IN SELECT c.relname, c.relkind FROM pg_catalog.pg_class c
           JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'v', 'm', 'f') LOOP
    EXECUTE format('DROP %s IF EXISTS %I CASCADE',
                   CASE r.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'f' THEN 'FOREIGN TABLE'
                                  ELSE 'TABLE' END, r.relname);
  END LOOP;
  FOR r IN SELECT c.relname FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname = current_schema() AND c.relkind = 'S' LOOP
    EXECUTE format('DROP SEQUENCE IF EXISTS %I CASCADE', r.relname);
  END LOOP;
END
$rootwatch$;
"""


def _pg_restore(settings_dict: dict, dump: Path, say: Say, *, clear: bool) -> None:
    """pg_restore's SQL, fed to psql in one transaction: a failure anywhere leaves the database as it was.

    psql commits only when its input ends; unless pg_restore finished cleanly, psql is killed before that,
    and the server rolls the transaction back."""
    env = _libpq_env(settings_dict)
    with tempfile.TemporaryFile() as restore_err, tempfile.TemporaryFile() as psql_err:
        reader = subprocess.Popen(["pg_restore", "--no-owner", "--no-privileges", "--file", "-", str(dump)],
                                  env=env, stdout=subprocess.PIPE, stderr=restore_err)
        writer = subprocess.Popen(["psql", "--no-psqlrc", "--quiet", "--set", "ON_ERROR_STOP=1",
                                   "--single-transaction", "--file", "-"],
                                  env=env, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=psql_err)
        assert reader.stdout is not None and writer.stdin is not None
        fed = broken = False
        try:
            if clear:
                say("database: replacing every table in it (--force)")
                writer.stdin.write(_CLEAR_SCHEMA)
            table, rows = None, 0
            for line in reader.stdout:
                writer.stdin.write(line)
                if table is not None:
                    if line == b"\\.\n":
                        say(f"  table {table}: {rows} rows")
                        table = None
                    else:
                        rows += 1
                elif line.startswith(b"COPY "):
                    table, rows = line.split(b" ", 2)[1].decode("utf-8", "replace"), 0
            fed = reader.wait() == 0
        except BrokenPipeError:
            broken = True  # psql stopped at an error; its message says which
        finally:
            if reader.poll() is None:
                reader.kill()
                reader.wait()
            if fed:
                try:
                    writer.stdin.close()  # the end of its input: psql commits
                except BrokenPipeError:
                    pass
            else:
                writer.kill()
            writer.wait()
        if not broken and reader.returncode != 0:
            restore_err.seek(0)
            raise BackupError(f"pg_restore failed (exit {reader.returncode}): {_last_error(restore_err.read())}. "
                              "The database was left as it was.")
        if writer.returncode != 0:
            psql_err.seek(0)
            raise BackupError(f"The database restore failed and was rolled back: {_last_error(psql_err.read())}")


def _sqlite_restore(target: str, source: Path, say: Say) -> None:
    if str(target) == ":memory:" or "mode=memory" in str(target):
        raise BackupError("This site's SQLite database is in memory: set DATABASE_URL to a file to restore into.")
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        try:
            check = src.execute("PRAGMA integrity_check").fetchone()[0]
        except sqlite3.DatabaseError as exc:
            check = str(exc)
        if check != "ok":
            raise BackupError(f"{source} fails SQLite's integrity check ({check}). Nothing was changed.")
        pages = src.execute("PRAGMA page_count").fetchone()[0]
        say(f"database: copying {pages} pages into {target}")
        dst = sqlite3.connect(target)
        try:
            # One step: the target changes all at once, or not at all.
            src.backup(dst, pages=-1)
        finally:
            dst.close()
    finally:
        src.close()


def _swap_media(media_root: Path, staging: Path, token: str) -> int:
    old = [p for p in media_root.iterdir() if p != staging]
    trash = media_root / f"{REPLACED_PREFIX}{token}"
    if old:
        trash.mkdir()
        for path in old:
            path.rename(trash / path.name)
    for path in staging.iterdir():
        path.rename(media_root / path.name)
    staging.rmdir()
    shutil.rmtree(trash, ignore_errors=True)
    return len(old)


# --- helpers -------------------------------------------------------------------------------------


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _libpq_env(settings_dict: dict) -> dict[str, str]:
    """The connection as libpq's environment, so the password never appears on a command line."""
    env = dict(os.environ)
    for key, var in (("HOST", "PGHOST"), ("PORT", "PGPORT"), ("USER", "PGUSER"), ("PASSWORD", "PGPASSWORD"),
                     ("NAME", "PGDATABASE")):
        if settings_dict.get(key):
            env[var] = str(settings_dict[key])
    options = settings_dict.get("OPTIONS") or {}
    for option, var in (("sslmode", "PGSSLMODE"), ("sslrootcert", "PGSSLROOTCERT"), ("sslcert", "PGSSLCERT"),
                        ("sslkey", "PGSSLKEY"), ("passfile", "PGPASSFILE"), ("service", "PGSERVICE")):
        if options.get(option):
            env[var] = str(options[option])
    return env


def _require_program(name: str) -> None:
    if shutil.which(name) is None:
        raise BackupError(f"{name} is not installed (PostgreSQL's client programs, the server's major version or "
                          "newer). Nothing was changed.")


def _last_error(stderr: bytes) -> str:
    lines = [line for line in stderr.decode("utf-8", "replace").splitlines() if line.strip()]
    errors = [line for line in lines if "error" in line.lower() or "fatal" in line.lower()]
    return " / ".join((errors or lines)[-3:]) or "no message"


def _size(n: int) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n} bytes"
