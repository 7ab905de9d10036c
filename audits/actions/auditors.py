"""Auditors, their approval, and the qualifications staff verify."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts import permissions as perm
from audits import selectors
from audits.actions._common import _invalid, _label, _user_or_none
from audits.domain import checks
from audits.models import AuditHistory, Auditor, AuditorQualification
from config import stale
from config.errors import DomainError, NotPermitted, TransitionError
from history import actions as history
from history import selectors as history_sel

# Decision where the issue is silent (see the issue note):
# - qualifications are re-verified yearly: next_due = verified_on + 1 year.


# --- auditors -------------------------------------------------------------------------------


def _auditor_named(name: str, *, actor: Any) -> Auditor:
    """An auditor a submitter named but staff have not listed yet: created pending, to be qualified by staff."""
    name = name.strip()[:255]
    auditor = Auditor.objects.filter(name__iexact=name).first()
    if auditor is None:
        named_by_ca = not perm.can_manage_auditors(actor)
        auditor = Auditor.objects.create(name=name, named_by_ca=named_by_ca)
        # Private like the name (the statement's readers and staff) until staff approve the auditor.
        history.record(actor=actor, subject=auditor, action=AuditHistory.AUDITOR_CREATED, staff_only=named_by_ca,
            summary="Named by a statement's submitter; pending until staff verify its qualifications")
    return auditor


def _require_auditor_manager(actor: Any) -> None:
    if not perm.can_manage_auditors(actor):
        raise NotPermitted("Only root program staff maintain auditors.")


_AUDITOR_FIELDS = ("name", "location", "website", "contact_name", "contact_email")
# Verification contacts are staff-only (accounts.permissions.can_view_auditor_contacts): their
# history goes into staff-only rows, the other fields into public ones.
_CONTACT_FIELDS = ("contact_name", "contact_email")


def _record_fields(*, actor: Any, auditor: Auditor, action: str, old: dict | None, new: dict) -> None:
    for staff_only in (False, True):
        keys = [f for f in new if (f in _CONTACT_FIELDS) == staff_only]
        if keys:
            history.record(actor=actor, subject=auditor, action=action, staff_only=staff_only,
                           old={f: old[f] for f in keys} if old is not None else "", new={f: new[f] for f in keys})


@transaction.atomic
def auditor_create(*, actor: Any, name: str, location: str = "", website: str = "", contact_name: str = "",
                   contact_email: str = "") -> Auditor:
    _require_auditor_manager(actor)
    name = name.strip()
    if not name:
        raise _invalid("name", "The audit firm's name is required.")
    if Auditor.objects.filter(name__iexact=name).exists():
        raise _invalid("name", f"An auditor named {name!r} exists already.")
    auditor = Auditor.objects.create(name=name, location=location, website=website, contact_name=contact_name,
                                     contact_email=contact_email)
    _record_fields(actor=actor, auditor=auditor, action=AuditHistory.AUDITOR_CREATED, old=None,
                   new={f: getattr(auditor, f) for f in _AUDITOR_FIELDS if f not in _CONTACT_FIELDS or getattr(auditor, f)})
    return auditor


@transaction.atomic
def auditor_update(*, actor: Any, auditor: Auditor, base_version: Any = None, base: Any = None,
                   **values: str) -> Auditor:
    """Change an auditor's fields. With `base` (the edit page) or `base_version`, fields left as they were
    are not written and fields someone else changed meanwhile are a conflict (config.stale)."""
    _require_auditor_manager(actor)
    unknown = set(values) - set(_AUDITOR_FIELDS)
    if unknown:
        raise DomainError(f"Unknown auditor fields: {', '.join(sorted(unknown))}.")
    auditor = Auditor.objects.select_for_update().get(pk=auditor.pk)
    if base_version is not None or base is not None:
        values = stale.merge(current=selectors.auditor_snapshot(auditor), proposed=values, base_version=base_version, base=base,
                             changed_by=lambda field: history_sel.last_changed_by(auditor, field))
    if "name" in values:
        values["name"] = values["name"].strip()
        if not values["name"]:
            raise _invalid("name", "The audit firm's name is required.")
        if Auditor.objects.filter(name__iexact=values["name"]).exclude(pk=auditor.pk).exists():
            raise _invalid("name", f"An auditor named {values['name']!r} exists already.")
    old = {f: getattr(auditor, f) for f in values if getattr(auditor, f) != values[f]}
    for f, v in values.items():
        setattr(auditor, f, v)
    auditor.save()
    if old:
        _record_fields(actor=actor, auditor=auditor, action=AuditHistory.AUDITOR_CHANGED, old=old,
                       new={f: values[f] for f in old})
    return auditor


@transaction.atomic
def auditor_set_approval(*, actor: Any, auditor: Auditor, approval: str, reason: str,
                         today: date | None = None) -> Auditor:
    """Approve only with a verified qualification that is not overdue; every change gives its reason."""
    _require_auditor_manager(actor)
    today = today or timezone.localdate()
    if approval not in Auditor.Approval.values:
        raise _invalid("approval", f"Approval {approval!r} is not one of {', '.join(Auditor.Approval.values)}.")
    if not reason.strip():
        raise _invalid("reason", "Give the reason for the decision.")
    auditor = Auditor.objects.select_for_update().get(pk=auditor.pk)
    if approval == auditor.approval:
        raise TransitionError(f"{auditor} is already {auditor.get_approval_display().lower()}.")
    if approval == Auditor.Approval.APPROVED and not auditor.qualifications.filter(next_due__gte=today).exists():
        raise TransitionError(
            f"{auditor} has no verified qualification that is current; record one before approving."
        )
    old = auditor.approval
    auditor.approval = approval
    if approval == Auditor.Approval.APPROVED:
        auditor.named_by_ca = False  # staff vouched for it: a public auditor record from now on
    auditor.save(update_fields=["approval", "named_by_ca", "updated_at"])
    history.record(actor=actor, subject=auditor, action=AuditHistory.APPROVAL_CHANGED, summary=reason.strip(),
        old={"approval": old}, new={"approval": approval})
    return auditor


@transaction.atomic
def qualification_record(
    *, actor: Any, auditor: Auditor, scheme: str, method: str, verified_on: date, accrediting_body: str = "",
    evidence_url: str = "", representative: str = "", notes: str = "", today: date | None = None,
) -> AuditorQualification:
    """Record how staff verified an accreditation; it must be verified again a year later."""
    _require_auditor_manager(actor)
    today = today or timezone.localdate()
    if scheme not in AuditorQualification.Scheme.values:
        raise _invalid("scheme", f"Scheme {scheme!r} is not one of {', '.join(AuditorQualification.Scheme.values)}.")
    if method not in AuditorQualification.Method.values:
        raise _invalid("method", f"Method {method!r} is not one of {', '.join(AuditorQualification.Method.values)}.")
    if method == AuditorQualification.Method.LISTED and not evidence_url:
        raise _invalid("evidence_url", "Give the URL of the scheme's list that names the auditor.")
    if method == AuditorQualification.Method.REPRESENTATIVE and not representative.strip():
        raise _invalid("representative", "Name the representative of the accrediting organization who confirmed.")
    if scheme == AuditorQualification.Scheme.ETSI and not accrediting_body.strip():
        raise _invalid("accrediting_body", "Name the national accreditation body that accredited the auditor.")
    if verified_on is None or verified_on > today:
        raise _invalid("verified_on", "The verification date is required and cannot be in the future.")
    q = AuditorQualification.objects.create(
        auditor=auditor, scheme=scheme, method=method, verified_on=verified_on,
        next_due=checks.add_one_year(verified_on), accrediting_body=accrediting_body.strip(),
        evidence_url=evidence_url, representative=representative.strip(), notes=notes,
        verified_by=_user_or_none(actor), verified_by_name=_label(actor),
    )
    history.record(actor=actor, subject=auditor, action=AuditHistory.QUALIFICATION_VERIFIED,
        summary=f"{q.get_scheme_display()}: {q.get_method_display()}",
        new={"qualification": q.pk, "verified_on": str(verified_on), "next_due": str(q.next_due)})
    return q
