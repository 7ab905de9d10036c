"""`manage.py restore FOLDER [--force]`: a backup made by `manage.py backup` into this site's database and
MEDIA_ROOT. Everything is checked first (config/backup.py); a refusal changes nothing."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from config import backup


class Command(BaseCommand):
    help = ("Restore a backup FOLDER (from `manage.py backup`) into this site's empty database and MEDIA_ROOT. "
            "Refuses a damaged backup, one of another database vendor or of a newer Rootwatch, and a target "
            "that holds data unless --force.")

    def add_arguments(self, parser):
        parser.add_argument("folder", help="the backup folder (holding manifest.json)")
        parser.add_argument("--force", action="store_true",
                            help="replace the tables of a database and the files of a MEDIA_ROOT that are not empty")

    def handle(self, *args, folder: str, force: bool, **options):
        try:
            backup.restore(Path(folder), say=self._say, force=force)
        except backup.BackupError as exc:
            raise CommandError(str(exc)) from None

    def _say(self, line: str) -> None:
        self.stdout.write(line)
        self.stdout.flush()
