"""Pure certification path finding and trust evaluation.

Certificates are named by their SHA-256 (uppercase hex, as
:attr:`pki.x509.ParsedCertificate.sha256`).  The graph is given as
``parents``: child sha256 -> the sha256s of the certificates whose key
verifiably signed it (see :func:`compute_links`, and :func:`parents_map` to
turn its links into that mapping).

Nothing here touches the database; the distrust workflow's "test" step
feeds :func:`evaluate` with what it has loaded.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pki.x509 import ParsedCertificate, cross_sign_key, name_key, verify_signature

__all__ = [
    "compute_links",
    "parents_map",
    "cross_sign_groups",
    "find_paths",
    "AnchorTrust",
    "Reason",
    "PathResult",
    "PathReport",
    "evaluate",
    "PURPOSES",
]

PURPOSES = ("server", "email")


# ---------------------------------------------------------------------------
# Links
# ---------------------------------------------------------------------------

def compute_links(certs: Iterable[ParsedCertificate]) -> list[tuple[str, str]]:
    """Every verified (child sha256, parent sha256) pair, sorted.

    Candidate parents are the certificates whose subject equals the child's
    issuer (byte-identical or equal after :func:`pki.x509.name_key`
    normalisation); a candidate is kept only if the child's signature
    verifies with its key.  Each (child, distinct parent key) signature is
    checked once, so a cross-sign group of N certificates costs one check.

    Not linked: a certificate to itself, and a certificate to another member
    of its own cross-sign group (same subject and key: that is a
    self-signature in effect, and no path could use it anyway).
    Duplicates in the input (same sha256) are ignored.
    """
    unique: dict[str, ParsedCertificate] = {}
    for cert in certs:
        unique.setdefault(cert.sha256, cert)
    by_subject: dict[Any, list[ParsedCertificate]] = defaultdict(list)
    key_of: dict[bytes, Any] = {}
    group: dict[str, str] = {}
    for cert in unique.values():
        k = key_of.get(cert.subject_der)
        if k is None:
            k = key_of[cert.subject_der] = name_key(cert.subject_der)
        by_subject[k].append(cert)
        group[cert.sha256] = cross_sign_key(cert)
    links: list[tuple[str, str]] = []
    for child in unique.values():
        k = key_of.get(child.issuer_der)
        if k is None:
            k = key_of[child.issuer_der] = name_key(child.issuer_der)
        candidates = by_subject.get(k)
        if not candidates:
            continue
        verdict_by_key: dict[bytes, bool] = {}
        child_group = group[child.sha256]
        for parent in candidates:
            if parent.sha256 == child.sha256 or group[parent.sha256] == child_group:
                continue
            ok = verdict_by_key.get(parent.spki_der)
            if ok is None:
                ok = verdict_by_key[parent.spki_der] = verify_signature(child, parent)
            if ok:
                links.append((child.sha256, parent.sha256))
    links.sort()
    return links


def parents_map(links: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    """links -> {child: sorted parents}."""
    out: dict[str, list[str]] = defaultdict(list)
    for child, parent in links:
        out[child].append(parent)
    return {c: sorted(set(ps)) for c, ps in out.items()}


def cross_sign_groups(certs: Iterable[ParsedCertificate]) -> dict[str, str]:
    """{sha256: cross-sign group key} (see :func:`pki.x509.cross_sign_key`)."""
    return {c.sha256: cross_sign_key(c) for c in certs}


# ---------------------------------------------------------------------------
# Path finding
# ---------------------------------------------------------------------------

def find_paths(
    start: str,
    parents: Mapping[str, Sequence[str]],
    anchors: Collection[str],
    *,
    group_of: Mapping[str, str] | None = None,
    max_depth: int = 12,
) -> list[list[str]]:
    """Every path from ``start`` up to an anchor over the verified-link graph.

    A path is a list of sha256, ``start`` first, an anchor last; it ends at
    the first anchor reached (a path never runs through an anchor), so if
    ``start`` is itself an anchor the only path is ``[start]``.  No
    certificate appears twice in a path, nor two certificates of one
    cross-sign group when ``group_of`` (sha256 -> group key) is given: this
    is RFC 4158's loop detection on (subject, key) and keeps cross-signs
    from looping.  A path holds at most ``max_depth`` certificates.

    The result is deterministic: shortest paths first, then by the sha256s.
    """
    if max_depth < 1:
        return []
    anchor_set = anchors if isinstance(anchors, (set, frozenset, dict)) else set(anchors)
    if start in anchor_set:
        return [[start]]

    def group(node: str) -> str:
        if group_of is None:
            return node
        return group_of.get(node, node)

    # Prune with plain reachability (no loop constraints): a node from which
    # no anchor can be reached at all can never complete a path.  Computed
    # on the part of the graph above ``start`` only, so it stays cheap.
    above = {start}
    stack = [start]
    while stack:
        node = stack.pop()
        if node in anchor_set:
            continue  # paths stop at anchors
        for parent in parents.get(node, ()):
            if parent not in above:
                above.add(parent)
                stack.append(parent)
    children: dict[str, list[str]] = defaultdict(list)
    for node in above:
        if node in anchor_set:
            continue
        for parent in parents.get(node, ()):
            children[parent].append(node)
    good = {n for n in above if n in anchor_set}
    stack = list(good)
    while stack:
        node = stack.pop()
        for child in children.get(node, ()):
            if child not in good:
                good.add(child)
                stack.append(child)
    if start not in good:
        return []

    paths: list[list[str]] = []
    path = [start]
    seen = {start}
    groups = {group(start)}

    def walk(node: str) -> None:
        if len(path) >= max_depth:
            return
        for parent in sorted(parents.get(node, ())):
            if parent in seen:
                continue
            g = group(parent)
            if g in groups:
                continue
            if parent in anchor_set:
                paths.append(path + [parent])
                continue
            if parent not in good:
                continue
            path.append(parent)
            seen.add(parent)
            groups.add(g)
            walk(parent)
            path.pop()
            seen.discard(parent)
            groups.discard(g)

    walk(start)
    paths.sort(key=lambda p: (len(p), p))
    return paths


# ---------------------------------------------------------------------------
# Trust evaluation
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class AnchorTrust:
    """How a root store trusts one anchor.

    ``server``/``email``: trusted as a trust anchor for TLS server
    authentication / S/MIME.  ``*_distrust_after``: NSS's
    CKA_NSS_SERVER_DISTRUST_AFTER / CKA_NSS_EMAIL_DISTRUST_AFTER -- a chain
    to this anchor is trusted for that purpose only if the end-entity
    certificate's notBefore is on or before this time.
    """

    server: bool
    email: bool
    server_distrust_after: datetime | None = None
    email_distrust_after: datetime | None = None

    def trusted_for(self, purpose: str) -> bool:
        return self.server if purpose == "server" else self.email

    def distrust_after(self, purpose: str) -> datetime | None:
        return self.server_distrust_after if purpose == "server" else self.email_distrust_after


@dataclass(frozen=True)
class Reason:
    """Why one path is not trusted.

    ``code`` is one of ``"anchor_not_trusted"``, ``"distrusted_serial"``,
    ``"distrust_after"``; ``cert`` the sha256 it is about; ``message`` a
    sentence for people.
    """

    code: str
    cert: str
    message: str


@dataclass(frozen=True)
class PathResult:
    path: list[str]
    trusted: bool
    reasons: list[Reason] = field(default_factory=list)

    @property
    def anchor(self) -> str:
        return self.path[-1]


@dataclass(frozen=True)
class PathReport:
    """Every path from ``start`` with its verdict for ``purpose``.

    ``trusted`` is True if any path is trusted.  ``paths`` is empty (and
    ``trusted`` False) when no path reaches an anchor.
    """

    start: str
    purpose: str
    paths: list[PathResult]
    trusted: bool

    @property
    def reasons(self) -> list[Reason]:
        """All reasons of all untrusted paths (duplicates removed, in order)."""
        out: list[Reason] = []
        for p in self.paths:
            for r in p.reasons:
                if r not in out:
                    out.append(r)
        return out


def _short(sha: str) -> str:
    return sha[:16]


def evaluate(
    start: str,
    *,
    certs: Mapping[str, Any],
    parents: Mapping[str, Sequence[str]],
    anchors: Mapping[str, AnchorTrust],
    distrusted: Mapping[tuple[bytes, bytes], Collection[str]],
    purpose: str,
    group_of: Mapping[str, str] | None = None,
    max_depth: int = 12,
) -> PathReport:
    """Evaluate every path from ``start`` to an anchor for ``purpose``.

    ``certs`` maps sha256 to objects with ``not_before``, ``issuer_der`` and
    ``serial_der`` (ParsedCertificate or a model instance); when they also
    have ``subject_der`` and ``spki_der`` and ``group_of`` is not given,
    cross-sign groups are computed from them.  ``distrusted`` maps
    (issuer DER, serial DER INTEGER TLV -- NSS's CKA_ISSUER and
    CKA_SERIAL_NUMBER) to the purposes it is distrusted for.

    A path is untrusted for each of these, all reported:
    the anchor is not trusted for the purpose; a certificate on the path
    (the anchor included) is distrusted by issuer+serial for the purpose;
    the anchor has a distrust-after date for the purpose and the start
    certificate's notBefore is later.
    """
    if purpose not in PURPOSES:
        raise ValueError(f"purpose must be one of {PURPOSES}, not {purpose!r}")
    if group_of is None:
        group_of = {}
        for sha, c in certs.items():
            subject = getattr(c, "subject_der", None)
            spki = getattr(c, "spki_der", None)
            if subject is not None and spki is not None:
                group_of[sha] = cross_sign_key(c)
    if start not in certs:
        raise ValueError(f"start certificate {start} is not in certs")
    leaf = certs[start]
    results: list[PathResult] = []
    for path in find_paths(start, parents, anchors, group_of=group_of, max_depth=max_depth):
        reasons: list[Reason] = []
        anchor_sha = path[-1]
        trust = anchors[anchor_sha]
        if not trust.trusted_for(purpose):
            reasons.append(Reason(
                "anchor_not_trusted", anchor_sha,
                f"anchor {_short(anchor_sha)} is not trusted for {purpose}",
            ))
        for sha in path:
            c = certs.get(sha)
            if c is None:
                raise ValueError(f"certificate {sha} on a path is not in certs")
            purposes = distrusted.get((bytes(c.issuer_der), bytes(c.serial_der)))
            if purposes and purpose in purposes:
                reasons.append(Reason(
                    "distrusted_serial", sha,
                    f"certificate {_short(sha)} is distrusted for {purpose} by issuer and serial number",
                ))
        limit = trust.distrust_after(purpose)
        if limit is not None and leaf.not_before > limit:
            reasons.append(Reason(
                "distrust_after", anchor_sha,
                f"notBefore {leaf.not_before.isoformat()} of {_short(start)} is after "
                f"the {purpose} distrust-after date {limit.isoformat()} of anchor {_short(anchor_sha)}",
            ))
        results.append(PathResult(path=path, trusted=not reasons, reasons=reasons))
    return PathReport(start=start, purpose=purpose, paths=results,
                      trusted=any(r.trusted for r in results))
