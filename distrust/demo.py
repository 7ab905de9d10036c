"""Demo distrust action for `load_demo`: an intermediate of a demo incident's CA, carried to the
implement step through the real actions (artifacts generated, cross-signs found). Safe to run again;
skipped when the incident or registry demo rows are absent."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

DEMO_MARK = "(demo)"


def _pick(owner_id):
    """An intermediate of the owner that reaches a trusted root for websites, and a leaf under it if any."""
    from distrust import artifacts, selectors
    from registry.models import Certificate

    graph = selectors.trust_graph()
    qs = Certificate.objects.filter(kind="intermediate").order_by("pk")
    for cert in (qs.filter(owner_id=owner_id) if owner_id else qs)[:200]:
        if artifacts.reaches_trusted_root(graph, cert.sha256, ("server",)):
            return cert
    return None


def load(stdout) -> None:
    from accounts.models import User
    from compliance.models import Incident
    from config.errors import DomainError
    from distrust import actions
    from distrust.models import DistrustAction

    if DistrustAction.objects.filter(title__endswith=DEMO_MARK).exists():
        stdout.write("  distrust example (kept)")
        return
    staff = User.objects.filter(username="staff", is_staff=True).first()
    incident = (Incident.objects.filter(title__endswith=DEMO_MARK).select_related("ca_owner").order_by("number").first()
                or Incident.objects.select_related("ca_owner").order_by("-number").first())
    if staff is None or incident is None:
        stdout.write("  distrust example skipped (no staff user or no incident)")
        return
    target = _pick(incident.ca_owner_id) or _pick(None)
    if target is None:
        stdout.write("  distrust example skipped (no registry intermediate chaining to a trusted root)")
        return
    today = timezone.now().date()
    try:
        with transaction.atomic():
            action = actions.action_create(
                actor=staff, title=f"Distrust {target} {DEMO_MARK}", incident_numbers=[incident.number],
                reported_by=str(incident.reporter or "A security researcher"), reported_on=today - timedelta(days=3),
                decision="Actively distrust the intermediate certificates, and push out an update to all Mozilla "
                         "products.", bug=str(incident.number),
            )
            actions.step_complete(actor=staff, action=action, step="report")
            actions.target_add(actor=staff, action=action, sha256=target.sha256)
            actions.step_save(actor=staff, action=action, step="decide", complete=True, data=dict(
                rationale="The CA cannot show the intermediate's key was protected.", discussed_in="private",
                decided_on=today - timedelta(days=1)))
            actions.usage_add(actor=staff, action=action, figures=[
                {"root": "Telemetry: share of TLS handshakes", "metric": "TLS handshakes (%)", "value": "0.02",
                 "period": "last 28 days"}])
            actions.step_save(actor=staff, action=action, step="impact", complete=True,
                              data={"impact_notes": "Few sites; the CA can reissue under another intermediate."})
            actions.artifacts_generate(actor=staff, action=action)
    except DomainError as exc:
        stdout.write(f"  distrust example skipped ({exc.message})")
        return
    stdout.write(f"  distrust example: {action.title}, at the implement step")
