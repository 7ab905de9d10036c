"""import_certificates PATH...: files, folders, PEM bundles and CCADB PEM CSVs, in one transaction."""

from __future__ import annotations

import csv
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from config.errors import DomainError
from pki.x509 import CertificateError, iter_ccadb_pem_csv
from registry.actions import certificates_import


def _has_pem_column(path: Path) -> bool:
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            header = next(csv.reader(fh), [])
    except (OSError, UnicodeDecodeError, csv.Error):
        return True  # let the import report the problem
    return any(c in header for c in ("X.509 Certificate (PEM)", "PEM Info", "PEM", "Certificate PEM"))


def _parse_csv(path: Path):
    try:
        return path, list(iter_ccadb_pem_csv(path)), None
    except CertificateError as exc:
        return path, [], str(exc)
    except (OSError, UnicodeDecodeError) as exc:
        return path, [], f"cannot read it ({exc})"


def _parse_csvs(paths: list[Path]):
    # Sequential on purpose: a process pool was slower (pickling every parsed certificate back
    # costs about what parsing does) on the 2-CPU machine the benchmark ran on.
    return [_parse_csv(p) for p in paths]


def collect(paths: list[str], *, log=None) -> tuple[list, dict[str, list[str]]]:
    """(items for certificates_import, errors by file) for files, folders (recursively) and CCADB CSVs."""
    items: list = []
    errors: dict[str, list[str]] = {}
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for p in sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith(".")):
                # In a folder, a CSV without certificates (CCADB ships SKI/SPKI lists beside the PEM
                # reports) is skipped and said so; named on the command line it is an error.
                if p.suffix.lower() == ".csv" and not _has_pem_column(p):
                    if log:
                        log(f"  {p}: skipped (no PEM column)")
                    continue
                files.append(p)
        elif path.is_file():
            files.append(path)
        else:
            errors.setdefault(str(path), []).append("no such file or folder")
    csvs = [p for p in files if p.suffix.lower() == ".csv"]
    for path, certs, error in _parse_csvs(csvs):
        if error:
            errors.setdefault(str(path), []).append(error)
            continue
        items.extend((cert, cert.source) for cert in certs)
        if log:
            log(f"  {path}: {len(certs)} certificates")
    for path in files:
        if path.suffix.lower() == ".csv":
            continue
        try:
            items.append((path.read_bytes(), str(path)))
        except OSError as exc:
            errors.setdefault(str(path), []).append(f"cannot read it ({exc})")
    return items, errors


class Command(BaseCommand):
    help = (
        "Import certificates from DER/PEM files, PEM bundles, folders and CCADB AllCertificatePEMsCSVFormat "
        "CSVs. Duplicates merge; issuer links and cross-sign groups are computed. A bad file stores nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", metavar="PATH")

    def handle(self, *args, **options):
        start = time.perf_counter()
        items, errors = collect(options["paths"], log=self.stdout.write)
        if errors:
            for source, messages in errors.items():
                for message in messages:
                    self.stderr.write(f"{source}: {message}" if not message.startswith(source) else message)
            raise CommandError(f"{len(errors)} file(s) could not be read; nothing was imported.")
        self.stdout.write(f"Read {len(items)} inputs in {time.perf_counter() - start:.1f} s; storing...")
        try:
            summary = certificates_import(actor=None, items=items, progress=self.stdout.write)
        except DomainError as exc:
            for source, messages in exc.errors.items():
                for message in messages:
                    self.stderr.write(f"{source}: {message}")
            raise CommandError(exc.message) from None
        elapsed = time.perf_counter() - start
        self.stdout.write(self.style.SUCCESS(f"{summary} in {elapsed:.1f} s ({summary.read / elapsed:,.0f} certificates/s)"))
