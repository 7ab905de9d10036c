"""Bulk targets: many certificates to distrust at once, from a PEM bundle, a CSV (issuer + serial, or SHA-256
fingerprints), the affected certificates of an incident report, or every root and intermediate of a CA owner.

Staff first see a preview (what was matched and what was not, counted and listed: `bulk_targets_preview`,
which writes nothing), then confirm (`bulk_targets_add`): every matched certificate is added in one transaction,
or none. A file that cannot be read is refused whole, naming the block or line; rows that are read but match
nothing (a fingerprint the registry lacks, an issuer name no registry CA has) are listed as not matched.

The incident's affected-certificate rows keep the issuer as text, not DER. Decision: a row is matched, in this
order, by its registry certificate (linked when the report was posted), by its SHA-256 in the registry, or by
its issuer text read as a distinguished name (pki.dn_text) and compared, RFC 5280 7.1-normalised, with the
subjects of the registry's roots and intermediates (Certificate.subject_name_key); the issuer DER is then that
certificate's subject DER, exactly as NSS and OneCRL need it, and the serial is the row's. No issuer DER is
stored on the incident: the registry holds the DER, and an issuer the registry lacks is listed as not matched
(import the CA certificate, then preview again). Two registry subjects that both match the text (the same name
in two encodings) are listed as ambiguous rather than guessed.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from config.errors import DomainError
from distrust import selectors, workflow
from distrust.actions._common import _locked, _require_manage, _require_may_change
from distrust.actions.targets import parse_issuer, parse_serial_hex
from distrust.models import DistrustAction, DistrustTarget
from history import actions as history
from pki.dn_text import DnTextError, name_keys
from pki.x509 import CertificateError, fingerprint_normalize, load_pem, nss_name_text
from pki.x509 import kind as cert_kind

# source key -> label (what the page and the API's errors say)
SOURCES: dict[str, str] = {
    "pem": "PEM bundle",
    "csv": "CSV of issuer + serial, or of SHA-256 fingerprints",
    "incident": "Affected certificates of an incident report",
    "owner": "Every root and intermediate of a CA owner",
}
CSV_FINGERPRINT = ("sha256", "sha-256", "sha256 fingerprint", "sha-256 fingerprint", "fingerprint",
                   "certificate sha-256")
CSV_ISSUER = ("issuer", "issuer name", "issuername", "issuer dn")
CSV_SERIAL = ("serial", "serial number", "serialnumber", "serial_hex")
CSV_LABEL = ("label", "name")
KIND_LABELS = {"root": "Root", "intermediate": "Intermediate", "leaf": "Leaf"}  # registry.Certificate.Kind


@dataclass
class BulkRow:
    """One certificate the input names, and what became of it."""

    where: str  # "PEM block 3", "CSV line 4", "report row 2", "owner certificate 5"
    label: str = ""
    issuer_der: bytes | None = None
    serial_content: bytes | None = None
    certificate: Any = None  # the registry certificate, when matched
    cert_kind: str = ""
    sha256: str = ""
    issuer_text: str = ""  # an issuer given as text, still to be matched
    reason: str = ""  # why it is not added (not matched, duplicate)

    @property
    def kind_label(self) -> str:
        return KIND_LABELS.get(self.cert_kind, "unknown")

    @property
    def serial_hex(self) -> str:
        return self.serial_content.hex().upper() if self.serial_content else ""

    @property
    def key(self) -> tuple[bytes, bytes]:
        assert self.issuer_der is not None and self.serial_content is not None
        return (self.issuer_der, selectors.serial_der_from_content(self.serial_content))


@dataclass
class BulkPreview:
    source: str
    read: int  # certificates or rows the input names
    to_add: list[BulkRow] = field(default_factory=list)
    duplicates: list[BulkRow] = field(default_factory=list)
    unmatched: list[BulkRow] = field(default_factory=list)
    digest: str = ""

    @property
    def source_label(self) -> str:
        return SOURCES[self.source]

    @property
    def in_registry(self) -> int:
        return sum(1 for r in self.to_add if r.certificate is not None)

    @property
    def issuer_serial_only(self) -> int:
        return len(self.to_add) - self.in_registry


# --- reading the inputs ---------------------------------------------------------------------


def _from_pem(text: str) -> list[BulkRow]:
    if not text.strip():
        raise DomainError("Upload or paste a PEM bundle.", errors={"text": ["required"]})
    try:
        parsed = load_pem(text, source="the PEM bundle")
    except CertificateError as exc:
        raise DomainError(f"The PEM bundle cannot be read, so nothing was added: {exc}",
                          errors={"text": [str(exc)]}) from None
    return [BulkRow(where=f"PEM block {n}", label=p.label or p.subject_text, issuer_der=p.issuer_der,
                    serial_content=p.serial_content, cert_kind=cert_kind(p), sha256=p.sha256)
            for n, p in enumerate(parsed, start=1)]


def _column(header: list[str], names: tuple[str, ...]) -> int | None:
    for i, h in enumerate(header):
        if h in names:
            return i
    return None


def _bad_line(line: int, message: str) -> DomainError:
    return DomainError(f"CSV line {line}: {message}; nothing was added.", errors={"text": [f"line {line}: {message}"]})


def _from_csv(text: str) -> list[BulkRow]:
    if not text.strip():
        raise DomainError("Upload or paste a CSV.", errors={"text": ["required"]})
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip().lower() for h in next(reader, [])]
    fp, issuer, serial, label = (_column(header, names) for names in (CSV_FINGERPRINT, CSV_ISSUER, CSV_SERIAL,
                                                                       CSV_LABEL))
    if fp is None and (issuer is None or serial is None):
        found = ", ".join(h for h in header if h) or "none"
        raise DomainError(f"The CSV needs a header with a sha256 column, or the columns issuer and serial "
                          f"(found: {found}); nothing was added.", errors={"text": ["missing columns"]})
    rows: list[BulkRow] = []
    for line, cells in enumerate(reader, start=2):
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(header):
            raise _bad_line(line, f"has {len(cells)} cells, the header has {len(header)}")
        get = {i: cells[i].strip() for i in range(len(cells))}
        row = BulkRow(where=f"CSV line {line}", label=get.get(label, "") if label is not None else "")
        if fp is not None and get[fp]:
            try:
                row.sha256 = fingerprint_normalize(get[fp])
            except (CertificateError, ValueError):
                raise _bad_line(line, f"{get[fp]!r} is not a SHA-256 fingerprint (64 hex digits)") from None
            rows.append(row)
            continue
        if issuer is None or serial is None or not get[issuer] or not get[serial]:
            raise _bad_line(line, "give a SHA-256, or an issuer and a serial")
        try:
            row.serial_content = parse_serial_hex(get[serial])
        except DomainError as exc:
            raise _bad_line(line, exc.message) from None
        try:
            row.issuer_der = parse_issuer(get[issuer])  # base64 (as OneCRL) or hex of the DER Name
        except DomainError as exc:
            if "=" not in get[issuer]:
                raise _bad_line(line, exc.message) from None
            try:  # a name written as text (CN=..., O=..., C=...)
                name_keys(get[issuer])
            except DnTextError as err:
                raise _bad_line(line, f"issuer {get[issuer]!r} is neither base64 or hex of a DER Name nor a "
                                      f"distinguished name ({err})") from None
            row.issuer_text = get[issuer]
        rows.append(row)
    if not rows:
        raise DomainError("The CSV has no rows; nothing was added.", errors={"text": ["empty"]})
    return rows


def _from_incident(number: Any) -> list[BulkRow]:
    try:
        n = int(str(number).strip())
    except ValueError:
        raise DomainError("Give the incident's (bug) number.", errors={"incident": ["not a number"]}) from None
    incident, affected = selectors.incident_affected_rows(n)
    if incident is None:
        raise DomainError(f"No incident numbered {n}.", errors={"incident": ["unknown incident"]})
    if not affected:
        raise DomainError(f"Incident {n} lists no affected certificates (its full report's appendix CSV).",
                          errors={"incident": ["no affected certificates"]})
    rows = []
    for i, a in enumerate(affected, start=1):
        row = BulkRow(where=f"report row {i}", label=a.subject or a.sha256, sha256=a.sha256 or "",
                      certificate=a.certificate, issuer_text=a.issuer)
        try:
            row.serial_content = parse_serial_hex(a.serial_hex)
        except DomainError:
            row.reason = f"serial {a.serial_hex!r} is not hexadecimal"
        rows.append(row)
    return rows


def _from_owner(owner_id: Any) -> list[BulkRow]:
    owner = selectors.owner_by_pk(owner_id)
    if owner is None:
        raise DomainError("Choose a CA owner.", errors={"owner": ["unknown CA owner"]})
    return [BulkRow(where=f"{owner.name}: {c.get_kind_display().lower()}", certificate=c)
            for c in selectors.owner_ca_certificates(owner.pk)]


# --- matching -------------------------------------------------------------------------------


def _from_certificate(row: BulkRow, cert: Any) -> None:
    row.certificate = cert
    row.issuer_der, row.serial_content = bytes(cert.issuer_der), bytes.fromhex(cert.serial_hex)
    row.cert_kind, row.sha256, row.label = cert.kind, cert.sha256, str(cert)


def _match_issuer_texts(rows: list[BulkRow]) -> None:
    wanted: dict[str, list[str]] = {}
    for row in rows:
        if row.issuer_der is None and row.issuer_text and not row.reason and row.certificate is None:
            try:
                wanted[row.issuer_text] = [selectors.name_text_hash(k) for k in name_keys(row.issuer_text)]
            except DnTextError as exc:
                row.reason = f"issuer {row.issuer_text!r} is not a distinguished name Rootwatch reads ({exc})"
    found = selectors.ca_certificates_by_name_hash([h for hs in wanted.values() for h in hs])
    for row in rows:
        if row.issuer_text not in wanted or row.reason or row.issuer_der is not None or row.certificate is not None:
            continue
        subjects = {bytes(c.subject_der) for h in wanted[row.issuer_text] for c in found.get(h, [])}
        if not subjects:
            row.reason = f"no registry root or intermediate has the subject {row.issuer_text!r} (import it first)"
        elif len(subjects) > 1:
            row.reason = (f"the issuer {row.issuer_text!r} matches {len(subjects)} differently encoded registry "
                          "subjects: give the issuer as DER (CSV) instead")
        else:
            row.issuer_der = subjects.pop()


def _match(action: DistrustAction, source: str, rows: list[BulkRow]) -> BulkPreview:
    preview = BulkPreview(source=source, read=len(rows))
    # 1. registry certificates by SHA-256 (the PEM's own, the CSV's, the report's)
    by_sha = selectors.certificates_by_sha256([r.sha256 for r in rows if r.sha256 and r.certificate is None])
    for row in rows:
        cert = row.certificate or by_sha.get(row.sha256)
        if cert is not None:
            _from_certificate(row, cert)
        elif row.sha256 and source == "csv":
            row.reason = f"no certificate with SHA-256 {row.sha256} in the registry"
    # 2. issuer names written as text, against the registry's CA subjects
    _match_issuer_texts(rows)
    # 3. issuer + serial the registry knows
    pairs = [(r.issuer_der, r.serial_hex) for r in rows
             if r.certificate is None and not r.reason and r.issuer_der is not None and r.serial_content]
    by_pair = selectors.certificates_by_issuer_serial(pairs) if pairs else {}
    existing = {(bytes(t.issuer_der), bytes(t.serial_der)): t.label for t in action.targets.all()}
    seen: dict[tuple[bytes, bytes], BulkRow] = {}
    for row in rows:
        if not row.reason and row.certificate is None and row.issuer_der is not None and row.serial_content:
            cert = by_pair.get((row.issuer_der, row.serial_hex))
            if cert is not None:
                _from_certificate(row, cert)
        if row.reason:
            preview.unmatched.append(row)
            continue
        if row.issuer_der is None or not row.serial_content:
            row.reason = "names no issuer and serial"
            preview.unmatched.append(row)
            continue
        if not row.label:
            row.label = f"{nss_name_text(row.issuer_der)} serial {row.serial_hex}"
        if action.kind == DistrustAction.Kind.ONECRL and row.cert_kind == "root":
            row.reason = "a root: OneCRL revokes intermediates and leaves"
            preview.unmatched.append(row)
            continue
        if row.key in existing:
            row.reason = f"already a target of this action ({existing[row.key]})"
            preview.duplicates.append(row)
        elif row.key in seen:
            row.reason = f"same issuer and serial as {seen[row.key].where} ({seen[row.key].label})"
            preview.duplicates.append(row)
        else:
            seen[row.key] = row
            preview.to_add.append(row)
    preview.digest = hashlib.sha256(json.dumps(
        [source] + [[r.issuer_der.hex(), r.serial_hex, r.sha256 if r.certificate is not None else ""]
                    for r in preview.to_add]).encode()).hexdigest()
    return preview


def _preview(action: DistrustAction, source: str, *, text: str, incident: Any, owner: Any) -> BulkPreview:
    if source not in SOURCES:
        raise DomainError(f"Choose where the certificates come from: {', '.join(SOURCES.values())}.",
                          errors={"source": ["not a valid choice"]})
    if source == "pem":
        rows = _from_pem(text)
    elif source == "csv":
        rows = _from_csv(text)
    elif source == "incident":
        rows = _from_incident(incident)
    else:
        rows = _from_owner(owner)
    return _match(action, source, rows)


# --- the actions ----------------------------------------------------------------------------


def bulk_targets_preview(*, actor: Any, action: DistrustAction, source: str, text: str = "", incident: Any = None,
                         owner: Any = None) -> BulkPreview:
    """What confirming would add, and what it would not (and why). Writes nothing."""
    _require_manage(actor)
    _require_may_change(action, workflow.TARGETS, "change the certificates to distrust")
    return _preview(action, source, text=text, incident=incident, owner=owner)


@transaction.atomic
def bulk_targets_add(*, actor: Any, action: DistrustAction, source: str, text: str = "", incident: Any = None,
                     owner: Any = None, digest: str = "") -> BulkPreview:
    """Add every matched certificate in one transaction. `digest` (the preview's): refused when what the input
    matches changed since the preview staff confirmed (a registry import meanwhile, another target added)."""
    _require_manage(actor)
    action = _locked(action)
    _require_may_change(action, workflow.TARGETS, "change the certificates to distrust")
    preview = _preview(action, source, text=text, incident=incident, owner=owner)
    if digest and digest != preview.digest:
        raise DomainError("What the input matches changed since the preview (the registry or the action's targets "
                          "changed meanwhile); nothing was added. Look at the new preview and confirm again.",
                          errors={"digest": ["stale preview"]})
    if not preview.to_add:
        raise DomainError(f"Nothing to add: of {preview.read} certificate(s), {len(preview.duplicates)} already "
                          f"targets or repeated, {len(preview.unmatched)} not matched.", errors={"text": ["nothing"]})
    DistrustTarget.objects.bulk_create([
        DistrustTarget(action=action, certificate=r.certificate, issuer_der=r.issuer_der,
                       serial_der=r.key[1], serial_hex=r.serial_hex, label=r.label[:255], cert_kind=r.cert_kind)
        for r in preview.to_add
    ])
    detail: dict[str, Any] = {"source": source, "added": len(preview.to_add), "read": preview.read,
                              "duplicates": len(preview.duplicates), "unmatched": len(preview.unmatched)}
    staff_only = False
    if source == "incident":
        inc, _ = selectors.incident_affected_rows(int(str(incident).strip()))
        detail["incident"] = inc.number
        staff_only = inc.security_sensitive  # the row names the incident
    history.record(actor=actor, subject=action, action="targets_added", field=workflow.home(workflow.TARGETS),
                   summary=f"{len(preview.to_add)} certificate(s) from the {SOURCES[source]}", detail=detail,
                   staff_only=staff_only)
    return preview
