"""Writes to the CA registry: certificates, certdata.txt, CCADB records, root store entries.

Every function is keyword-only, takes the acting user as `actor`, runs in one transaction,
writes a history row (history.record), and raises config.errors.DomainError naming the bad input (so
nothing is stored when any input is bad).
"""

from __future__ import annotations

import csv
import functools
import hashlib
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from accounts import permissions
from config.errors import DomainError, NotPermitted
from history import actions as history
from pki import certdata
from pki.paths import compute_links
from pki.x509 import CertificateError, ParsedCertificate, cross_sign_key, kind, load_any, load_der, name_key
from registry.models import (
    CAOwner,
    CCADBRecord,
    CertdataBlock,
    CertdataImport,
    Certificate,
    IssuerLink,
    RegistryHistory,
    RootStoreEntry,
    der_key,
)

Progress = Callable[[str], None] | None

# Rows per INSERT and keys per IN (...): stays under SQLite's variable limit, few round trips on PostgreSQL.
BATCH = 500


def name_match_key(name_der: bytes) -> str:
    """Certificate.subject_name_key / issuer_name_key: equal for names x509.names_match() calls equal."""
    return _name_match_key(bytes(name_der))


@functools.lru_cache(maxsize=1 << 16)
def _name_match_key(name_der: bytes) -> str:
    # Cached: a registry holds far fewer distinct names than certificates (issuers repeat).
    return hashlib.sha256(repr(name_key(name_der)).encode("utf-8")).hexdigest().upper()


def _insert_certificates(rows: list[dict[str, Any]]) -> dict[str, int]:
    """Insert new certificates; returns sha256 -> pk.

    On PostgreSQL one multi-row INSERT per page through psycopg2's execute_values: Django's
    bulk_create spends more time preparing 30 values a row than the database spends storing
    them, and bulk imports of the CCADB corpus are the registry's hot path.
    """
    if not rows:
        return {}
    if connection.vendor != "postgresql":
        created = Certificate.objects.bulk_create([Certificate(**row) for row in rows], batch_size=BATCH)
        if created[0].pk is not None:
            return {c.sha256: c.pk for c in created}
        return _existing_ids([row["sha256"] for row in rows])
    from psycopg2.extras import execute_values

    now = timezone.now()
    fields = [f for f in Certificate._meta.concrete_fields if not f.primary_key]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    sql = f"INSERT INTO {connection.ops.quote_name(Certificate._meta.db_table)} ({columns}) VALUES %s RETURNING id, sha256"
    names = [f.attname for f in fields]
    defaults = {"created_at": now, "owner_id": None}
    values = [tuple(row[n] if n in row else defaults[n] for n in names) for row in rows]
    with connection.cursor() as cursor:
        returned = execute_values(cursor.cursor, sql, values, page_size=BATCH, fetch=True)
    return {sha: pk for pk, sha in returned}


def _chunks(items: list, size: int = BATCH):
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _require_editor(actor: Any) -> None:
    """`actor` None is the system (a command, the demo); a person must be allowed to edit the registry."""
    if actor is not None and not permissions.can_edit_registry(actor):
        raise NotPermitted("Only root program staff change the registry.")


# --- Certificates --------------------------------------------------------------------------


@dataclass
class ImportSummary:
    """What certificates_import did. `certificates` lists the sha256 of every certificate read, in input order."""

    read: int = 0
    created: int = 0
    already_present: int = 0
    repeated_in_input: int = 0
    links_added: int = 0
    certificates: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return (
            f"{self.read} certificates read: {self.created} new, {self.already_present} already in the registry, "
            f"{self.repeated_in_input} repeated in the input; {self.links_added} issuer links added"
        )


def _certificate_values(p: ParsedCertificate) -> dict[str, Any]:
    return dict(
        sha256=p.sha256,
        sha1=p.sha1,
        md5=p.md5,
        spki_sha256=p.spki_sha256,
        cross_sign_key=cross_sign_key(p),
        subject_key=der_key(p.subject_der),
        issuer_key=der_key(p.issuer_der),
        subject_name_key=name_match_key(p.subject_der),
        issuer_name_key=name_match_key(p.issuer_der),
        der=p.der,
        subject_der=p.subject_der,
        issuer_der=p.issuer_der,
        serial_hex=p.serial_hex,
        serial_der=p.serial_der,
        spki_der=p.spki_der,
        subject_text=p.subject_text,
        issuer_text=p.issuer_text,
        label=(p.label or "")[:255],
        not_before=p.not_before,
        not_after=p.not_after,
        key_type=p.key_type[:64],
        key_size=p.key_size or None,
        is_ca=p.is_ca,
        path_length=p.path_length if p.path_length is not None and p.path_length >= 0 else None,
        ski=p.ski or "",
        aki=p.aki or "",
        kind=kind(p),
        source=(p.source or "")[:500],
    )


def _existing_ids(shas: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for chunk in _chunks(shas):
        found.update(Certificate.objects.filter(sha256__in=chunk).values_list("sha256", "pk"))
    return found


def _store_parsed(
    parsed: list[ParsedCertificate], *, owner: CAOwner | None = None, progress: Progress = None
) -> tuple[dict[str, int], ImportSummary]:
    """Insert the certificates not yet stored, link them, apply owners. Must run inside a transaction."""
    summary = ImportSummary(read=len(parsed))
    unique: dict[str, ParsedCertificate] = {}
    for p in parsed:
        if p.sha256 in unique:
            summary.repeated_in_input += 1
        else:
            unique[p.sha256] = p
    summary.certificates = list(unique)
    ids = _existing_ids(list(unique))
    summary.already_present = len(ids)
    new = [p for sha, p in unique.items() if sha not in ids]
    # Candidates are read before the new rows exist, so the lookup returns only older certificates.
    candidates = _link_candidates(new, ids) if new else {}
    for number, chunk in enumerate(_chunks(new, 2000), start=1):
        ids.update(_insert_certificates([_certificate_values(p) for p in chunk]))
        if progress and len(new) > 2000:
            progress(f"  stored {min(number * 2000, len(new))}/{len(new)} certificates")
    summary.created = len(new)
    if new:
        summary.links_added = _link(new, candidates, ids, progress=progress)
        _apply_ccadb_owners([p.sha256 for p in new])
    if len(new) >= 1000 and connection.vendor == "postgresql":
        # Fresh statistics after a bulk load, or the planner scans whole tables until autovacuum runs.
        with connection.cursor() as cursor:
            cursor.execute(
                f"ANALYZE {connection.ops.quote_name(Certificate._meta.db_table)}, "
                f"{connection.ops.quote_name(IssuerLink._meta.db_table)}"
            )
    if owner is not None:
        for chunk in _chunks([ids[sha] for sha in unique]):
            Certificate.objects.filter(pk__in=chunk, owner__isnull=True).update(owner=owner)
    return ids, summary


def _link_candidates(new: list[ParsedCertificate], ids: dict[str, int]) -> dict[str, ParsedCertificate]:
    """Stored certificates that may issue a new one or be issued by one (same normalised name)."""
    new_shas = {p.sha256 for p in new}
    issuer_keys = sorted({name_match_key(p.issuer_der) for p in new})
    subject_keys = sorted({name_match_key(p.subject_der) for p in new})
    candidates: dict[str, ParsedCertificate] = {}
    lookups = [("subject_name_key__in", k) for k in _chunks(issuer_keys)] + [
        ("issuer_name_key__in", k) for k in _chunks(subject_keys)
    ]
    for lookup, keys in lookups:
        rows = Certificate.objects.filter(**{lookup: keys}).values_list("sha256", "pk", "der")
        for sha, pk, der in rows:
            if sha not in new_shas and sha not in candidates:
                candidates[sha] = load_der(bytes(der), source=f"certificate {sha}")
                ids.setdefault(sha, pk)
    return candidates


def _link(
    new: list[ParsedCertificate], candidates: dict[str, ParsedCertificate], ids: dict[str, int], *, progress: Progress = None
) -> int:
    """IssuerLink rows for every verified link that involves a new certificate."""
    new_shas = {p.sha256 for p in new}
    if progress and len(new) > 1000:
        progress(f"  verifying signatures of {len(new)} new certificates against {len(new) + len(candidates)}")
    pairs = [
        (child, parent)
        for child, parent in compute_links([*new, *candidates.values()])
        if child in new_shas or parent in new_shas
    ]
    _insert_links([(ids[child], ids[parent]) for child, parent in pairs])
    return len(pairs)


def _insert_links(pairs: list[tuple[int, int]]) -> None:
    if not pairs:
        return
    if connection.vendor != "postgresql":
        IssuerLink.objects.bulk_create(
            [IssuerLink(child_id=c, parent_id=p) for c, p in pairs], batch_size=BATCH, ignore_conflicts=True
        )
        return
    from psycopg2.extras import execute_values

    table = connection.ops.quote_name(IssuerLink._meta.db_table)
    with connection.cursor() as cursor:
        execute_values(
            cursor.cursor,
            f"INSERT INTO {table} (child_id, parent_id) VALUES %s ON CONFLICT DO NOTHING",
            pairs,
            page_size=2000,
        )


def _apply_ccadb_owners(shas: list[str]) -> None:
    by_owner: dict[int, list[str]] = defaultdict(list)
    for chunk in _chunks(shas):
        for sha, owner_id in CCADBRecord.objects.filter(sha256__in=chunk, owner__isnull=False).values_list(
            "sha256", "owner_id"
        ):
            by_owner[owner_id].append(sha)
    for owner_id, owned in by_owner.items():
        for chunk in _chunks(owned):
            Certificate.objects.filter(sha256__in=chunk, owner__isnull=True).update(owner_id=owner_id)


def parse_certificate_items(items: Iterable[tuple[bytes | ParsedCertificate, str]]) -> list[ParsedCertificate]:
    """Parse (bytes or ParsedCertificate, source) items; every bad one is reported, by source, in one DomainError."""
    parsed: list[ParsedCertificate] = []
    errors: dict[str, list[str]] = {}
    for data, source in items:
        source = str(source)
        if isinstance(data, ParsedCertificate):
            parsed.append(data)
            continue
        try:
            parsed.extend(load_any(data, source=source))
        except CertificateError as exc:
            errors.setdefault(source, []).append(exc.reason)
    if errors:
        count = len(errors)
        first = next(iter(errors.items()))
        raise DomainError(
            f"{count} input{'s' if count > 1 else ''} could not be read, nothing was stored "
            f"(first: {first[0]}: {first[1][0]})",
            errors=errors,
        )
    return parsed


def certificates_import(
    *,
    actor: Any,
    items: Iterable[tuple[bytes | ParsedCertificate, str]],
    owner: CAOwner | None = None,
    progress: Progress = None,
) -> ImportSummary:
    """Store certificates (DER, PEM or PEM bundles, or already parsed), merge duplicates, compute
    issuer links and cross-sign groups. Any unreadable item aborts the whole import."""
    _require_editor(actor)
    parsed = parse_certificate_items(items)
    if not parsed:
        raise DomainError("No certificate to import.")
    with transaction.atomic():
        _ids, summary = _store_parsed(parsed, owner=owner, progress=progress)
        history.record(
            actor=actor,
            action=RegistryHistory.CERTIFICATES_IMPORTED,
            subject_type=history.subject_type_of(Certificate),
            summary=str(summary),
            detail={"created": summary.created, "read": summary.read, "links_added": summary.links_added},
        )
    return summary


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


def certdata_import(*, actor: Any, text: str | bytes, source: str, progress: Progress = None) -> CertdataSummary:
    """Make the root store what an NSS certdata.txt says, keeping its text for a byte-for-byte export.

    Entries not in the file are removed; certificates are kept (the registry outlives a root store).
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
        for name, value in changes.items():
            setattr(entry, name, value)
        entry.save()
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
        history.record(
            actor=actor,
            action=RegistryHistory.ROOT_STORE_ENTRY_CHANGED,
            subject=entry,
            summary=f"{entry.label}: added (server {trust_server}, email {trust_email})",
            detail={"entry": entry.pk},
        )
    return entry


# --- CCADB records --------------------------------------------------------------------------

_AUDIT_KINDS = ("Standard", "NetSec", "TLS BR", "TLS EVG", "Code Signing", "S/MIME BR", "VMC")
_AUDIT_FIELDS = ("URL", "Type", "Statement Date", "Period Start Date", "Period End Date")
_REQUIRED_COLUMNS = ("CA Owner", "SHA-256 Fingerprint", "Parent SHA-256 Fingerprint")


@dataclass
class CCADBSummary:
    rows: int = 0
    owners_created: int = 0
    records_created: int = 0
    records_updated: int = 0
    certificates_owned: int = 0
    links_added: int = 0

    def __str__(self) -> str:
        return (
            f"{self.rows} rows: {self.owners_created} new CA owners, {self.records_created} new and "
            f"{self.records_updated} updated records, {self.certificates_owned} certificates given an owner, "
            f"{self.links_added} issuer links added"
        )


def read_ccadb_records(path: Path) -> list[dict[str, str]]:
    """Rows of an "AllCertificateRecordsCSVFormat" file; raises DomainError naming the file and row."""
    from pki.x509 import fingerprint_normalize

    csv.field_size_limit(max(csv.field_size_limit(), 1 << 24))
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            header = reader.fieldnames or []
            missing = [c for c in _REQUIRED_COLUMNS if c not in header]
            if missing:
                raise DomainError(f"{path}: not a CCADB AllCertificateRecordsCSVFormat file (no column {', '.join(missing)})")
            rows = []
            for number, row in enumerate(reader, start=1):
                try:
                    row["SHA-256 Fingerprint"] = fingerprint_normalize(row["SHA-256 Fingerprint"] or "")
                    parent = (row.get("Parent SHA-256 Fingerprint") or "").strip()
                    row["Parent SHA-256 Fingerprint"] = fingerprint_normalize(parent) if parent else ""
                except CertificateError as exc:
                    raise DomainError(f"{path}:row {number}: {exc.reason}") from None
                if not (row.get("CA Owner") or "").strip():
                    raise DomainError(f"{path}:row {number}: empty CA Owner")
                rows.append(row)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise DomainError(f"{path}: cannot read it ({exc})") from None
    return rows


def ccadb_records_import(*, actor: Any, rows: list[dict[str, str]], source: str) -> CCADBSummary:
    """Owners, owner of each certificate, parent links (kept only where the signature verifies) and audit columns."""
    _require_editor(actor)
    from pki.x509 import verify_issued_by

    summary = CCADBSummary(rows=len(rows))
    with transaction.atomic():
        owners = {o.name: o for o in CAOwner.objects.all()}
        existing = {r.sha256: r for r in CCADBRecord.objects.all()}
        to_create, to_update = [], []
        for row in rows:
            name = row["CA Owner"].strip()[:255]
            owner = owners.get(name)
            if owner is None:
                owner = owners[name] = CAOwner.objects.create(name=name, country=(row.get("Country") or "").strip()[:100])
                summary.owners_created += 1
            elif not owner.country and (row.get("Country") or "").strip():
                owner.country = row["Country"].strip()[:100]
                owner.save(update_fields=["country"])
            audits = {
                kind: {f: (row.get(f"{kind} Audit {f}") or "").strip() for f in _AUDIT_FIELDS}
                for kind in _AUDIT_KINDS
                if any((row.get(f"{kind} Audit {f}") or "").strip() for f in _AUDIT_FIELDS)
            }
            values = dict(
                parent_sha256=row["Parent SHA-256 Fingerprint"],
                owner=owner,
                salesforce_id=(row.get("Salesforce Record ID") or "")[:40],
                certificate_name=(row.get("Certificate Name") or "")[:500],
                record_type=(row.get("Certificate Record Type") or "")[:60],
                revocation_status=(row.get("Revocation Status") or "")[:60],
                auditor=(row.get("Auditor") or "")[:255],
                audits=audits,
                row=row,
                source=source[:500],
            )
            record = existing.get(row["SHA-256 Fingerprint"])
            if record is None:
                record = CCADBRecord(sha256=row["SHA-256 Fingerprint"], **values)
                existing[record.sha256] = record
                to_create.append(record)
            else:
                for k, v in values.items():
                    setattr(record, k, v)
                if record.pk is not None and record not in to_update:
                    to_update.append(record)
        CCADBRecord.objects.bulk_create(to_create, batch_size=BATCH)
        if to_update:
            CCADBRecord.objects.bulk_update(
                to_update,
                ["parent_sha256", "owner", "salesforce_id", "certificate_name", "record_type", "revocation_status",
                 "auditor", "audits", "row", "source"],
                batch_size=BATCH,
            )
        summary.records_created, summary.records_updated = len(to_create), len(to_update)
        # The CCADB owner is authoritative for the certificates it lists.
        records = list(existing.values())
        by_owner: dict[int, list[str]] = defaultdict(list)
        for r in records:
            by_owner[r.owner.pk].append(r.sha256)
        for owner_id, shas in by_owner.items():
            for chunk in _chunks(shas):
                summary.certificates_owned += (
                    Certificate.objects.filter(sha256__in=chunk).exclude(owner_id=owner_id).update(owner_id=owner_id)
                )
        # Parent links CCADB claims, kept only where the signature verifies.
        claimed = [(r.sha256, r.parent_sha256) for r in records if r.parent_sha256 and r.parent_sha256 != r.sha256]
        shas = sorted({s for pair in claimed for s in pair})
        certs: dict[str, tuple[int, bytes]] = {}
        for chunk in _chunks(shas):
            certs.update((sha, (pk, der)) for sha, pk, der in Certificate.objects.filter(sha256__in=chunk).values_list("sha256", "pk", "der"))
        pairs = [(c, p) for c, p in claimed if c in certs and p in certs]
        linked = set()
        for chunk in _chunks(pairs):
            linked.update(
                IssuerLink.objects.filter(
                    Q(child_id__in=[certs[c][0] for c, _ in chunk]) & Q(parent_id__in=[certs[p][0] for _, p in chunk])
                ).values_list("child_id", "parent_id")
            )
        new_links = []
        for child, parent in pairs:
            key = (certs[child][0], certs[parent][0])
            if key in linked:
                continue
            c = load_der(bytes(certs[child][1]), source=child)
            p = load_der(bytes(certs[parent][1]), source=parent)
            if cross_sign_key(c) != cross_sign_key(p) and verify_issued_by(c, p):
                new_links.append(IssuerLink(child_id=key[0], parent_id=key[1]))
                linked.add(key)
        IssuerLink.objects.bulk_create(new_links, ignore_conflicts=True)
        summary.links_added = len(new_links)
        history.record(
            actor=actor,
            action=RegistryHistory.CCADB_RECORDS_IMPORTED,
            subject_type=history.subject_type_of(CCADBRecord),
            summary=f"{source}: {summary}",
        )
    return summary


# --- CA owners ----------------------------------------------------------------------------


def ca_owner_update(*, actor: Any, owner: CAOwner, **changes: Any) -> CAOwner:
    _require_editor(actor)
    allowed = {"name", "ccadb_id", "country", "status"}
    unknown = set(changes) - allowed
    if unknown:
        raise DomainError(f"Cannot change {', '.join(sorted(unknown))} of a CA owner.")
    if "status" in changes and changes["status"] not in CAOwner.Status.values:
        raise DomainError(f"status must be one of {', '.join(CAOwner.Status.values)}.")
    if changes.get("ccadb_id"):
        import re

        if not re.fullmatch(r"A\d{6}", changes["ccadb_id"]):
            raise DomainError("A CCADB unique ID is 'A' followed by 6 digits, e.g. A000123.", errors={"ccadb_id": ["bad format"]})
    with transaction.atomic():
        old = {k: getattr(owner, k) for k in changes}
        for k, v in changes.items():
            setattr(owner, k, v if v != "" or k != "ccadb_id" else None)
        owner.save()
        history.record(
            actor=actor,
            action=RegistryHistory.OWNER_CHANGED,
            subject=owner,
            old={k: old[k] for k in changes},
            new={k: getattr(owner, k) for k in changes},
            summary=f"{owner.name}: " + ", ".join(f"{k} {old[k]!r} -> {v!r}" for k, v in changes.items()),
        )
    return owner
