"""import_certdata PATH: make the root store what an NSS certdata.txt says (atomic), recorded as a release."""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from config.errors import DomainError
from registry.actions import certdata_import


class Command(BaseCommand):
    help = (
        "Import an NSS certdata.txt: certificate and trust objects (trust-only ones included) and "
        "distrust-after dates. Its text is kept so export_certdata gives it back byte for byte. The import is "
        "recorded as a root store release (versions and date read from a name like certdata_v2.86_2026-04-09.txt "
        "unless given)."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", metavar="PATH")
        parser.add_argument("--nss-version", default="", help="NSS version of the release, e.g. 3.110.")
        parser.add_argument("--roots-module-version", default="", help="Roots module version, e.g. 2.86.")
        parser.add_argument("--kind", default="regular", choices=["regular", "chemspill"], help="Kind of release.")
        parser.add_argument("--date", default="", help="Release date, YYYY-MM-DD.")

    def handle(self, *args, **options):
        path = Path(options["path"])
        start = time.perf_counter()
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"{path}: cannot read it ({exc})") from None
        try:
            released_on = date.fromisoformat(options["date"]) if options["date"] else None
        except ValueError:
            raise CommandError(f"--date: {options['date']!r} is not a date YYYY-MM-DD") from None
        self.stdout.write(f"Importing {path} ({len(data):,} bytes)...")
        try:
            summary = certdata_import(
                actor=None, text=data, source=str(path), progress=self.stdout.write,
                nss_version=options["nss_version"], roots_module_version=options["roots_module_version"],
                release_kind=options["kind"], released_on=released_on,
            )  # fmt: skip
        except DomainError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(self.style.SUCCESS(f"{summary} in {time.perf_counter() - start:.1f} s"))
        release = summary.release
        self.stdout.write(f"Recorded as release {release.name} ({release.changes.count()} changes).")
