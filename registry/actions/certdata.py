"""NSS certdata.txt import and root store entries."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction

from config.errors import DomainError
from history import actions as history
from pki import certdata
from pki.x509 import CertificateError, ParsedCertificate, load_der
from registry.actions._common import BATCH, Progress, _chunks, _require_editor
from registry.actions.certificates import ImportSummary, _store_parsed
from registry.actions.releases import entry_state, record_entry_change, release_record_import
from registry.models import (
    CertdataBlock,
    CertdataImport,
    Certificate,
    RegistryHistory,
    RootStoreEntry,
    der_key,
)

# --- certdata.txt --------------------------------------------------------------------------


@dataclass
class CertdataSummary:
    source: str
    objects: int = 0
    certificate_objects: int = 0
    trust_objects: int = 0
    trust_only: int = 0
    entries_created: int = 0
    entries_updated: int = 0
    entries_removed: int = 0
    distrust_after: int = 0
    certificates: ImportSummary | None = None
    release: Any = None  # the registry.models.Release the import recorded

    def __str__(self) -> str:
        certs = self.certificates
        return (
            f"{self.source}: {self.objects} objects ({self.certificate_objects} certificates, "
            f"{self.trust_objects} trust objects, {self.trust_only} of them trust-only); root store entries: "
            f"{self.entries_created} new, {self.entries_updated} updated, {self.entries_removed} removed; "
            f"{self.distrust_after} with a distrust-after date"
            + (f"; certificates: {certs.created} new, {certs.already_present} already present" if certs else "")
        )


def _serial_hex_of_der(serial_der: bytes) -> str:
    length, offset = serial_der[1], 2
    if length & 0x80:
        offset = 2 + (length & 0x7F)
    return serial_der[offset:].hex().upper()


def certdata_import(
    *,
    actor: Any,
    text: str | bytes,
    source: str,
    progress: Progress = None,
    nss_version: str = "",
    roots_module_version: str = "",
    release_kind: str = "regular",
    released_on: Any = None,
) -> CertdataSummary:
    """Make the root store what an NSS certdata.txt says, keeping its text for a byte-for-byte export.

    Entries not in the file are removed; certificates are kept (the registry outlives a root store).
    The import is recorded as a published release (registry.actions.releases.release_record_import):
    versions not given are read from the file name (certdata_v2.86_2026-04-09.txt: roots module 2.86).
    """
    _require_editor(actor)
    try:
        parsed_file = certdata.parse(text, source=source)
    except certdata.CertdataError as exc:
        raise DomainError(f"{exc}; nothing was imported") from None
    summary = CertdataSummary(source=source, objects=len(parsed_file.objects))
    cert_objects: dict[tuple[bytes, bytes], tuple[certdata.CertdataObject, ParsedCertificate]] = {}
    for obj in parsed_file.certificates:
        where = f"{source}: object {obj.label!r} at line {obj.line}"
        try:
            parsed = load_der(obj.value, source=where)
        except CertificateError as exc:
            raise DomainError(f"{exc}; nothing was imported") from None
        key = obj.issuer_serial
        if key in cert_objects:
            raise DomainError(f"{where}: a second certificate object with the same issuer and serial number")
        cert_objects[key] = (obj, parsed)
    summary.certificate_objects = len(cert_objects)
    trust_objects = parsed_file.trust_objects
    summary.trust_objects = len(trust_objects)

    with transaction.atomic():
        if progress:
            progress(f"  {len(cert_objects)} certificate objects, {len(trust_objects)} trust objects")
        ids, cert_summary = _store_parsed([parsed for _obj, parsed in cert_objects.values()], progress=progress)
        summary.certificates = cert_summary
        # The NSS label names a root better than its subject CN does.
        for obj, parsed in cert_objects.values():
            if obj.label:
                Certificate.objects.filter(pk=ids[parsed.sha256]).exclude(label=obj.label[:255]).update(
                    label=obj.label[:255]
                )

        existing = {(e.issuer_key, e.serial_hex): e for e in RootStoreEntry.objects.all()}
        states_before = {key: entry_state(e) for key, e in existing.items()}
        seen: dict[tuple[str, str], RootStoreEntry] = {}
        by_issuer_serial: dict[tuple[bytes, bytes], RootStoreEntry] = {}

        def entry_for(
            issuer_der: bytes,
            serial_der: bytes,
            *,
            label: str,
            trust: certdata.CertdataObject | None,
            where: str,
        ) -> RootStoreEntry:
            key = (der_key(issuer_der), _serial_hex_of_der(serial_der))
            if key in seen:
                raise DomainError(f"{where}: a second trust object for the same issuer and serial number")
            cert_pair = cert_objects.get((issuer_der, serial_der))
            cert_obj = cert_pair[0] if cert_pair else None
            certificate_id = ids[cert_pair[1].sha256] if cert_pair else None
            if certificate_id is None:
                # A trust-only entry may still name a certificate the registry knows (CCADB, uploads).
                certificate_id = (
                    Certificate.objects.filter(issuer_key=key[0], serial_hex=key[1], serial_der=serial_der)
                    .values_list("pk", flat=True)
                    .first()
                )
            entry = existing.get(key) or RootStoreEntry(issuer_key=key[0], serial_hex=key[1])
            entry.certificate_id = certificate_id
            entry.label = (label or "")[:255]
            entry.issuer_der = issuer_der
            entry.serial_der = serial_der
            must = RootStoreEntry.Trust.MUST_VERIFY
            entry.trust_server = (trust.trust_server_auth if trust else None) or must
            entry.trust_email = (trust.trust_email_protection if trust else None) or must
            entry.trust_code = (trust.trust_code_signing if trust else None) or must
            entry.trust_step_up = trust.step_up if trust else False
            entry.server_distrust_after = (trust.server_distrust_after if trust else None) or (
                cert_obj.server_distrust_after if cert_obj else None
            )
            entry.email_distrust_after = (trust.email_distrust_after if trust else None) or (
                cert_obj.email_distrust_after if cert_obj else None
            )
            if entry.pk is None:
                summary.entries_created += 1
            else:
                summary.entries_updated += 1
            entry.save()
            seen[key] = entry
            by_issuer_serial[(issuer_der, serial_der)] = entry
            return entry

        for obj in trust_objects:
            issuer_der, serial_der = obj.issuer_serial
            if (issuer_der, serial_der) not in cert_objects:
                summary.trust_only += 1
            entry_for(
                issuer_der, serial_der, label=obj.label or "", trust=obj, where=f"{source}: object {obj.label!r} at line {obj.line}"
            )
        for (issuer_der, serial_der), (obj, _parsed) in cert_objects.items():
            if (issuer_der, serial_der) not in by_issuer_serial:
                entry_for(
                    issuer_der, serial_der, label=obj.label or "", trust=None, where=f"{source}: object {obj.label!r}"
                )
        stale = [e.pk for key, e in existing.items() if key not in seen]
        summary.entries_removed = len(stale)
        for chunk in _chunks(stale):
            RootStoreEntry.objects.filter(pk__in=chunk).delete()
        summary.distrust_after = sum(
            1 for e in seen.values() if e.server_distrust_after is not None or e.email_distrust_after is not None
        )

        CertdataImport.objects.all().delete()
        raw_text = parsed_file.text()
        record = CertdataImport.objects.create(
            source=source[:500],
            text_sha256=hashlib.sha256(raw_text.encode("utf-8")).hexdigest(),
            header=parsed_file.header,
            trailer=parsed_file.trailer,
            imported_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        blocks = []
        for position, obj in enumerate(parsed_file.objects):
            entry = by_issuer_serial.get(obj.issuer_serial) if obj.issuer_serial else None
            pair = cert_objects.get(obj.issuer_serial) if obj.cls == certdata.CKO_CERTIFICATE else None
            blocks.append(
                CertdataBlock(
                    certdata_import=record,
                    position=position,
                    cls=obj.cls,
                    raw=obj.raw,
                    entry=entry,
                    certificate_id=ids[pair[1].sha256] if pair else None,
                    state=entry.state() if entry else None,
                )
            )
        CertdataBlock.objects.bulk_create(blocks, batch_size=BATCH)
        summary.release = release_record_import(
            actor=actor,
            source=source,
            text=raw_text,
            before=states_before,
            after={key: entry_state(e) for key, e in seen.items()},
            nss_version=nss_version,
            roots_module_version=roots_module_version,
            kind=release_kind,
            released_on=released_on,
        )
        history.record(
            actor=actor,
            action=RegistryHistory.CERTDATA_IMPORTED,
            subject=record,
            summary=str(summary),
            detail={"source": source, "sha256": record.text_sha256, "entries": len(seen)},
        )
    return summary


# --- Root store entries ---------------------------------------------------------------------


_ENTRY_FIELDS = (
    "label",
    "trust_server",
    "trust_email",
    "trust_code",
    "trust_step_up",
    "server_distrust_after",
    "email_distrust_after",
)


def root_store_entry_update(*, actor: Any, entry: RootStoreEntry, **changes: Any) -> RootStoreEntry:
    """Change an entry's label, trust bits or distrust-after dates; the export then re-renders its blocks."""
    _require_editor(actor)
    unknown = set(changes) - set(_ENTRY_FIELDS)
    if unknown:
        raise DomainError(f"Cannot change {', '.join(sorted(unknown))} of a root store entry.")
    for name in ("trust_server", "trust_email", "trust_code"):
        if name in changes and changes[name] not in RootStoreEntry.Trust.values:
            raise DomainError(f"{name} must be one of {', '.join(RootStoreEntry.Trust.values)}.")
    with transaction.atomic():
        entry = RootStoreEntry.objects.select_for_update().get(pk=entry.pk)
        old = {name: getattr(entry, name) for name in changes}
        state_before = entry_state(entry)
        for name, value in changes.items():
            setattr(entry, name, value)
        entry.save()
        # Into the next (draft) release, which staff publish when it ships.
        record_entry_change(actor=actor, entry=entry, before=state_before)
        history.record(
            actor=actor,
            action=RegistryHistory.ROOT_STORE_ENTRY_CHANGED,
            subject=entry,
            old={k: str(v) for k, v in old.items()},
            new={k: str(v) for k, v in changes.items()},
            summary=f"{entry.label}: " + ", ".join(f"{k} {old[k]} -> {v}" for k, v in changes.items()),
            detail={"entry": entry.pk, "old": {k: str(v) for k, v in old.items()}, "new": {k: str(v) for k, v in changes.items()}},
        )
    return entry


def root_store_entry_add(
    *,
    actor: Any,
    certificate: Certificate | None = None,
    issuer_der: bytes | None = None,
    serial_der: bytes | None = None,
    label: str,
    trust_server: str = RootStoreEntry.Trust.MUST_VERIFY,
    trust_email: str = RootStoreEntry.Trust.MUST_VERIFY,
    trust_code: str = RootStoreEntry.Trust.MUST_VERIFY,
    server_distrust_after: datetime | None = None,
    email_distrust_after: datetime | None = None,
) -> RootStoreEntry:
    """A new root store entry, for a certificate or (trust-only) for an issuer + serial number."""
    _require_editor(actor)
    if certificate is not None:
        issuer_der, serial_der = bytes(certificate.issuer_der), bytes(certificate.serial_der)
    if not issuer_der or not serial_der:
        raise DomainError("A root store entry needs a certificate, or an issuer and a serial number.")
    if not label.strip():
        raise DomainError("A root store entry needs a label.")
    key = (der_key(issuer_der), _serial_hex_of_der(serial_der))
    with transaction.atomic():
        if RootStoreEntry.objects.filter(issuer_key=key[0], serial_hex=key[1]).exists():
            raise DomainError(f"The root store already has an entry for this issuer and serial number ({key[1]}).")
        entry = RootStoreEntry.objects.create(
            certificate=certificate,
            label=label[:255],
            issuer_der=issuer_der,
            serial_der=serial_der,
            issuer_key=key[0],
            serial_hex=key[1],
            trust_server=trust_server,
            trust_email=trust_email,
            trust_code=trust_code,
            server_distrust_after=server_distrust_after,
            email_distrust_after=email_distrust_after,
        )
        record_entry_change(actor=actor, entry=entry, before=None)
        history.record(
            actor=actor,
            action=RegistryHistory.ROOT_STORE_ENTRY_CHANGED,
            subject=entry,
            summary=f"{entry.label}: added (server {trust_server}, email {trust_email})",
            detail={"entry": entry.pk},
        )
    return entry
