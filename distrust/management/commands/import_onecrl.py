"""python manage.py import_onecrl PATH: load a OneCRL remote-settings dump into the managed collection."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from config.errors import DomainError
from distrust import actions


class Command(BaseCommand):
    help = ("Load a OneCRL remote-settings dump ({\"data\": [...]}) into the collection Rootwatch manages. "
            "Records already held (same id) are updated, never duplicated; distrust targets they block are "
            "shown as already blocked.")

    def add_arguments(self, parser):
        parser.add_argument("path", help="A remote-settings dump of security-state/onecrl (JSON).")

    def handle(self, *args, path: str, **options):
        file = Path(path)
        try:
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"{path}: cannot read it ({exc})") from None
        try:
            summary = actions.onecrl_import(actor=None, text=text, source=file.name)
        except DomainError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(self.style.SUCCESS(
            f"{path}: {summary['records']} records read, {summary['created']} new, {summary['updated']} already held."
        ))
