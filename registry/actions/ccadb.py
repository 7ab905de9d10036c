"""CCADB AllCertificateRecords import."""

from __future__ import annotations

import csv
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db import transaction
from django.db.models import Q

from config.errors import DomainError
from history import actions as history
from pki.x509 import CertificateError, cross_sign_key, load_der
from registry.actions._common import BATCH, _chunks, _require_editor
from registry.models import (
    CAOwner,
    CCADBRecord,
    Certificate,
    IssuerLink,
    RegistryHistory,
)

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
