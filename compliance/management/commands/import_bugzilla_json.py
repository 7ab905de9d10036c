"""Load a Bugzilla REST dump of CA compliance bugs (a JSON list, or {"bugs": [...]}) as incidents.

Each bug keeps its number, status, resolution, whiteboard and creation time, so "Bug 1234567"
in old reports still points at it. The CA owner is matched by the title's prefix (the text
before the first ":" or " - ") against CA owner names, ignoring case, accents, punctuation and
legal forms (Inc., LLC, GmbH, S.A., nv-sa ...), by CCADB's short names in parentheses, and by the
alias table of brand names staff keep at /incidents/owner-aliases/ (compliance.OwnerAlias: "Let's
Encrypt" is Internet Security Research Group); bugs whose prefix matches no owner are imported
without one and listed, never guessed, here and at /incidents/owner-aliases/unmatched/.
Running it again updates the imported fields and keeps everything added in Rootwatch.
"""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from compliance.actions.incidents_import import BugzillaImportError, import_bugs


class Command(BaseCommand):
    help = "Import CA compliance bugs from a Bugzilla REST JSON dump."

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path)
        parser.add_argument("--only-matched", action="store_true", help="Skip bugs whose CA owner is not matched.")

    def handle(self, *args, path: Path, only_matched: bool = False, **options):
        try:
            bugs = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise CommandError(f"{path}: {exc}") from None
        try:
            result = import_bugs(bugs, only_matched=only_matched)
        except BugzillaImportError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            f"{result.created} created, {result.updated} updated, {result.matched} matched to a CA owner, "
            f"{result.unmatched_count} without one{' (skipped)' if only_matched else ''}."
        )
        if result.unmatched:
            self.stdout.write("Title prefixes that match no CA owner (bugs):")
            for prefix, numbers in sorted(result.unmatched.items(), key=lambda kv: (-len(kv[1]), kv[0])):
                shown = ", ".join(str(n) for n in numbers[:5]) + (" ..." if len(numbers) > 5 else "")
                self.stdout.write(f"  {prefix or '(no prefix)'}: {len(numbers)} ({shown})")
