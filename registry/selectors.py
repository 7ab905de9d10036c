"""Reads of the CA registry: lists, lookups, the trust graph, paths, and the certdata.txt export.

Each list runs a fixed number of queries whatever its size.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import connection
from django.db.models import Count, Q, QuerySet

from config.filters import db_int
from pki import certdata
from pki.paths import AnchorTrust, evaluate, find_paths
from pki.x509 import (
    CertificateError,
    fingerprint_normalize,
    nss_name_text,
    nss_serial_text,
    sha1_fingerprint_normalize,
)
from registry.models import CAOwner, CertdataImport, Certificate, IssuerLink, RootStoreEntry

Trust = RootStoreEntry.Trust


# --- Lookups and lists ---------------------------------------------------------------------


def certificates_qs() -> QuerySet[Certificate]:
    return Certificate.objects.select_related("owner")


def certificate_by_fingerprint(s: str) -> Certificate | None:
    """A certificate by SHA-256 (or SHA-1) fingerprint, with or without colons, any case."""
    if not isinstance(s, str):
        return None
    try:
        return certificates_qs().filter(sha256=fingerprint_normalize(s)).first()
    except CertificateError:
        pass
    try:
        return certificates_qs().filter(sha1=sha1_fingerprint_normalize(s)).first()
    except CertificateError:
        return None


_HEX = re.compile(r"^(?:0x)?[0-9A-Fa-f:\s]+$")


def search_certificates(q: str) -> QuerySet[Certificate]:
    """Certificates matching a name (label, subject, owner), a fingerprint, or a serial number (hex, colons allowed)."""
    q = (q or "").strip()
    qs = certificates_qs()
    if not q:
        return qs.none()
    cond = Q(label__icontains=q) | Q(subject_text__icontains=q) | Q(owner__name__icontains=q)
    if _HEX.match(q):
        digits = re.sub(r"[\s:]", "", q.removeprefix("0x").removeprefix("0X")).upper()
        if len(digits) == 64:
            cond |= Q(sha256=digits)
        elif len(digits) == 40:
            cond |= Q(sha1=digits) | Q(serial_hex=digits)
        if digits:
            # Serials print with or without the leading 00 DER keeps for positive numbers.
            cond |= Q(serial_hex=digits) | Q(serial_hex="00" + digits)
            if len(digits) >= 8:
                cond |= Q(sha256__startswith=digits)
    return qs.filter(cond).order_by("label", "sha256")


def certificate_list(*, sha256: str = "", owner: str = "", kind: str = "", issuer_sha256: str = "", trusted_for: str = "") -> QuerySet[Certificate]:
    """The filtered list behind /api/v1/certificates/ (unknown filter values give an empty list)."""
    qs = certificates_qs().order_by("label", "sha256")
    if sha256:
        try:
            qs = qs.filter(sha256=fingerprint_normalize(sha256))
        except CertificateError:
            return qs.none()
    if owner:
        owner_id = db_int(owner)
        qs = qs.filter(owner_id=owner_id) if owner_id is not None else qs.filter(owner__name=owner)
    if kind:
        qs = qs.filter(kind=kind)
    if issuer_sha256:
        try:
            qs = qs.filter(parent_links__parent__sha256=fingerprint_normalize(issuer_sha256))
        except CertificateError:
            return qs.none()
    if trusted_for:
        column = {"server": "trust_server", "email": "trust_email"}.get(trusted_for)
        if column is None:
            return qs.none()
        qs = qs.filter(**{f"root_store_entries__{column}": Trust.TRUSTED_DELEGATOR})
    return qs.distinct()


def ca_owner_list() -> QuerySet[CAOwner]:
    """Owners with the counts the list shows (one query)."""
    return CAOwner.objects.annotate(
        root_count=Count("certificates", filter=Q(certificates__kind=Certificate.Kind.ROOT), distinct=True),
        intermediate_count=Count(
            "certificates", filter=Q(certificates__kind=Certificate.Kind.INTERMEDIATE), distinct=True
        ),
        trusted_count=Count(
            "certificates",
            filter=Q(certificates__root_store_entries__trust_server=Trust.TRUSTED_DELEGATOR)
            | Q(certificates__root_store_entries__trust_email=Trust.TRUSTED_DELEGATOR),
            distinct=True,
        ),
    ).order_by("name")


def cross_signs(cert: Certificate) -> QuerySet[Certificate]:
    """The other certificates of this one's cross-sign group (same subject and key, other issuer or re-issue)."""
    return certificates_qs().filter(cross_sign_key=cert.cross_sign_key).exclude(pk=cert.pk).order_by("not_before", "sha256")


def parents_of(cert: Certificate) -> QuerySet[Certificate]:
    return certificates_qs().filter(child_links__child=cert).order_by("label", "sha256")


def children_of(cert: Certificate) -> QuerySet[Certificate]:
    return certificates_qs().filter(parent_links__parent=cert).order_by("label", "sha256")


def entries_with_certificates() -> QuerySet[RootStoreEntry]:
    return RootStoreEntry.objects.select_related("certificate", "certificate__owner")


# --- Tree of an owner's certificates -------------------------------------------------------


@dataclass
class TreeNode:
    certificate: Certificate
    entries: list[RootStoreEntry]
    children: list[TreeNode] = field(default_factory=list)
    issued_by_other_owner: bool = False


def owner_certificate_tree(owner: CAOwner) -> list[TreeNode]:
    """The owner's roots and intermediates as a tree under their issuers (3 queries).

    A certificate with several issuers of this owner (a cross-sign) appears under each of them.
    """
    certs = {
        c.pk: c
        for c in Certificate.objects.filter(owner=owner)
        .exclude(kind=Certificate.Kind.LEAF)
        .order_by("label", "sha256")
        .defer("der", "subject_der", "issuer_der", "spki_der")
    }
    entries: dict[int, list[RootStoreEntry]] = defaultdict(list)
    for e in RootStoreEntry.objects.filter(certificate_id__in=list(certs)):
        entries[e.certificate_id].append(e)
    parents: dict[int, list[int]] = defaultdict(list)
    has_any_parent: set[int] = set()
    for child, parent in IssuerLink.objects.filter(child_id__in=list(certs)).values_list("child_id", "parent_id"):
        has_any_parent.add(child)
        if parent in certs:
            parents[child].append(parent)
    children: dict[int, list[int]] = defaultdict(list)
    for child, ps in parents.items():
        for p in ps:
            children[p].append(child)

    def build(pk: int, trail: frozenset[int]) -> TreeNode:
        node = TreeNode(certs[pk], entries.get(pk, []))
        for c in children.get(pk, []):
            if c not in trail:
                node.children.append(build(c, trail | {c}))
        return node

    tops = [pk for pk in certs if not parents.get(pk)]
    nodes = [build(pk, frozenset({pk})) for pk in tops]
    for node in nodes:
        node.issued_by_other_owner = node.certificate.pk in has_any_parent
    # Roots first, then intermediates issued by other owners' CAs.
    nodes.sort(key=lambda n: (n.certificate.kind != Certificate.Kind.ROOT, n.certificate.label.lower()))
    return nodes


# --- Trust graph and paths -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class GraphCert:
    """What path evaluation needs of a certificate (ParsedCertificate-like)."""

    sha256: str
    not_before: datetime
    issuer_der: bytes
    serial_der: bytes
    subject_der: bytes
    cross_sign_key: str
    label: str = ""
    spki_der: bytes = b""  # so paths.evaluate can derive cross-sign groups when not given group_of


@dataclass
class TrustGraph:
    """The registry as paths.evaluate takes it. Copy it before adding hypothetical distrusts."""

    certs: dict[str, GraphCert]
    parents: dict[str, list[str]]
    anchors: dict[str, AnchorTrust]
    groups: dict[str, str]
    distrusted: dict[tuple[bytes, bytes], set[str]]

    def copy(self) -> TrustGraph:
        return TrustGraph(
            certs=dict(self.certs),
            parents={k: list(v) for k, v in self.parents.items()},
            anchors=dict(self.anchors),
            groups=dict(self.groups),
            distrusted={k: set(v) for k, v in self.distrusted.items()},
        )

    def evaluate(self, sha256: str, purpose: str):
        return evaluate(
            sha256,
            certs=self.certs,
            parents=self.parents,
            anchors=self.anchors,
            distrusted=self.distrusted,
            purpose=purpose,
            group_of=self.groups,
        )


def _is_anchor(kind: str, trust_server: str, trust_email: str) -> bool:
    """A root store entry is a trust anchor if it is a root, or is trusted as a delegator for some purpose."""
    return kind == Certificate.Kind.ROOT or Trust.TRUSTED_DELEGATOR in (trust_server, trust_email)


def _anchor_trust(entry: Any) -> AnchorTrust:
    return AnchorTrust(
        server=entry.trust_server == Trust.TRUSTED_DELEGATOR,
        email=entry.trust_email == Trust.TRUSTED_DELEGATOR,
        server_distrust_after=entry.server_distrust_after,
        email_distrust_after=entry.email_distrust_after,
    )


def _distrusted_purposes(trust_server: str, trust_email: str) -> set[str]:
    out = set()
    if trust_server == Trust.NOT_TRUSTED:
        out.add("server")
    if trust_email == Trust.NOT_TRUSTED:
        out.add("email")
    return out


def trust_graph() -> TrustGraph:
    """The whole registry as a graph (3 queries)."""
    certs: dict[str, GraphCert] = {}
    sha_of: dict[int, str] = {}
    kind_of: dict[int, str] = {}
    rows = Certificate.objects.values_list(
        "pk", "sha256", "not_before", "issuer_der", "serial_der", "subject_der", "cross_sign_key", "label", "kind", "spki_der"
    ).order_by()
    for pk, sha, nb, issuer, serial, subject, group, label, kind, spki in rows:
        certs[sha] = GraphCert(sha, nb, bytes(issuer), bytes(serial), bytes(subject), group, label, bytes(spki))
        sha_of[pk] = sha
        kind_of[pk] = kind
    parents: dict[str, list[str]] = defaultdict(list)
    for child, parent in IssuerLink.objects.values_list("child_id", "parent_id").order_by():
        parents[sha_of[child]].append(sha_of[parent])
    anchors: dict[str, AnchorTrust] = {}
    distrusted: dict[tuple[bytes, bytes], set[str]] = {}
    for entry in RootStoreEntry.objects.only(
        "certificate_id", "issuer_der", "serial_der", "trust_server", "trust_email",
        "server_distrust_after", "email_distrust_after",
    ).order_by():  # fmt: skip
        purposes = _distrusted_purposes(entry.trust_server, entry.trust_email)
        if purposes:
            distrusted.setdefault((bytes(entry.issuer_der), bytes(entry.serial_der)), set()).update(purposes)
        if entry.certificate_id is not None and _is_anchor(kind_of[entry.certificate_id], entry.trust_server, entry.trust_email):
            anchors[sha_of[entry.certificate_id]] = _anchor_trust(entry)
    return TrustGraph(
        certs=certs,
        parents={k: sorted(v) for k, v in parents.items()},
        anchors=anchors,
        groups={sha: c.cross_sign_key for sha, c in certs.items()},
        distrusted=distrusted,
    )


@dataclass
class PathInfo:
    certificates: list[Certificate]
    anchor_entry: RootStoreEntry
    verdicts: dict[str, Any]  # purpose -> paths.PathResult


MAX_DEPTH = 12

def _upward(cert_id: int) -> dict[int, list[int]]:
    """Every issuer link above one certificate, in one recursive query (UNION stops at cycles)."""
    table = connection.ops.quote_name(IssuerLink._meta.db_table)
    sql = (
        f"WITH RECURSIVE up(child_id, parent_id) AS ("
        f" SELECT child_id, parent_id FROM {table} WHERE child_id = %s"
        f" UNION SELECT l.child_id, l.parent_id FROM {table} l JOIN up ON l.child_id = up.parent_id"
        f") SELECT child_id, parent_id FROM up"
    )
    parents: dict[int, list[int]] = {}
    with connection.cursor() as cursor:
        cursor.execute(sql, [cert_id])
        for child, parent in cursor.fetchall():
            parents.setdefault(child, []).append(parent)
    return parents


def path_details(cert: Certificate) -> list[PathInfo]:
    """Every path from `cert` to a root store anchor, with the certificates and each purpose's verdict.

    Reads only the part of the graph above the certificate: five queries whatever its size.
    """
    up = _upward(cert.pk)
    ids = {cert.pk} | {p for ps in up.values() for p in ps}
    rows = {
        pk: (sha, group, kind)
        for pk, sha, group, kind in Certificate.objects.filter(pk__in=list(ids)).values_list("pk", "sha256", "cross_sign_key", "kind")
    }
    sha_of = {pk: r[0] for pk, r in rows.items()}
    parents = {sha_of[c]: sorted(sha_of[p] for p in ps) for c, ps in up.items()}
    group_of = {r[0]: r[1] for r in rows.values()}
    anchors = {
        sha_of[e.certificate_id]: e
        for e in RootStoreEntry.objects.filter(certificate_id__in=list(ids))
        if _is_anchor(rows[e.certificate_id][2], e.trust_server, e.trust_email)
    }
    sha_paths = find_paths(cert.sha256, parents, anchors, group_of=group_of, max_depth=MAX_DEPTH)
    if not sha_paths:
        return []
    on_paths = {sha for path in sha_paths for sha in path}
    full = {c.sha256: c for c in certificates_qs().filter(sha256__in=list(on_paths)).defer("der", "spki_der")}
    wanted = {(c.issuer_key, c.serial_hex) for c in full.values()}
    distrusted: dict[tuple[bytes, bytes], set[str]] = {}
    for e in RootStoreEntry.objects.filter(issuer_key__in=sorted({k[0] for k in wanted})):
        if (e.issuer_key, e.serial_hex) not in wanted:
            continue
        purposes = _distrusted_purposes(e.trust_server, e.trust_email)
        if purposes:
            distrusted.setdefault((bytes(e.issuer_der), bytes(e.serial_der)), set()).update(purposes)
    graph_certs = {
        sha: GraphCert(sha, c.not_before, bytes(c.issuer_der), bytes(c.serial_der), bytes(c.subject_der), c.cross_sign_key)
        for sha, c in full.items()
    }
    anchor_trust = {sha: _anchor_trust(e) for sha, e in anchors.items()}
    sub_parents = {sha: parents.get(sha, []) for sha in on_paths}
    verdicts: dict[str, dict[tuple, Any]] = {}
    for purpose in ("server", "email"):
        report = evaluate(
            cert.sha256, certs=graph_certs, parents=sub_parents, anchors=anchor_trust,
            distrusted=distrusted, purpose=purpose, group_of=group_of,
        )  # fmt: skip
        verdicts[purpose] = {tuple(r.path): r for r in report.paths}
    return [
        PathInfo(
            certificates=[full[sha] for sha in path],
            anchor_entry=anchors[path[-1]],
            verdicts={purpose: verdicts[purpose].get(tuple(path)) for purpose in ("server", "email")},
        )
        for path in sha_paths
    ]


def paths_for(cert: Certificate) -> list[list[Certificate]]:
    """Every path from `cert` up to a root store anchor, shortest first, through every cross-sign."""
    return [info.certificates for info in path_details(cert)]


# --- certdata.txt export --------------------------------------------------------------------

DEFAULT_HEADER = """#
# This Source Code Form is subject to the terms of the Mozilla Public
# License, v. 2.0. If a copy of the MPL was not distributed with this
# file, You can obtain one at http://mozilla.org/MPL/2.0/.
#
# certdata.txt written by Rootwatch from its registry.
#
BEGINDATA
CKA_CLASS CK_OBJECT_CLASS CKO_NSS_BUILTIN_ROOT_LIST
CKA_TOKEN CK_BBOOL CK_TRUE
CKA_PRIVATE CK_BBOOL CK_FALSE
CKA_MODIFIABLE CK_BBOOL CK_FALSE
CKA_LABEL UTF8 "Mozilla Builtin Roots"
"""


def certificate_block_text(cert: Certificate, *, entry: RootStoreEntry | None = None) -> str:
    """The certificate object and trust object NSS would add for this certificate.

    With an entry, its label, trust bits and distrust-after dates; without one, the certificate
    as a new root trusted for websites (adding it needs no hand work, only the label checked).
    """
    parsed = cert.parsed()
    label = (entry.label if entry else "") or cert.label or parsed.label
    if entry is None:
        return certdata.render_certificate_object(parsed, label=label) + certdata.render_trust_for_certificate(
            parsed,
            label=label,
            server=certdata.CKT_NSS_TRUSTED_DELEGATOR,
            email=certdata.CKT_NSS_MUST_VERIFY_TRUST,
            code=certdata.CKT_NSS_MUST_VERIFY_TRUST,
        )
    return _render_cert_block(entry, parsed) + _render_trust_block(entry, parsed, dates_here=False)


def _render_cert_block(entry: RootStoreEntry, parsed) -> str:
    return certdata.render_certificate_object(
        parsed,
        label=entry.label or parsed.label,
        server_distrust_after=entry.server_distrust_after,
        email_distrust_after=entry.email_distrust_after,
    )


def _render_trust_block(entry: RootStoreEntry, parsed, *, dates_here: bool) -> str:
    dates = (
        {"server_distrust_after": entry.server_distrust_after, "email_distrust_after": entry.email_distrust_after}
        if dates_here
        else {}
    )
    if parsed is not None:
        return certdata.render_trust_for_certificate(
            parsed,
            label=entry.label or parsed.label,
            server=entry.trust_server,
            email=entry.trust_email,
            code=entry.trust_code,
            step_up=entry.trust_step_up,
            **dates,
        )
    issuer, serial = bytes(entry.issuer_der), bytes(entry.serial_der)
    all_not_trusted = entry.trust_server == entry.trust_email == entry.trust_code == Trust.NOT_TRUSTED
    return certdata.render_trust_object(
        label=entry.label,
        issuer_der=issuer,
        serial_der=serial,
        sha1=None,
        md5=None,
        server=entry.trust_server,
        email=entry.trust_email,
        code=entry.trust_code,
        step_up=entry.trust_step_up,
        comment_lines=[f"Issuer: {nss_name_text(issuer)}", nss_serial_text(serial).removeprefix("# ")],
        title=f'Explicitly Distrust "{entry.label}"' if all_not_trusted else None,
        **dates,
    )


def export_certdata_text() -> str:
    """The root store in certdata.txt form.

    Blocks of the last imported file come out verbatim while their entry is unchanged; a
    changed entry's blocks are rendered again in NSS's current style; a removed entry's blocks
    are left out; entries added in Rootwatch are appended after them, oldest first.
    """
    record = CertdataImport.objects.order_by("-created_at", "-pk").first()
    entries = {e.pk: e for e in RootStoreEntry.objects.select_related("certificate").order_by("pk")}
    parsed_cache: dict[int, Any] = {}

    def parsed_of(entry: RootStoreEntry):
        if entry.certificate is None:
            return None
        if entry.pk not in parsed_cache:
            parsed_cache[entry.pk] = entry.certificate.parsed()
        return parsed_cache[entry.pk]

    out = [record.header if record else DEFAULT_HEADER]
    covered: set[int] = set()
    if record is not None:
        blocks = list(record.blocks.order_by("position").values_list("cls", "raw", "entry_id", "state"))
        with_cert_block = {entry_id for cls, _raw, entry_id, _state in blocks if cls == certdata.CKO_CERTIFICATE}
        for cls, raw, entry_id, state in blocks:
            if cls not in (certdata.CKO_CERTIFICATE, certdata.CKO_NSS_TRUST):
                out.append(raw)
                continue
            entry = entries.get(entry_id) if entry_id is not None else None
            if entry is None:
                continue  # removed from the root store
            covered.add(entry.pk)
            if entry.state() == state:
                out.append(raw)
            elif cls == certdata.CKO_CERTIFICATE:
                out.append(_render_cert_block(entry, parsed_of(entry)))
            else:
                out.append(_render_trust_block(entry, parsed_of(entry), dates_here=entry.pk not in with_cert_block))
    for pk, entry in entries.items():
        if pk in covered:
            continue
        parsed = parsed_of(entry)
        if parsed is not None:
            out.append(_render_cert_block(entry, parsed) + _render_trust_block(entry, parsed, dates_here=False))
        else:
            out.append(_render_trust_block(entry, None, dates_here=True))
    out.append(record.trailer if record else "")
    return "".join(out)
