"""export_certdata [--output PATH]: the root store in certdata.txt form."""

from __future__ import annotations

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from registry.selectors import export_certdata_text


class Command(BaseCommand):
    help = "Write the root store as certdata.txt: imported blocks byte for byte, changed and new ones rendered."

    def add_arguments(self, parser):
        parser.add_argument("--output", "-o", metavar="PATH", help="file to write (default: standard output)")

    def handle(self, *args, **options):
        text = export_certdata_text()
        data = text.encode("utf-8")
        if options["output"]:
            path = Path(options["output"])
            try:
                path.write_bytes(data)
            except OSError as exc:
                raise CommandError(f"{path}: cannot write it ({exc})") from None
            self.stderr.write(f"Wrote {len(data):,} bytes to {path}")
        else:
            # Bytes straight to stdout: no newline translation, no trailing newline added.
            sys.stdout.flush()
            out = getattr(self.stdout, "_out", sys.stdout)
            buffer = getattr(out, "buffer", None)
            if buffer is not None:
                buffer.write(data)
                buffer.flush()
            else:
                out.write(text)
