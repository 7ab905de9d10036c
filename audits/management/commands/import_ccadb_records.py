"""import_ccadb_records PATH: CCADB AllCertificateRecordsCSVFormat (owners, parent links, audit columns)."""

from __future__ import annotations

import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from config.errors import DomainError
from registry.actions import ccadb_records_import, read_ccadb_records


class Command(BaseCommand):
    help = (
        "Import CCADB AllCertificateRecordsCSVFormat: CA owners, each certificate's owner, parent links "
        "(kept where the signature verifies) and the audit columns. A bad file stores nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", metavar="PATH")

    def handle(self, *args, **options):
        path = Path(options["path"])
        start = time.perf_counter()
        try:
            rows = read_ccadb_records(path)
            self.stdout.write(f"{path}: {len(rows)} rows")
            # One transaction over both halves: a row the audits half refuses must not leave
            # the registry half stored.
            with transaction.atomic():
                summary = ccadb_records_import(actor=None, rows=rows, source=str(path))
                # The audit columns become auditors and audit statements (audits feature, issue 5).
                from audits.actions import statements_import_ccadb

                audit_summary = statements_import_ccadb(actor=None, rows=rows)
        except DomainError as exc:
            raise CommandError(exc.message) from None
        for reason in audit_summary.skipped[:20]:
            self.stdout.write(f"  audit skipped: {reason}")
        self.stdout.write(self.style.SUCCESS(f"{summary}; {audit_summary} in {time.perf_counter() - start:.1f} s"))
