"""Rebuild every incident's full-text search document (after bulk writes that send no signals)."""

from django.core.management.base import BaseCommand
from django.db import transaction

from compliance.search import index


class Command(BaseCommand):
    help = "Rebuild the full-text search documents of every incident."

    def handle(self, *args, **options):
        with transaction.atomic():
            index.rebuild()
        self.stdout.write("Search documents rebuilt.")
