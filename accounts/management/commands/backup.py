"""`manage.py backup FOLDER`: the database and MEDIA_ROOT saved together (config/backup.py says how).

Here, not in config/ (not an app, so it cannot hold commands): accounts is the lowest app, and the
command is as site-wide as `load_demo` beside it; it imports no app's code."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from config import backup


class Command(BaseCommand):
    help = ("Save the database (PostgreSQL: pg_dump -Fc; SQLite: its backup API) and MEDIA_ROOT (a tar) into a new "
            "or empty FOLDER, with a manifest of migrations and checksums that `restore` checks.")

    def add_arguments(self, parser):
        parser.add_argument("folder", help="a new or empty folder to write the backup into")

    def handle(self, *args, folder: str, **options):
        try:
            backup.backup(Path(folder), say=self._say)
        except backup.BackupError as exc:
            raise CommandError(str(exc)) from None

    def _say(self, line: str) -> None:
        self.stdout.write(line)
        self.stdout.flush()
