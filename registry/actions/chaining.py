"""Intermediates attached to their owner by chaining (issue 14).

An intermediate without an owner gets the owner of the root(s) it chains to through the issuer
links (IssuerLink: name match and verified signature, as pki.paths.compute_links made them). Only
roots with an owner count. An intermediate whose paths reach roots of two or more owners (a
cross-sign) stays without an owner and is listed as ambiguous; one that reaches no owned root is
left alone. Runs on every certificate import (for the new certificates and everything under them)
and as an action staff run over the whole registry.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction

from history import actions as history
from registry.actions._common import _chunks, _require_editor
from registry.models import CAOwner, Certificate, IssuerLink, RegistryHistory

__all__ = ["ChainingSummary", "AmbiguousCertificate", "owners_attach_by_chaining", "attach_owners_below"]


@dataclass
class AmbiguousCertificate:
    sha256: str
    label: str
    owners: list[str]  # names, sorted


@dataclass
class ChainingSummary:
    """What attaching by chaining did: `attached` counts per owner name, `ambiguous` the
    intermediates left without an owner because they chain to roots of several owners."""

    examined: int = 0
    attached: dict[str, int] = field(default_factory=dict)
    attached_certificates: list[str] = field(default_factory=list)
    ambiguous: list[AmbiguousCertificate] = field(default_factory=list)
    unreached: int = 0

    @property
    def attached_count(self) -> int:
        return sum(self.attached.values())

    def __str__(self) -> str:
        per_owner = ", ".join(f"{n} to {name}" for name, n in sorted(self.attached.items()))
        return (
            f"{self.examined} intermediates without an owner examined: {self.attached_count} attached"
            + (f" ({per_owner})" if per_owner else "")
            + f", {len(self.ambiguous)} ambiguous (chain to roots of several owners, left unattached), "
            f"{self.unreached} reach no root with an owner"
        )


def _recursive(cert_ids: list[int], *, up: bool) -> list[tuple[int, int]]:
    """Every issuer link above (up) or below (down) the given certificates: one recursive query per
    chunk of ids; UNION stops at cycles."""
    table = connection.ops.quote_name(IssuerLink._meta.db_table)
    near, far = ("child_id", "parent_id") if up else ("parent_id", "child_id")
    pairs: set[tuple[int, int]] = set()
    for chunk in _chunks(cert_ids):
        marks = ", ".join(["%s"] * len(chunk))
        sql = (
            f"WITH RECURSIVE walk(child_id, parent_id) AS ("
            f" SELECT child_id, parent_id FROM {table} WHERE {near} IN ({marks})"
            f" UNION SELECT l.child_id, l.parent_id FROM {table} l JOIN walk ON l.{near} = walk.{far}"
            f") SELECT child_id, parent_id FROM walk"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, chunk)
            pairs.update(cursor.fetchall())
    return sorted(pairs)


def _attach(candidate_ids: list[int] | None, *, actor: Any) -> ChainingSummary:
    """Attach the ownerless intermediates among `candidate_ids` (None: all of them). Inside a transaction."""
    ownerless = Certificate.objects.filter(kind=Certificate.Kind.INTERMEDIATE, owner__isnull=True)
    if candidate_ids is not None:
        ids: list[int] = []
        for chunk in _chunks(sorted(set(candidate_ids))):
            ids.extend(ownerless.filter(pk__in=chunk).values_list("pk", flat=True))
    else:
        ids = list(ownerless.values_list("pk", flat=True))
    summary = ChainingSummary(examined=len(ids))
    if not ids:
        return summary
    parents: dict[int, list[int]] = defaultdict(list)
    for child, parent in _recursive(ids, up=True):
        parents[child].append(parent)
    above = sorted({p for ps in parents.values() for p in ps})
    info: dict[int, tuple[str, int | None, str, str]] = {}
    for chunk in _chunks(above):
        for pk, kind, owner_id, sha, label in Certificate.objects.filter(pk__in=chunk).values_list(
            "pk", "kind", "owner_id", "sha256", "label"
        ):
            info[pk] = (kind, owner_id, sha, label)

    def root_owners(start: int) -> set[int]:
        found: set[int] = set()
        seen = {start}
        stack = [start]
        while stack:
            node = stack.pop()
            for parent in parents.get(node, ()):
                if parent in seen:
                    continue
                seen.add(parent)
                kind, owner_id = info[parent][0], info[parent][1]
                if kind == Certificate.Kind.ROOT:
                    if owner_id is not None:
                        found.add(owner_id)
                    continue  # a root ends the path
                stack.append(parent)
        return found

    by_owner: dict[int, list[int]] = defaultdict(list)
    ambiguous: dict[int, set[int]] = {}
    for pk in ids:
        owners = root_owners(pk)
        if len(owners) == 1:
            by_owner[next(iter(owners))].append(pk)
        elif owners:
            ambiguous[pk] = owners
        else:
            summary.unreached += 1
    names = dict(CAOwner.objects.filter(pk__in={o for s in [set(by_owner), *ambiguous.values()] for o in s}).values_list("pk", "name"))
    shas: dict[int, tuple[str, str]] = {}
    for chunk in _chunks([*(pk for pks in by_owner.values() for pk in pks), *ambiguous]):
        shas.update({pk: (sha, label) for pk, sha, label in Certificate.objects.filter(pk__in=chunk).values_list("pk", "sha256", "label")})
    rows = []
    for owner_id, pks in sorted(by_owner.items(), key=lambda kv: names[kv[0]]):
        for chunk in _chunks(pks):
            Certificate.objects.filter(pk__in=chunk, owner__isnull=True).update(owner_id=owner_id)
        summary.attached[names[owner_id]] = len(pks)
        for pk in pks:
            summary.attached_certificates.append(shas[pk][0])
            rows.append({
                "subject_id": pk, "field": "owner", "old": "", "new": names[owner_id],
                "summary": f"Owner {names[owner_id]} (chains only to its roots)",
            })
    summary.ambiguous = sorted(
        (AmbiguousCertificate(shas[pk][0], shas[pk][1], sorted(names[o] for o in owners)) for pk, owners in ambiguous.items()),
        key=lambda a: (a.label.lower(), a.sha256),
    )
    if rows:
        history.record_many(
            actor=actor, action=RegistryHistory.CERTIFICATE_OWNER_SET,
            subject_type=history.subject_type_of(Certificate), rows=rows,
        )
    return summary


def attach_owners_below(new_ids: list[int], *, actor: Any = None) -> ChainingSummary:
    """On import: the new certificates and every certificate under them that has no owner yet get
    their root's owner. Must run inside the import's transaction."""
    below = {child for child, _parent in _recursive(new_ids, up=False)} if new_ids else set()
    return _attach(sorted(set(new_ids) | below), actor=actor)


def owners_attach_by_chaining(*, actor: Any) -> ChainingSummary:
    """Staff's "attach by chaining" over the whole registry, with one history row saying what it did."""
    _require_editor(actor)
    with transaction.atomic():
        summary = _attach(None, actor=actor)
        history.record(
            actor=actor,
            action=RegistryHistory.OWNERS_ATTACHED_BY_CHAINING,
            subject_type=history.subject_type_of(Certificate),
            summary=str(summary),
            detail={
                "attached": summary.attached,
                "ambiguous": [{"sha256": a.sha256, "owners": a.owners} for a in summary.ambiguous],
                "unreached": summary.unreached,
            },
        )
    return summary
