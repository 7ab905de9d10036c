"""Demo auditors and statements for `load_demo`. CA owners come from the registry demo; absent ones are skipped."""

from __future__ import annotations

from datetime import date, timedelta

from django.utils import timezone

DEMO_OWNERS = ["DigiCert", "Internet Security Research Group", "Sectigo"]


def _year_before(end: date) -> date:
    return end.replace(year=end.year - 1) + timedelta(days=1)


def load(stdout) -> None:
    from accounts.models import User
    from audits import actions
    from audits.models import Auditor, AuditStatement
    from registry.models import CAOwner

    staff = User.objects.filter(is_staff=True, is_active=True).order_by("pk").first()
    if staff is None:
        stdout.write("  no staff user: audits demo skipped")
        return
    today = timezone.localdate()
    approved = Auditor.objects.filter(name="Schellman & Company, LLC.").first()
    if approved is None:
        approved = actions.auditor_create(
            actor=staff, name="Schellman & Company, LLC.", location="Tampa, FL, US",
            website="https://www.schellman.com/", contact_name="Demo verification desk",
            contact_email="verification@auditor.example",
        )
        actions.qualification_record(
            actor=staff, auditor=approved, scheme="webtrust", method="listed", accrediting_body="CPA Canada",
            evidence_url="https://www.cpacanada.ca/", verified_on=today - timedelta(days=200), today=today,
        )
        approved = actions.auditor_set_approval(actor=staff, auditor=approved, approval="approved",
                                                reason="Demo: licensed WebTrust practitioner", today=today)
    pending = Auditor.objects.filter(name="Example Conformity Assessment Body GmbH").first()
    if pending is None:
        pending = actions.auditor_create(actor=staff, name="Example Conformity Assessment Body GmbH",
                                         location="Berlin, DE")
    made = 0
    for n, name in enumerate(DEMO_OWNERS):
        owner = CAOwner.objects.filter(name=name).first()
        if owner is None:
            stdout.write(f"  {name}: not in the registry, skipped")
            continue
        if AuditStatement.objects.filter(ca_owner=owner).exists():
            stdout.write(f"  {name}: statements kept")
            continue
        fingerprints = list(owner.certificates.filter(kind__in=["root", "intermediate"])
                            .values_list("sha256", flat=True)[:20])
        # Three yearly TLS BR periods ending ~4 months ago; the middle one starts a few days late for
        # one owner (a gap), and one statement arrives after its 92 days.
        last_end = today - timedelta(days=120)
        ends = [last_end.replace(year=last_end.year - 2), last_end.replace(year=last_end.year - 1), last_end]
        for i, end in enumerate(ends):
            start = _year_before(end) + (timedelta(days=5) if n == 1 and i == 1 else timedelta(0))
            stated = end + timedelta(days=120 if n == 2 and i == 2 else 60)
            if stated > today:
                stated = today
            actions.statement_submit(
                actor=staff, ca_owner=owner, auditor=approved, source="auditor", kind="period",
                period_start=start, period_end=end, statement_date=stated,
                url=f"https://audits.example/{owner.pk}/{end.year}-tls-br.pdf",
                criteria=[actions.CriterionInput("webtrust-ca", "2.2.2"),
                          actions.CriterionInput("webtrust-tls-br", "2.8")],
                fingerprints=fingerprints,
                findings=[actions.FindingInput("major", "CRLs for two intermediates were not refreshed within "
                                                        "7 days")] if n == 0 and i == 1 else [],
                today=today,
            )
            made += 1
        rep = owner.representatives.filter(is_active=True).first()
        actions.statement_submit(
            actor=rep or staff, ca_owner=owner, auditor=pending, source="ca", kind="period",
            period_start=_year_before(last_end), period_end=last_end, statement_date=last_end + timedelta(days=45),
            url=f"https://audits.example/{owner.pk}/{last_end.year}-etsi.pdf",
            criteria=[actions.CriterionInput("etsi-en-319-411-1-tls-baseline", "V1.4.1", ("OVCP",))],
            fingerprints=fingerprints[:3], today=today,
        )
        made += 1
        stdout.write(f"  {name}: 4 statements")
    stdout.write(f"  audits: {made} statements, auditors {approved.name} (approved) and {pending.name} (pending)")
