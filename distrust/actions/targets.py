"""The certificates an action distrusts, one at a time (bulk sources: distrust.actions.bulk)."""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from django.db import transaction

from config.errors import DomainError
from distrust import selectors, workflow
from distrust.actions._common import (
    _locked,
    _require_manage,
    _require_may_change,
)
from distrust.models import (
    DistrustAction,
    DistrustTarget,
)
from history import actions as history
from pki.onecrl import OneCRLError
from pki.x509 import CertificateError, nss_name_text

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
