import importlib

from django.core.management.base import BaseCommand
from django.db import transaction

# Each app that has demo data provides `<app>.demo.load(stdout)`; they run in this order
# because later ones point at earlier ones (incidents at CA owners, distrust at incidents).
DEMO_MODULES = ["registry.demo", "accounts.demo", "compliance.demo", "audits.demo", "distrust.demo"]


class Command(BaseCommand):
    help = "Load demo users and real sample data. Safe to run again: existing rows are kept."

    def handle(self, *args, **options):
        with transaction.atomic():
            for name in DEMO_MODULES:
                try:
                    module = importlib.import_module(name)
                except ModuleNotFoundError as exc:
                    if exc.name != name:
                        raise
                    continue
                self.stdout.write(f"{name}:")
                module.load(self.stdout)
        self.stdout.write(self.style.SUCCESS("Demo data ready. Sign in at http://127.0.0.1:8000/accounts/login/"))
