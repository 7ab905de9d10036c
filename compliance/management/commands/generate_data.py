"""manage.py generate_data --incidents N [--seed S] [--certificates N] [--owners N] [--as-of WHEN] [--append]

Fills the database with a realistic Rootwatch at a chosen scale, for benchmarks: CA owners (the real
names of CCADB's report in registry/demo_data), users, real signed certificates with issuer links and
root store entries, auditors and audit statements, and incidents with tags, whiteboards, deadlines,
comments (about --comments-per-incident each, a few with 200+), questions, IRG reports and
affected-certificate lists. PostgreSQL is written with COPY, SQLite with batched INSERTs, all in one
transaction. A database that already holds incidents is refused (nothing written) unless --append.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from compliance.generator.build import Options, Refused, generate
from compliance.search import index as search_index


def _when(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise CommandError(f"--as-of: expected a date or date and time (YYYY-MM-DD[THH:MM[Z]]), got {text!r}") from None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


class Command(BaseCommand):
    help = "Fill the database with generated CA owners, certificates, statements and incidents (benchmarks)."

    def add_arguments(self, parser):
        parser.add_argument("--incidents", type=int, required=True, help="how many incidents (e.g. 100000)")
        parser.add_argument("--seed", type=int, default=1, help="same seed and --as-of: same rows (default 1)")
        parser.add_argument("--certificates", type=int, default=None,
                            help="certificates to create (default: as many as incidents, at least 200)")
        parser.add_argument("--owners", type=int, default=None,
                            help="CA owners (default: the 131 owners of the CCADB report; more are numbered)")
        parser.add_argument("--comments-per-incident", type=float, default=10.0,
                            help="average comments per incident (default 10; a few incidents get 200+)")
        parser.add_argument("--as-of", type=_when, default=None,
                            help="the generated data's 'now' (UTC; default: the current time); deadlines are computed as of it")
        parser.add_argument("--password", default=None,
                            help="a password for every generated account (gen-staff-1, gen-rep-..., gen-reviewer-N); "
                                 "default: they cannot sign in")
        parser.add_argument("--append", action="store_true",
                            help="add to a database that already holds incidents (numbered after them)")

    def handle(self, *args, **opts):
        for name in ("incidents", "certificates", "owners"):
            if opts[name] is not None and opts[name] < (1 if name == "owners" else 0):
                raise CommandError(f"--{name} must be {'1' if name == 'owners' else '0'} or more, got {opts[name]}.")
        if opts["comments_per_incident"] < 1:
            raise CommandError("--comments-per-incident must be 1 or more.")
        as_of = opts["as_of"]
        if isinstance(as_of, str):  # call_command(as_of="...") skips the parser's type
            as_of = _when(as_of)
        options = Options(
            incidents=opts["incidents"], seed=opts["seed"], certificates=opts["certificates"], owners=opts["owners"],
            comments_per_incident=opts["comments_per_incident"], as_of=as_of, append=opts["append"],
            password_hash=make_password(opts["password"]) if opts["password"] else None,
        )

        def say(line: str) -> None:
            self.stdout.write(line)
            self.stdout.flush()

        try:
            result = generate(options, say)
        except Refused as exc:
            raise CommandError(str(exc)) from None
        total = sum(result.rows.values())
        say("rows written per table (and seconds spent writing them):")
        for table, count in sorted(result.rows.items()):
            say(f"  {table}: {count:,} ({result.write_seconds[table]:.1f} s)")
        say(f"done: {total:,} rows in {result.seconds:.1f} s ({total / max(result.seconds, 1e-9):,.0f} rows/s); "
            f"incidents {result.first_number}..{result.last_number}")
        # Bulk writes send no signals: the full-text search documents are built from what was written.
        started = time.perf_counter()
        with transaction.atomic():
            search_index.rebuild()
        say(f"search documents rebuilt in {time.perf_counter() - started:.1f} s")
