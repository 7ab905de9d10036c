"""Demo incidents for `load_demo`: the real Bugzilla compliance bugs of the demo's CA owners, plus
a few worked examples with comments, a question, reports and an assessment. Safe to run again."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from django.utils import timezone

# Beside the code, not in tests/: the image leaves tests/ out (demo_data/SOURCE.md says where it is from).
DUMP = Path(__file__).resolve().parent / "demo_data" / "ca_compliance_bugs_2014-2026.json"
DEMO_MARK = "(demo)"


def load(stdout) -> None:
    from accounts.models import User
    from compliance.actions import incidents as act
    from compliance.actions.incidents_import import import_bugs
    from compliance.models import Incident
    from registry.models import CAOwner

    if DUMP.exists():
        result = import_bugs(json.loads(DUMP.read_text(encoding="utf-8")), only_matched=True)
        stdout.write(f"  Bugzilla bugs: {result.created} new, {result.updated} kept up to date "
                     f"(matched to the {CAOwner.objects.count()} demo CA owners)")
    if Incident.objects.filter(title__endswith=DEMO_MARK).exists():
        stdout.write("  worked examples (kept)")
        return
    owner = CAOwner.objects.filter(representatives__username="carep").first() or CAOwner.objects.first()
    staff = User.objects.filter(username="staff").first()
    rep = User.objects.filter(username="carep").first()
    reviewer = User.objects.filter(username="reviewer").first()
    if owner is None or staff is None:
        stdout.write("  worked examples skipped (no CA owner or staff user)")
        return
    rep = rep or staff
    reviewer = reviewer or staff

    third = act.incident_create(
        actor=reviewer, ca_owner=owner, title=f"TLS certificates with an underscore in a dNSName {DEMO_MARK}",
        description="crt.sh shows certificates issued last week with `_` in a dNSName, which TLS BR 7.1.4.2 forbids.\n\n"
                    "Example: https://crt.sh/?id=1",
        source="third_party", became_aware_at=timezone.now() - timedelta(hours=30),
    )
    act.incident_update(actor=staff, incident=third, status="ASSIGNED",
                        whiteboard="[ca-compliance] [dv-misissuance]", assignee=rep)
    act.comment_create(actor=rep, incident=third, body="Acknowledged; we are investigating and will post a preliminary report.")
    act.question_ask(actor=reviewer, incident=third, body="How many certificates are affected, and were they all revoked within 5 days?")
    act.report_post(actor=rep, incident=third, kind="preliminary", data={
        "incident_description": "Certificates were issued with an underscore in a dNSName.",
        "relevant_policies": "TLS BR v2.0.2 section 7.1.4.2",
        "source_of_disclosure": "Third Party Reported",
    })

    delay = act.incident_create(
        actor=rep, ca_owner=owner, title=f"Delayed revocation of mis-issued certificates {DEMO_MARK}",
        description="Some subscribers asked for more time to replace certificates that must be revoked within 5 days.",
    )
    # The whiteboard is staff's (accounts.permissions.can_set_whiteboard_on_filing): triage sets it.
    act.incident_update(actor=staff, incident=delay, whiteboard="[ca-compliance] [leaf-revocation-delay]")
    act.assessment_save(actor=staff, incident=delay, cert_type="tls", count=25, enumerable=True,
                        considerations={"ca_behavior.noticed_error_timely": {"answer": "yes", "note": "Self-reported."}},
                        notes="Watch the 3-day updates.")

    secret = act.incident_create(
        actor=rep, ca_owner=owner, title=f"Possible key compromise of an issuing CA {DEMO_MARK}",
        description="Security-sensitive until staff make it public.", security_sensitive=True,
    )
    act.comment_create(actor=staff, incident=secret, body="Staff note: coordinate with the CA before disclosure.", is_private=True)
    stdout.write("  worked examples: bugs "
                 + ", ".join(str(i.number) for i in (third, delay, secret)) + " (one security-sensitive)")
