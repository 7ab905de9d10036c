"""Reads of the distrust feature: lists, the registry's trust graph, lookups."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.db.models import QuerySet

from accounts import permissions
from distrust.models import DistrustAction, OneCRLEntry


def actions_for(user: Any) -> QuerySet[DistrustAction]:
    """Every action the user may see, ready for the list (fixed number of queries)."""
    return DistrustAction.objects.filter(permissions.distrust_visibility_q(user)).for_list()


def actions_for_incident(*, incident: Any, user: Any) -> QuerySet[DistrustAction]:
    """The distrust actions started from `incident` that `user` may see (compliance.related asks this)."""
    return actions_for(user).filter(incidents=incident)


def action_for(user: Any, pk: int) -> DistrustAction | None:
    """The action numbered `pk` if `user` may see it (None otherwise: pages answer 404)."""
    action = DistrustAction.objects.filter(pk=pk).first()
    if action is None or not permissions.can_view_distrust(user, action):
        return None
    return action


# --- registry lookups (the registry feature's selectors) -------------------------------------


def certificate_by_fingerprint(sha256: str):
    """The registry certificate with this SHA-256 (any case, colons allowed), or None."""
    from registry import selectors as registry

    return registry.certificate_by_fingerprint(sha256)


def certificate_by_issuer_serial(issuer_der: bytes, serial_hex: str):
    """The registry certificate with this issuer Name (exact DER) and serial content hex, or None."""
    from registry.models import Certificate, der_key

    return Certificate.objects.filter(issuer_key=der_key(issuer_der), serial_hex=serial_hex.upper()).first()


def onecrl_block_key(issuer_der: bytes, serial_content: bytes) -> str:
    import base64

    return base64.b64encode(issuer_der).decode() + "/" + base64.b64encode(serial_content).decode()


def onecrl_blocked(keys: list[str]) -> dict[str, OneCRLEntry]:
    """block key -> the OneCRL entry that already blocks it (one query)."""
    out: dict[str, OneCRLEntry] = {}
    for entry in OneCRLEntry.objects.filter(block_key__in=keys, enabled=True).order_by("pk"):
        out.setdefault(entry.block_key, entry)
    return out


def serial_der_from_content(content: bytes) -> bytes:
    """DER INTEGER TLV around content octets (NSS's CKA_SERIAL_NUMBER)."""
    n = len(content)
    if n < 0x80:
        length = bytes([n])
    else:
        raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
        length = bytes([0x80 | len(raw)]) + raw
    return b"\x02" + length + content


# --- the trust graph and certdata.txt (the registry feature's) --------------------------------


def trust_graph():
    """registry.selectors.TrustGraph: certs, parents, anchors, groups, distrusted."""
    from registry import selectors as registry

    return registry.trust_graph()


def descendants(graph: Any, starts: set[str]) -> set[str]:
    """Every certificate whose issuer links lead up through one of ``starts`` (starts excluded)."""
    children: dict[str, list[str]] = defaultdict(list)
    for child, ps in graph.parents.items():
        for p in ps:
            children[p].append(child)
    seen: set[str] = set()
    stack = list(starts)
    while stack:
        node = stack.pop()
        for child in children.get(node, ()):
            if child not in seen and child not in starts:
                seen.add(child)
                stack.append(child)
    return seen


def current_certdata_text() -> str:
    """The registry's certdata.txt as it stands (the base of the diff attached to the NSS bug)."""
    from registry import selectors as registry

    return registry.export_certdata_text()


def incident_prefill(incident: Any) -> dict[str, Any]:
    """Initial values of a new action started from an incident: its classification's immediate minimum response."""
    from compliance.domain.responses import RESPONSES, Problem

    data: dict[str, Any] = {
        "title": f"Distrust: {incident.title}",
        # A security-sensitive incident's title is embargoed: the wording published after Release starts
        # from what the distrust itself will make public anyway (whose certificates), never from the title.
        "public_title": (f"Distrust of certificates of {incident.ca_owner}" if incident.ca_owner_id
                         else "Distrust of certificates") if incident.security_sensitive else "",
        "incident_numbers": [incident.number],
        "reported_on": incident.created_at.date() if incident.created_at else None,
        "reported_by": str(incident.reporter) if incident.reporter_id else "",
        "is_embargoed": incident.security_sensitive,
        "is_security_incident": incident.security_sensitive,
        "problem": None,
    }
    assessment = getattr(incident, "assessment", None) if _has_assessment(incident) else None
    problem = getattr(assessment, "problem", "") if assessment is not None else ""
    if problem:
        try:
            response = RESPONSES[Problem(problem)]
        except ValueError:
            response = None
        if response is not None:
            data["problem"] = response.problem_text
            data["decision"] = response.immediate_minimum
            data["purpose_email"] = "push_update_thunderbird" in response.actions
            data["purpose_server"] = "push_update_thunderbird" not in response.actions
            if "onecrl_intermediate" in response.actions:
                data["kind"] = DistrustAction.Kind.ONECRL
    return data


def _has_assessment(incident: Any) -> bool:
    from django.core.exceptions import ObjectDoesNotExist

    try:
        return getattr(incident, "assessment", None) is not None
    except ObjectDoesNotExist:
        return False


def onecrl_collection_json() -> str:
    """The whole managed OneCRL collection, as remote-settings JSON (pki.onecrl's serialization)."""
    from pki.onecrl import OneCRLDetails, OneCRLRecord, serialize_collection

    def blob(value):
        return bytes(value) if value is not None else None

    records = [
        OneCRLRecord(
            id=e.record_id, enabled=e.enabled,
            details=OneCRLDetails(bug=e.bug, who=e.who, why=e.why, name=e.name, created=e.created),
            issuer_der=blob(e.issuer_der), serial_content=blob(e.serial_content),
            subject_der=blob(e.subject_der), pubkey_hash=blob(e.pubkey_hash),
            schema=e.schema, last_modified=e.last_modified,
        )
        for e in OneCRLEntry.objects.order_by("pk")
    ]
    return serialize_collection(records)


# --- bulk targets: registry lookups in batches (distrust.actions.bulk) ------------------------

_BATCH = 500  # keys per IN (...): under SQLite's variable limit


def certificates_by_sha256(shas: list[str]) -> dict[str, Any]:
    """sha256 -> registry certificate, for the given uppercase fingerprints (one query per 500)."""
    from registry.models import Certificate

    out: dict[str, Any] = {}
    unique = sorted(set(shas))
    for i in range(0, len(unique), _BATCH):
        out.update({c.sha256: c for c in Certificate.objects.filter(sha256__in=unique[i:i + _BATCH])})
    return out


def certificates_by_issuer_serial(pairs: list[tuple[bytes, str]]) -> dict[tuple[bytes, str], Any]:
    """(issuer DER, serial content hex) -> registry certificate (one query per 500 issuers)."""
    from registry.models import Certificate, der_key

    by_key: dict[str, bytes] = {der_key(issuer): issuer for issuer, _ in pairs}
    wanted = set(pairs)
    out: dict[tuple[bytes, str], Any] = {}
    keys = sorted(by_key)
    for i in range(0, len(keys), _BATCH):
        for c in Certificate.objects.filter(issuer_key__in=keys[i:i + _BATCH]):
            pair = (bytes(c.issuer_der), c.serial_hex)
            if pair in wanted:
                out.setdefault(pair, c)
    return out


def name_text_hash(key: tuple) -> str:
    """Certificate.subject_name_key of a pki.names.name_key (registry.actions._common.name_match_key)."""
    import hashlib

    return hashlib.sha256(repr(key).encode("utf-8")).hexdigest().upper()


def ca_certificates_by_name_hash(hashes: list[str]) -> dict[str, list[Any]]:
    """subject_name_key -> the registry roots and intermediates with that subject (one query per 500)."""
    from registry.models import Certificate

    out: dict[str, list[Any]] = defaultdict(list)
    unique = sorted(set(hashes))
    for i in range(0, len(unique), _BATCH):
        qs = Certificate.objects.filter(subject_name_key__in=unique[i:i + _BATCH],
                                        kind__in=[Certificate.Kind.ROOT, Certificate.Kind.INTERMEDIATE])
        for c in qs.only("pk", "sha256", "subject_der", "subject_name_key", "label", "kind").order_by("pk"):
            out[c.subject_name_key].append(c)
    return out


def owner_ca_certificates(owner_id: int) -> list[Any]:
    """Every root and intermediate the registry attaches to the CA owner, roots first."""
    from registry.models import Certificate

    return list(Certificate.objects.filter(owner_id=owner_id, kind__in=[Certificate.Kind.ROOT,
                                                                         Certificate.Kind.INTERMEDIATE])
                .order_by("kind", "label", "sha256"))


def owner_by_pk(pk: Any):
    from registry.models import CAOwner

    return CAOwner.objects.filter(pk=pk).first() if str(pk).isdigit() else None


def incident_affected_rows(number: int) -> tuple[Any, list[Any]]:
    """(incident or None, its affected-certificate rows with their registry certificates)."""
    from compliance.models import Incident

    incident = Incident.objects.filter(number=number).first() if 0 < number < 2**31 else None
    if incident is None:
        return None, []
    return incident, list(incident.affected_certificates.select_related("certificate").order_by("pk"))
