"""Certificates: parse, store, link to issuers, attach CCADB owners."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction

from config.errors import DomainError
from history import actions as history
from pki.paths import compute_links
from pki.x509 import CertificateError, ParsedCertificate, cross_sign_key, kind, load_any, load_der
from registry.actions._common import (
    BATCH,
    Progress,
    _chunks,
    _existing_ids,
    _insert_certificates,
    _require_editor,
    name_match_key,
    serialize_imports,
)
from registry.actions.chaining import attach_owners_below
from registry.models import (
    CAOwner,
    CCADBRecord,
    Certificate,
    IssuerLink,
    RegistryHistory,
    der_key,
)


@dataclass
class ImportSummary:
    """What certificates_import did. `certificates` lists the sha256 of every certificate read, in input order."""

    read: int = 0
    created: int = 0
    already_present: int = 0
    repeated_in_input: int = 0
    links_added: int = 0
    owners_attached: int = 0  # intermediates given their root's owner by chaining (issue 14)
    ambiguous: int = 0  # intermediates chaining to roots of several owners, left without one
    certificates: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return (
            f"{self.read} certificates read: {self.created} new, {self.already_present} already in the registry, "
            f"{self.repeated_in_input} repeated in the input; {self.links_added} issuer links added"
            + (f"; {self.owners_attached} intermediates attached to their owner by chaining" if self.owners_attached else "")
            + (f"; {self.ambiguous} chain to roots of several owners (left without owner)" if self.ambiguous else "")
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



def _store_parsed(
    parsed: list[ParsedCertificate], *, owner: CAOwner | None = None, progress: Progress = None, actor: Any = None
) -> tuple[dict[str, int], ImportSummary]:
    """Insert the certificates not yet stored, link them, apply owners. Must run inside a transaction."""
    serialize_imports()
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
    if new:
        chained = attach_owners_below([ids[p.sha256] for p in new], actor=actor)
        summary.owners_attached, summary.ambiguous = chained.attached_count, len(chained.ambiguous)
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
        _ids, summary = _store_parsed(parsed, owner=owner, progress=progress, actor=actor)
        history.record(
            actor=actor,
            action=RegistryHistory.CERTIFICATES_IMPORTED,
            subject_type=history.subject_type_of(Certificate),
            summary=str(summary),
            detail={"created": summary.created, "read": summary.read, "links_added": summary.links_added,
                    "owners_attached": summary.owners_attached, "ambiguous": summary.ambiguous},
        )
    return summary
