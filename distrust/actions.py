"""Every write of the distrust feature: one function per change, atomic, with its history row
(history.record: the step in `field`, old and new state, the reason in `summary`).

Bad input raises DomainError (400) and changes nothing; a transition the workflow does
not allow, or whose gate fails, raises TransitionError (409) naming what is missing.
"""

from __future__ import annotations

import base64
import binascii
import csv
import io
import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts import permissions
from config import stale
from config.errors import DomainError, NotPermitted, TransitionError
from distrust import artifacts, onecrl_store, selectors, workflow
from distrust.models import (
    Artifact,
    ClosureItem,
    DistrustAction,
    DistrustStep,
    DistrustTarget,
    TestCertificate,
    TestRun,
    UsageFigure,
)
from history import actions as history
from history import selectors as history_sel
from pki.onecrl import OneCRLError, parse_collection
from pki.x509 import CertificateError, load_any, nss_name_text
from pki.x509 import kind as cert_kind

Status = DistrustStep.Status

CHOICES = {
    "kind": DistrustAction.Kind.values,
    "discussed_in": DistrustAction.Discussion.values,
    "release_kind": DistrustAction.ReleaseKind.values,
}


# --- helpers ----------------------------------------------------------------------------------


def _require_manage(actor: Any) -> None:
    if not permissions.can_manage_distrust(actor):
        raise NotPermitted("Only root program staff manage distrust actions.")


def _locked(action: DistrustAction) -> DistrustAction:
    return DistrustAction.objects.select_for_update().get(pk=action.pk)


def _steps(action: DistrustAction) -> dict[str, DistrustStep]:
    return {s.step: s for s in action.steps.select_for_update()}


def _require_open(action: DistrustAction, key: str, doing: str) -> None:
    try:
        workflow.step(key)
    except KeyError as exc:
        raise DomainError(str(exc.args[0])) from None
    st = action.steps.get(step=key)
    title = workflow.step(key).title
    if st.status == Status.DONE:
        raise TransitionError(f"Cannot {doing}: step {workflow.position(key)} ({title}) is done; reopen it first.")
    if st.status == Status.PENDING:
        current = action.state
        raise TransitionError(
            f"Cannot {doing}: step {workflow.position(key)} ({title}) has not started; "
            f"complete step {workflow.position(current)} ({workflow.step(current).title}) first."
        )


def _require_may_change(action: DistrustAction, collection: str, doing: str) -> None:
    """Refuse to change one of the action's collections (workflow.COLLECTIONS) unless the open step's row
    lets it change; the message names the step to reopen, or the step to complete first."""
    current = action.state  # the open step's key, or "closed"
    if current in workflow.BY_KEY and collection in workflow.step(current).may_change:
        return
    keys = workflow.changing(collection)
    if current not in workflow.BY_KEY or workflow.position(current) > workflow.position(keys[-1]):
        last = keys[-1]
        raise TransitionError(
            f"Cannot {doing}: step {workflow.position(last)} ({workflow.step(last).title}) is done; reopen it first."
        )
    first = keys[0]
    raise TransitionError(
        f"Cannot {doing}: step {workflow.position(first)} ({workflow.step(first).title}) has not started; "
        f"complete step {workflow.position(current)} ({workflow.step(current).title}) first."
    )


def _incidents(numbers: list[int]):
    from compliance.models import Incident

    # Numbers beyond the column's range cannot exist; asking the database would overflow.
    found = {i.number: i for i in Incident.objects.filter(number__in=[n for n in numbers if 0 < n < 2**31])}
    unknown = [str(n) for n in numbers if n not in found]
    if unknown:
        raise DomainError(f"No incident numbered {', '.join(unknown)}.", errors={"incidents": ["unknown incident"]})
    return [found[n] for n in numbers]


def _check_value(name: str, value: Any) -> Any:
    if name in CHOICES and value not in CHOICES[name]:
        raise DomainError(f"{name}: {value!r} is not one of {', '.join(v or '(none)' for v in CHOICES[name])}.",
                          errors={name: ["not a valid choice"]})
    if name == "distrust_after" and value is not None:
        if not isinstance(value, datetime) or timezone.is_naive(value):
            raise DomainError("distrust_after must be a date and time with a timezone.",
                              errors={name: ["needs a timezone"]})
    if name == "cve_id" and value and not workflow.CVE_RE.match(value):
        raise DomainError(f"{value!r} is not a CVE id (CVE-YYYY-NNNN).", errors={name: ["not a CVE id"]})
    if name in ("reported_on", "decided_on", "release_date", "onecrl_published_on") and value is not None:
        if not isinstance(value, date):
            raise DomainError(f"{name} must be a date.", errors={name: ["not a date"]})
    return value


# --- creation -------------------------------------------------------------------------------


@transaction.atomic
def action_create(
    *, actor: Any, title: str, kind: str = DistrustAction.Kind.FULL, purpose_server: bool = True,
    purpose_email: bool = False, distrust_after: datetime | None = None, bug: str = "", is_embargoed: bool = False,
    incident_numbers: list[int] = (), reported_by: str = "", reported_on: date | None = None, decision: str = "",
    is_security_incident: bool = False, public_title: str = "",
) -> DistrustAction:
    _require_manage(actor)
    if not title.strip():
        raise DomainError("Give the action a title.", errors={"title": ["required"]})
    _check_value("kind", kind)
    _check_value("distrust_after", distrust_after)
    incidents = _incidents(list(incident_numbers))
    action = DistrustAction.objects.create(
        title=title.strip(), kind=kind, purpose_server=purpose_server, purpose_email=purpose_email,
        distrust_after=distrust_after, bug=bug, is_embargoed=is_embargoed, reported_by=reported_by,
        reported_on=reported_on, decision=decision, is_security_incident=is_security_incident, created_by=actor,
        state=workflow.STEP_KEYS[0], public_title=public_title.strip(),
        # Decided here from the incidents themselves, not from the form: whatever the form sent, text typed
        # beside a security-sensitive incident is treated as copied from it.
        confidential_fields=workflow.confidential_copies(incidents),
    )
    action.incidents.set(incidents)
    DistrustStep.objects.bulk_create([
        DistrustStep(action=action, step=s.key, position=i,
                     status=Status.OPEN if i == 1 else Status.PENDING)
        for i, s in enumerate(workflow.STEPS, start=1)
    ])
    history.record(actor=actor, subject=action, action="created", field=action.state, new=action.state,
                   detail={"incidents": [i.number for i in incidents], "kind": kind})
    return action


# --- steps ----------------------------------------------------------------------------------


@transaction.atomic
def step_save(*, actor: Any, action: DistrustAction, step: str, data: dict[str, Any],
              complete: bool = False, base_version: Any = None, base: Any = None) -> DistrustAction:
    """Save a step's data (only while the step is open); with ``complete``, then complete it.

    `base` (a step page: the action as the form showed it) or `base_version` (the API's If-Match):
    fields left as they were are not written, fields someone else changed meanwhile are a conflict
    (config.stale)."""
    _require_manage(actor)
    action = _locked(action)
    _require_open(action, step, f"save step {step!r}")
    row = workflow.step(step)
    unknown = sorted(set(data) - set(row.fields))
    if unknown:
        raise DomainError(f"Step {step!r} has no field(s) {', '.join(unknown)}.",
                          errors={k: ["unknown field"] for k in unknown})
    if base_version is not None or base is not None:
        kept = stale.merge(current=workflow.snapshot(action), proposed=data, base_version=base_version,
                           base=base, changed_by=lambda field: history_sel.last_changed_by(action, field))
        # A confirmation left ticked still vouches for the wording written beside it in the same save.
        for confirmation, vouched in getattr(row, "confirms", ()):
            if confirmation in data and any(name in kept for name in vouched):
                kept[confirmation] = data[confirmation]
        data = kept
    changed: dict[str, Any] = {}
    for name, value in data.items():
        if name == "incident_numbers":
            incidents = _incidents(list(value))
            old = sorted(action.incidents.values_list("number", flat=True))
            if old != sorted(i.number for i in incidents):
                action.incidents.set(incidents)
                changed[name] = [i.number for i in incidents]
                marked = [f for f in workflow.confidential_copies(incidents) if f not in action.confidential_fields]
                if marked:
                    action.confidential_fields = [*action.confidential_fields, *marked]
                    changed["confidential_fields"] = action.confidential_fields
            continue
        value = _check_value(name, value)
        if getattr(action, name) != value:
            setattr(action, name, value)
            changed[name] = value if isinstance(value, (str, bool, int, type(None))) else str(value)
    for confirmation, vouched in row.confirms:
        if confirmation not in data and any(f in changed for f in vouched) and getattr(action, confirmation):
            setattr(action, confirmation, False)
            changed[confirmation] = False
    changed.update(row.on_save(action, actor))
    action.save()
    if changed:
        # A row quoting text copied from a confidential source stays with staff, like the field itself.
        history.record(actor=actor, subject=action, action="saved", field=step, detail=changed,
                       staff_only=any(f in action.confidential_fields for f in changed))
    if complete:
        _complete(actor=actor, action=action, step=step)
    return action


@transaction.atomic
def step_complete(*, actor: Any, action: DistrustAction, step: str) -> DistrustAction:
    _require_manage(actor)
    action = _locked(action)
    _complete(actor=actor, action=action, step=step)
    return action


def _complete(*, actor: Any, action: DistrustAction, step: str) -> None:
    _require_open(action, step, f"complete step {step!r}")
    missing = workflow.missing(action, step)
    if missing:
        raise TransitionError(
            f"Step {workflow.position(step)} ({workflow.step(step).title}) cannot be completed: "
            + "; ".join(missing) + "."
        )
    steps = _steps(action)
    src, dst = workflow.TRANSITIONS["complete"]
    st = steps[step]
    st.status, st.completed_at, st.completed_by = dst, timezone.now(), actor
    st.save()
    nxt = workflow.next_key(step)
    if nxt is not None:
        steps[nxt].status = Status.OPEN
        steps[nxt].save()
    old_state = action.state
    action.state = nxt or DistrustAction.State.CLOSED
    detail = workflow.step(step).on_complete(action, actor)
    if nxt is None:
        action.closed_at = timezone.now()
    action.save()
    history.record(actor=actor, subject=action, action="completed", field=step, old=old_state, new=action.state,
                   detail=detail)


@transaction.atomic
def step_reopen(*, actor: Any, action: DistrustAction, step: str, reason: str,
                base_version: Any = None) -> DistrustAction:
    """Reopen a done step with a reason; every later step goes back to not started. With `base_version`
    (the API's If-Match), refused (412) when the action changed since that version."""
    _require_manage(actor)
    action = _locked(action)
    stale.merge(current=workflow.snapshot(action), proposed={}, base_version=base_version)
    if step not in workflow.STEP_KEYS:
        raise DomainError(f"No step {step!r}; the steps are {', '.join(workflow.STEP_KEYS)}.")
    if not reason.strip():
        raise DomainError("Say why the step is reopened.", errors={"reason": ["required"]})
    steps = _steps(action)
    src, dst = workflow.TRANSITIONS["reopen"]
    if steps[step].status != src:
        raise TransitionError(f"Step {workflow.position(step)} ({workflow.step(step).title}) is not done, "
                              "so it cannot be reopened.")
    for key in workflow.STEP_KEYS[workflow.STEP_KEYS.index(step):]:
        st = steps[key]
        if key == step:
            st.status, st.reopen_count = dst, st.reopen_count + 1
        else:
            st.status = Status.PENDING
        st.completed_at, st.completed_by = None, None
        st.save()
    old_state = action.state
    action.state = step
    action.closed_at = None
    action.save()
    history.record(actor=actor, subject=action, action="reopened", field=step, old=old_state, new=step,
                   summary=reason.strip())
    return action


# --- targets --------------------------------------------------------------------------------

_HEX_RE = re.compile(r"^[0-9A-Fa-f]+$")


def parse_serial_hex(text: str) -> bytes:
    """Serial content octets from hex (colons and spaces allowed); a leading 00 is added when the high bit is set."""
    cleaned = re.sub(r"[\s:]", "", text or "")
    if cleaned.lower().startswith("0x"):
        cleaned = cleaned[2:]
    if not cleaned or not _HEX_RE.match(cleaned):
        raise DomainError(f"Serial {text!r} is not hexadecimal.", errors={"serial": ["not hexadecimal"]})
    if len(cleaned) % 2:
        cleaned = "0" + cleaned
    content = bytes.fromhex(cleaned)
    if content[0] & 0x80:
        content = b"\x00" + content  # a positive INTEGER, as DER encodes it
    return content


def parse_issuer(text: str) -> bytes:
    """A DER Name from base64 (as OneCRL writes it) or hex."""
    raw = re.sub(r"\s", "", text or "")
    data = None
    if raw and _HEX_RE.match(raw) and len(raw) % 2 == 0:
        data = bytes.fromhex(raw)
    else:
        try:
            data = base64.b64decode(raw, validate=True)
        except (binascii.Error, ValueError):
            data = None
    if not data:
        raise DomainError("Issuer is neither base64 nor hex of a DER Name.", errors={"issuer": ["not base64 or hex"]})
    try:
        from pki.onecrl import _check_name

        _check_name(data, what="issuer", where="issuer")
        text_name = nss_name_text(data)
    except (OneCRLError, CertificateError, ValueError, IndexError) as exc:
        raise DomainError(f"Issuer is not a DER Name: {exc}", errors={"issuer": ["not a DER Name"]}) from None
    if not text_name:
        raise DomainError("Issuer is not a DER Name: it holds no attribute.", errors={"issuer": ["not a DER Name"]})
    return data


@transaction.atomic
def target_add(*, actor: Any, action: DistrustAction, sha256: str = "", issuer: str = "", serial: str = "",
               label: str = "") -> DistrustTarget:
    """Add a registry certificate (by SHA-256) or an issuer + serial alone."""
    _require_manage(actor)
    action = _locked(action)
    _require_may_change(action, workflow.TARGETS, "change the certificates to distrust")
    if sha256.strip():
        cert = selectors.certificate_by_fingerprint(sha256)
        if cert is None:
            raise DomainError(f"No certificate with SHA-256 {sha256.strip()} in the registry.",
                              errors={"sha256": ["not in the registry"]})
        issuer_der, serial_der = bytes(cert.issuer_der), bytes(cert.serial_der)
        content = bytes.fromhex(cert.serial_hex)
        label = label.strip() or str(cert)
        kind = cert.kind
    else:
        if not issuer.strip() or not serial.strip():
            raise DomainError("Give a registry SHA-256, or an issuer and a serial number.",
                              errors={"sha256": ["or issuer + serial"]})
        content = parse_serial_hex(serial)
        issuer_der = parse_issuer(issuer)
        cert = selectors.certificate_by_issuer_serial(issuer_der, content.hex().upper())
        kind = cert.kind if cert else ""
        label = label.strip() or (str(cert) if cert else f"{nss_name_text(issuer_der)} serial {content.hex().upper()}")
        serial_der = bytes(cert.serial_der) if cert else selectors.serial_der_from_content(content)
    for t in action.targets.all():
        if bytes(t.issuer_der) == issuer_der and bytes(t.serial_der) == serial_der:
            raise DomainError(f"{t.label} is already a target of this action.", errors={"sha256": ["duplicate"]})
    target = DistrustTarget.objects.create(
        action=action, certificate=cert, issuer_der=issuer_der, serial_der=serial_der,
        serial_hex=content.hex().upper(), label=label[:255], cert_kind=kind,
    )
    history.record(actor=actor, subject=action, action="target_added", field=workflow.home(workflow.TARGETS),
                   detail={"label": target.label, "serial": target.serial_hex, "sha256": cert.sha256 if cert else None})
    return target


@transaction.atomic
def target_remove(*, actor: Any, action: DistrustAction, target_id: int) -> None:
    _require_manage(actor)
    action = _locked(action)
    _require_may_change(action, workflow.TARGETS, "change the certificates to distrust")
    target = action.targets.filter(pk=target_id).first()
    if target is None:
        raise DomainError(f"Action {action.pk} has no target {target_id}.")
    history.record(actor=actor, subject=action, action="target_removed", field=workflow.home(workflow.TARGETS),
                   detail={"label": target.label})
    target.delete()


# --- impact ---------------------------------------------------------------------------------


def _figure(action: DistrustAction, row: dict[str, Any], *, where: str, source: str) -> UsageFigure:
    root = str(row.get("root") or "").strip()
    metric = str(row.get("metric") or "").strip()
    if not root or not metric:
        raise DomainError(f"{where}: give the root and the metric.", errors={"root": ["required"]})
    try:
        value = Decimal(str(row.get("value", "")).strip())
        if not value.is_finite():
            raise InvalidOperation
    except (InvalidOperation, ValueError):
        raise DomainError(f"{where}: value {row.get('value')!r} is not a number.",
                          errors={"value": ["not a number"]}) from None
    cert = selectors.certificate_by_fingerprint(root) if len(re.sub(r"[\s:]", "", root)) == 64 else None
    return UsageFigure(action=action, root=root, certificate=cert, metric=metric, value=value,
                       period=str(row.get("period") or "").strip(), source=source)


@transaction.atomic
def usage_add(*, actor: Any, action: DistrustAction, figures: list[dict[str, Any]]) -> list[UsageFigure]:
    _require_manage(actor)
    action = _locked(action)
    _require_may_change(action, workflow.USAGE_FIGURES, "change the usage figures")
    if not figures:
        raise DomainError("Give at least one usage figure.")
    rows = [_figure(action, f, where=f"figure {i}", source="entered") for i, f in enumerate(figures, start=1)]
    UsageFigure.objects.bulk_create(rows)
    history.record(actor=actor, subject=action, action="usage_added", field=workflow.home(workflow.USAGE_FIGURES),
                   detail={"count": len(rows)})
    return rows


CSV_COLUMNS = ("root", "metric", "value", "period")


@transaction.atomic
def usage_import_csv(*, actor: Any, action: DistrustAction, text: str) -> list[UsageFigure]:
    """CSV with a header: root (label or SHA-256), metric, value, period (optional). All rows or none."""
    _require_manage(actor)
    action = _locked(action)
    _require_may_change(action, workflow.USAGE_FIGURES, "change the usage figures")
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in ("root", "metric", "value") if c not in header]
    if missing:
        raise DomainError(f"The CSV lacks the column(s) {', '.join(missing)} (expected {', '.join(CSV_COLUMNS)}).",
                          errors={"csv": ["missing columns"]})
    rows = []
    for n, raw in enumerate(reader, start=2):
        row = {k.strip().lower(): v for k, v in raw.items() if k is not None}
        rows.append(_figure(action, row, where=f"CSV line {n}", source="csv"))
    if not rows:
        raise DomainError("The CSV has no rows.", errors={"csv": ["empty"]})
    UsageFigure.objects.bulk_create(rows)
    history.record(actor=actor, subject=action, action="usage_imported", field=workflow.home(workflow.USAGE_FIGURES),
                   detail={"count": len(rows)})
    return rows


@transaction.atomic
def usage_remove(*, actor: Any, action: DistrustAction, figure_id: int) -> None:
    _require_manage(actor)
    action = _locked(action)
    _require_may_change(action, workflow.USAGE_FIGURES, "change the usage figures")
    deleted, _ = action.usage_figures.filter(pk=figure_id).delete()
    if not deleted:
        raise DomainError(f"Action {action.pk} has no usage figure {figure_id}.")
    history.record(actor=actor, subject=action, action="usage_removed", field=workflow.home(workflow.USAGE_FIGURES),
                   detail={"id": figure_id})


# --- implement ------------------------------------------------------------------------------


@transaction.atomic
def artifacts_generate(*, actor: Any, action: DistrustAction) -> list[Artifact]:
    """Refresh the cross-sign closure, then (re)generate the OneCRL JSON and the certdata.txt diff."""
    _require_manage(actor)
    action = _locked(action)
    _require_may_change(action, workflow.ARTIFACTS, "generate the artifacts")
    graph = selectors.trust_graph()
    candidates = artifacts.closure_candidates(action, graph)
    existing = {item.certificate_id: item for item in action.closure_items.all()}
    wanted = {cert.pk for cert, _ in candidates}
    new_items = [ClosureItem(action=action, certificate=cert, target=target)
                 for cert, target in candidates if cert.pk not in existing]
    ClosureItem.objects.bulk_create(new_items)
    stale = [pk for pk, item in existing.items() if pk not in wanted and item.decision == ClosureItem.Decision.PENDING]
    action.closure_items.filter(certificate_id__in=stale).delete()
    now = timezone.now()
    digest = artifacts.config_digest(action)
    made = []
    for kind in artifacts.required_artifacts(action):
        if kind == Artifact.Kind.ONECRL:
            content = artifacts.onecrl_json(action, who=actor.get_full_name() or actor.username, created=now)
        else:
            content = artifacts.certdata_diff(action)
        art, _ = Artifact.objects.update_or_create(
            action=action, kind=kind,
            defaults=dict(content=content, config_digest=digest, generated_at=now, generated_by=actor),
        )
        made.append(art)
    action.artifacts.exclude(kind__in=[a.kind for a in made]).delete()
    history.record(actor=actor, subject=action, action="artifacts_generated",
                   field=workflow.home(workflow.ARTIFACTS),
                   detail={"artifacts": [a.kind for a in made], "closure_new": [str(i.certificate) for i in new_items]})
    return made


def _closure_decided_by(action: DistrustAction, item: ClosureItem) -> str:
    """Who recorded the item's current decision, for the conflict message."""
    row = (history_sel.for_subject(action).filter(action="closure_decided", detail__certificate=item.certificate.sha256)
           .order_by("-at", "-pk").first())
    return row.actor_name if row is not None else ""


@transaction.atomic
def closure_decide(*, actor: Any, action: DistrustAction, item_id: int, decision: str, reason: str = "",
                   base: Any = None) -> ClosureItem:
    """Add a cross-signed certificate to the distrust, or waive it. `base` (the page: the decision and reason
    it showed): a decision someone else recorded meanwhile is a conflict, not overwritten."""
    _require_manage(actor)
    action = _locked(action)
    _require_may_change(action, workflow.CLOSURE_ITEMS, "decide on a cross-signed certificate")
    item = action.closure_items.select_related("certificate").filter(pk=item_id).first()
    if item is None:
        raise DomainError(f"Action {action.pk} has no cross-sign item {item_id}.")
    if decision not in (ClosureItem.Decision.ADDED, ClosureItem.Decision.WAIVED):
        raise DomainError("Decide 'added' or 'waived'.", errors={"decision": ["not a valid choice"]})
    if decision == ClosureItem.Decision.WAIVED and not reason.strip():
        raise DomainError("Waiving a cross-signed certificate needs a reason.", errors={"reason": ["required"]})
    if base is not None:
        # Both fields are the person's choice (the form has no "unchanged"): only a collision matters.
        stale.merge(current={"decision": item.decision, "reason": item.reason}, base=base,
                    proposed={k: v for k, v in (("decision", decision), ("reason", reason.strip())) if v != base.get(k)},
                    changed_by=lambda field: _closure_decided_by(action, item))
    old = item.decision
    item.decision, item.reason, item.decided_by, item.decided_at = decision, reason.strip(), actor, timezone.now()
    item.save()
    history.record(actor=actor, subject=action, action="closure_decided", field=workflow.home(workflow.CLOSURE_ITEMS),
                   old=old, new=decision, summary=item.reason, detail={"certificate": item.certificate.sha256})
    return item


# --- test -----------------------------------------------------------------------------------


@transaction.atomic
def test_certificate_add(*, actor: Any, action: DistrustAction, sha256: str = "",
                         data: bytes = b"") -> TestCertificate:
    """Attach a registry certificate (SHA-256) or an uploaded one (PEM or DER)."""
    _require_manage(actor)
    action = _locked(action)
    _require_may_change(action, workflow.TEST_CERTIFICATES, "attach a test certificate")
    if sha256.strip():
        cert = selectors.certificate_by_fingerprint(sha256)
        if cert is None:
            raise DomainError(f"No certificate with SHA-256 {sha256.strip()} in the registry; upload it instead.",
                              errors={"sha256": ["not in the registry"]})
        der = bytes(cert.der)
    elif data:
        try:
            parsed = load_any(data, source="the uploaded certificate")
        except CertificateError as exc:
            raise DomainError(f"The test certificate is not in the registry and cannot be parsed: {exc}",
                              errors={"certificate": ["cannot be parsed"]}) from None
        if len(parsed) != 1:
            raise DomainError(f"Upload one certificate at a time (found {len(parsed)}).",
                              errors={"certificate": ["one at a time"]})
        der = parsed[0].der
        cert = selectors.certificate_by_fingerprint(parsed[0].sha256)
    else:
        raise DomainError("Give a registry SHA-256 or upload a certificate.", errors={"certificate": ["required"]})
    try:
        (parsed_cert,) = load_any(der, source="test certificate")
    except CertificateError as exc:
        raise DomainError(f"The test certificate cannot be parsed: {exc}") from None
    if action.test_certificates.filter(sha256=parsed_cert.sha256).exists():
        raise DomainError(f"{parsed_cert.label} is already attached.", errors={"certificate": ["duplicate"]})
    test = TestCertificate.objects.create(
        action=action, certificate=cert, der=der if cert is None else b"", sha256=parsed_cert.sha256,
        label=(str(cert) if cert else parsed_cert.label or parsed_cert.subject_text)[:255],
        cert_kind=cert_kind(parsed_cert), not_before=parsed_cert.not_before,
    )
    history.record(actor=actor, subject=action, action="test_certificate_added",
                   field=workflow.home(workflow.TEST_CERTIFICATES),
                   detail={"sha256": test.sha256, "kind": test.cert_kind, "in_registry": cert is not None})
    return test


@transaction.atomic
def test_certificate_remove(*, actor: Any, action: DistrustAction, test_id: int) -> None:
    _require_manage(actor)
    action = _locked(action)
    _require_may_change(action, workflow.TEST_CERTIFICATES, "remove a test certificate")
    deleted, _ = action.test_certificates.filter(pk=test_id).delete()
    if not deleted:
        raise DomainError(f"Action {action.pk} has no test certificate {test_id}.")
    history.record(actor=actor, subject=action, action="test_certificate_removed",
                   field=workflow.home(workflow.TEST_CERTIFICATES), detail={"id": test_id})


@transaction.atomic
def test_run(*, actor: Any, action: DistrustAction) -> TestRun:
    """Apply the distrust to the registry's trust store and judge every attached certificate on every path."""
    _require_manage(actor)
    action = _locked(action)
    _require_may_change(action, workflow.TEST_RUNS, "run the test")
    tests = list(action.test_certificates.select_related("certificate"))
    for t in tests:
        if t.certificate is not None and not t.der:
            t.der = t.certificate.der
    passed, results, summary = artifacts.run_trust_test(action, tests)
    run = TestRun.objects.create(action=action, passed=passed, results=results, summary=summary,
                                 config_digest=artifacts.config_digest(action, tests=tests),
                                 ran_at=timezone.now(), ran_by=actor)
    history.record(actor=actor, subject=action, action="tested", field=workflow.home(workflow.TEST_RUNS),
                   new="passed" if passed else "failed", detail={"run": run.pk}, summary="" if passed else summary)
    return run


test_certificate_add.__test__ = False  # keep pytest from collecting the imported names
test_certificate_remove.__test__ = False
test_run.__test__ = False


# --- OneCRL collection ----------------------------------------------------------------------


@transaction.atomic
def onecrl_import(*, actor: Any, text: str, source: str) -> dict[str, int]:
    """Load a remote-settings dump into the managed collection; records already held (same id) are updated."""
    if actor is not None:  # None: the import command
        _require_manage(actor)
    try:
        records = parse_collection(text, source=source)
    except OneCRLError as exc:
        raise DomainError(str(exc)) from None
    created = updated = 0
    for rec in records:
        _, was_created = onecrl_store.store_record(rec)
        created += was_created
        updated += not was_created
    return {"records": len(records), "created": created, "updated": updated}
