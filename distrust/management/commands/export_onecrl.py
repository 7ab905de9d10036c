"""python manage.py export_onecrl [PATH]: write the whole OneCRL collection Rootwatch manages."""

from django.core.management.base import BaseCommand

from distrust import selectors


class Command(BaseCommand):
    help = "Write the whole managed OneCRL collection as remote-settings JSON ({\"data\": [...]}), to PATH or stdout."

    def add_arguments(self, parser):
        parser.add_argument("path", nargs="?", default="-", help="Output file; '-' (default) for stdout.")

    def handle(self, *args, path: str, **options):
        text = selectors.onecrl_collection_json()
        if path == "-":
            self.stdout.write(text)
        else:
            with open(path, "w", encoding="utf-8") as out:
                out.write(text + "\n")
            self.stderr.write(f"Wrote {path}.")
