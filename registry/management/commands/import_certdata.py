"""import_certdata PATH: make the root store what an NSS certdata.txt says (atomic)."""

from __future__ import annotations

import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from config.errors import DomainError
from registry.actions import certdata_import


class Command(BaseCommand):
    help = (
        "Import an NSS certdata.txt: certificate and trust objects (trust-only ones included) and "
        "distrust-after dates. Its text is kept so export_certdata gives it back byte for byte."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", metavar="PATH")

    def handle(self, *args, **options):
        path = Path(options["path"])
        start = time.perf_counter()
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"{path}: cannot read it ({exc})") from None
        self.stdout.write(f"Importing {path} ({len(data):,} bytes)...")
        try:
            summary = certdata_import(actor=None, text=data, source=str(path), progress=self.stdout.write)
        except DomainError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(self.style.SUCCESS(f"{summary} in {time.perf_counter() - start:.1f} s"))
