"""OneCRL records (Firefox remote settings, collection ``security-state/onecrl``).

Pure domain code: no Django.

A record blocks a certificate either by issuer and serial number
(``issuerName``: base64 of the DER issuer Name exactly as it appears in the
certificate; ``serialNumber``: base64 of the serial INTEGER's content octets,
leading 0x00 kept) or by subject and key (``subject``: base64 DER Name;
``pubKeyHash``: base64 SHA-256 of the DER SubjectPublicKeyInfo).

Key order and value types follow the real collection dump:
``schema, details{bug, who, why, name, created}, enabled, issuerName|subject,
serialNumber|pubKeyHash, id, last_modified``. ``schema`` and ``last_modified``
are assigned by the remote-settings server; a record Rootwatch has not
published yet leaves them out.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

__all__ = [
    "BUGZILLA_BUG_URL",
    "bug_reference",
    "OneCRLDetails",
    "OneCRLError",
    "OneCRLRecord",
    "parse_collection",
    "parse_record",
    "parse_revocations_txt",
    "record_for",
    "record_for_subject_key",
    "record_id",
    "serialize_collection",
]

BUGZILLA_BUG_URL = "https://bugzilla.mozilla.org/show_bug.cgi?id={}"
DETAIL_KEYS = ("bug", "who", "why", "name", "created")
# Stable ids: the same blocked certificate always gets the same record id, so
# regenerating a record never creates a duplicate in the collection.
_ID_NAMESPACE = uuid.UUID("4f6e6543-524c-5a52-6f6f-747761746368")


class OneCRLError(ValueError):
    """Bad OneCRL input: the message names the source and the record or line."""


@dataclass(frozen=True)
class OneCRLDetails:
    bug: str = ""
    who: str = ""
    why: str = ""
    name: str = ""
    created: str = ""

    def as_dict(self) -> dict[str, str]:
        return {k: getattr(self, k) for k in DETAIL_KEYS}


@dataclass(frozen=True)
class OneCRLRecord:
    id: str | None
    enabled: bool
    details: OneCRLDetails
    issuer_der: bytes | None = None
    serial_content: bytes | None = None
    subject_der: bytes | None = None
    pubkey_hash: bytes | None = None
    schema: int | None = None
    last_modified: int | None = None
    source: str = ""

    @property
    def by_issuer_serial(self) -> bool:
        return self.issuer_der is not None

    def key(self) -> tuple[bytes, bytes]:
        """(issuer DER, serial content) or (subject DER, SHA-256 of the SPKI)."""
        if self.issuer_der is not None and self.serial_content is not None:
            return (self.issuer_der, self.serial_content)
        assert self.subject_der is not None and self.pubkey_hash is not None
        return (self.subject_der, self.pubkey_hash)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.schema is not None:
            out["schema"] = self.schema
        out["details"] = self.details.as_dict()
        out["enabled"] = self.enabled
        if self.issuer_der is not None and self.serial_content is not None:
            out["issuerName"] = _b64(self.issuer_der)
            out["serialNumber"] = _b64(self.serial_content)
        else:
            assert self.subject_der is not None and self.pubkey_hash is not None
            out["subject"] = _b64(self.subject_der)
            out["pubKeyHash"] = _b64(self.pubkey_hash)
        if self.id is not None:
            out["id"] = self.id
        if self.last_modified is not None:
            out["last_modified"] = self.last_modified
        return out


# --- DER and base64 helpers ---------------------------------------------------------

def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(value: object, *, what: str, where: str) -> bytes:
    if not isinstance(value, str) or not value:
        raise OneCRLError(f"{where}: {what} must be a non-empty base64 string, got {value!r}")
    try:
        data = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise OneCRLError(f"{where}: {what} {value!r} is not valid base64 ({exc})") from None
    # A non-canonical spelling would not survive a round trip through Rootwatch.
    if _b64(data) != value:
        raise OneCRLError(f"{where}: {what} {value!r} is not valid base64 (not canonical)")
    return data


def _der_length(data: bytes, offset: int) -> tuple[int, int]:
    """(content length, offset of the content) for the TLV whose length octets start at offset."""
    if offset >= len(data):
        raise ValueError("truncated length")
    first = data[offset]
    if first < 0x80:
        return first, offset + 1
    count = first & 0x7F
    if count == 0 or count > 4 or offset + 1 + count > len(data):
        raise ValueError("unsupported or truncated long-form length")
    return int.from_bytes(data[offset + 1:offset + 1 + count], "big"), offset + 1 + count


def _check_name(data: bytes, *, what: str, where: str) -> None:
    """A DER Name is one complete SEQUENCE and nothing else."""
    try:
        if not data or data[0] != 0x30:
            raise ValueError("does not start with a SEQUENCE tag (0x30)")
        length, start = _der_length(data, 1)
        if start + length != len(data):
            raise ValueError(f"SEQUENCE length {length} does not match the {len(data) - start} content bytes")
    except ValueError as exc:
        raise OneCRLError(f"{where}: {what} is not a DER Name: {exc}") from None


def record_id(key: tuple[bytes, bytes]) -> str:
    """The stable record id Rootwatch gives a blocked (issuer, serial) or (subject, key hash)."""
    return str(uuid.uuid5(_ID_NAMESPACE, _b64(key[0]) + "/" + _b64(key[1])))


def _created(value: date | datetime | str) -> str:
    # Real records hold "2019-08-17T19:57:48Z" (UTC, sometimes with fractions) or "".
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise OneCRLError(f"created: {value!r} is a naive datetime; give a timezone-aware one")
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, date):
        return f"{value.isoformat()}T00:00:00Z"
    if isinstance(value, str):
        return value
    raise OneCRLError(f"created: {value!r} is not a date, datetime or string")


def bug_reference(value: str | int) -> str:
    """The ``bug`` of a record: real records carry the full Bugzilla URL; a bare number is expanded to it."""
    text = str(value).strip()
    return BUGZILLA_BUG_URL.format(text) if text.isdigit() else text


_bug = bug_reference


def _details(*, bug: str | int, who: str, why: str, name: str, created: date | datetime | str) -> OneCRLDetails:
    for label, v in (("who", who), ("why", why), ("name", name)):
        if not isinstance(v, str):
            raise OneCRLError(f"{label}: {v!r} is not a string")
    return OneCRLDetails(bug=_bug(bug), who=who, why=why, name=name, created=_created(created))


# --- building records ----------------------------------------------------------------

def record_for(
    *,
    issuer_der: bytes,
    serial_content: bytes,
    bug: str | int,
    who: str,
    why: str,
    name: str,
    created: date | datetime | str,
    enabled: bool = True,
    id: str | None = None,
    last_modified: int | None = None,
    schema: int | None = None,
) -> dict[str, Any]:
    """A OneCRL record blocking the certificate with this issuer Name and serial number.

    ``issuer_der`` must be the issuer Name bytes exactly as in the certificate (not a
    re-encoding); ``serial_content`` the INTEGER's content octets, leading 0x00 kept.
    """
    where = "record_for"
    _check_name(issuer_der, what="issuer_der", where=where)
    if not serial_content:
        raise OneCRLError(f"{where}: serial_content is empty")
    record = OneCRLRecord(
        id=id or record_id((issuer_der, serial_content)), enabled=_bool(enabled, where=where),
        details=_details(bug=bug, who=who, why=why, name=name, created=created),
        issuer_der=bytes(issuer_der), serial_content=bytes(serial_content),
        schema=schema, last_modified=last_modified,
    )
    return record.to_json()


def record_for_subject_key(
    *,
    subject_der: bytes,
    spki_der: bytes,
    bug: str | int,
    who: str,
    why: str,
    name: str,
    created: date | datetime | str,
    enabled: bool = True,
    id: str | None = None,
    last_modified: int | None = None,
    schema: int | None = None,
) -> dict[str, Any]:
    """A OneCRL record blocking every certificate with this subject Name and public key."""
    where = "record_for_subject_key"
    _check_name(subject_der, what="subject_der", where=where)
    _check_name(spki_der, what="spki_der", where=where)  # SubjectPublicKeyInfo is a SEQUENCE too
    pubkey_hash = hashlib.sha256(spki_der).digest()
    record = OneCRLRecord(
        id=id or record_id((subject_der, pubkey_hash)), enabled=_bool(enabled, where=where),
        details=_details(bug=bug, who=who, why=why, name=name, created=created),
        subject_der=bytes(subject_der), pubkey_hash=pubkey_hash,
        schema=schema, last_modified=last_modified,
    )
    return record.to_json()


def _bool(value: object, *, where: str) -> bool:
    if not isinstance(value, bool):
        raise OneCRLError(f"{where}: enabled must be true or false, got {value!r}")
    return value


# --- parsing -------------------------------------------------------------------------

def _optional_int(obj: Mapping[str, Any], key: str, *, where: str) -> int | None:
    value = obj.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise OneCRLError(f"{where}: {key} must be an integer, got {value!r}")
    return value


def parse_record(obj: object, *, source: str, index: int | None = None) -> OneCRLRecord:
    """One record as found in a collection dump (or a single kinto.json file).

    The per-certificate kinto.json files of OneCRL-Viewer spell the timestamp
    ``lastModified``; both spellings are read.
    """
    position = f"record #{index}" if index is not None else "record"
    if not isinstance(obj, Mapping):
        raise OneCRLError(f"{source}: {position} is not a JSON object")
    rid = obj.get("id")
    where = f"{source}: record {rid!r}" if rid is not None else f"{source}: {position}"
    if not isinstance(rid, str) or not rid:
        raise OneCRLError(f"{where}: missing or empty 'id'")
    if "enabled" not in obj:
        raise OneCRLError(f"{where}: missing 'enabled'")
    details = obj.get("details")
    if not isinstance(details, Mapping):
        raise OneCRLError(f"{where}: missing 'details' object")
    missing = [k for k in DETAIL_KEYS if not isinstance(details.get(k), str)]
    if missing:
        raise OneCRLError(f"{where}: details lacks string field(s) {', '.join(missing)}")
    last_modified = _optional_int(obj, "last_modified", where=where)
    if last_modified is None:
        last_modified = _optional_int(obj, "lastModified", where=where)
    common = dict(
        id=rid, enabled=_bool(obj["enabled"], where=where),
        details=OneCRLDetails(**{k: details[k] for k in DETAIL_KEYS}),
        schema=_optional_int(obj, "schema", where=where), last_modified=last_modified, source=source,
    )
    if "issuerName" in obj or "serialNumber" in obj:
        for k in ("issuerName", "serialNumber"):
            if k not in obj:
                raise OneCRLError(f"{where}: has issuerName/serialNumber but lacks {k!r}")
        issuer = _unb64(obj["issuerName"], what="issuerName", where=where)
        _check_name(issuer, what="issuerName", where=where)
        serial = _unb64(obj["serialNumber"], what="serialNumber", where=where)
        return OneCRLRecord(issuer_der=issuer, serial_content=serial, **common)
    if "subject" in obj or "pubKeyHash" in obj:
        for k in ("subject", "pubKeyHash"):
            if k not in obj:
                raise OneCRLError(f"{where}: has subject/pubKeyHash but lacks {k!r}")
        subject = _unb64(obj["subject"], what="subject", where=where)
        _check_name(subject, what="subject", where=where)
        key_hash = _unb64(obj["pubKeyHash"], what="pubKeyHash", where=where)
        if len(key_hash) != 32:
            raise OneCRLError(f"{where}: pubKeyHash is {len(key_hash)} bytes, not a SHA-256 (32)")
        return OneCRLRecord(subject_der=subject, pubkey_hash=key_hash, **common)
    raise OneCRLError(f"{where}: has neither issuerName/serialNumber nor subject/pubKeyHash")


def parse_collection(text: str, *, source: str) -> list[OneCRLRecord]:
    """Records of a remote-settings dump: ``{"data": [record, ...]}`` (a bare list is accepted too)."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise OneCRLError(f"{source}: not JSON ({exc})") from None
    items = doc.get("data") if isinstance(doc, Mapping) else doc
    if not isinstance(items, list):
        raise OneCRLError(f"{source}: expected an object with a 'data' list of records")
    records = [parse_record(item, source=source, index=i) for i, item in enumerate(items)]
    _check_unique_ids(records, source=source)
    return records


def _check_unique_ids(records: Iterable[OneCRLRecord], *, source: str) -> None:
    seen: set[str] = set()
    for r in records:
        if r.id is not None:
            if r.id in seen:
                raise OneCRLError(f"{source}: record id {r.id!r} appears more than once")
            seen.add(r.id)


def parse_revocations_txt(text: str, *, source: str) -> list[OneCRLRecord]:
    """Firefox's older revocations.txt.

    A line at the left margin names an issuer (or a subject); the lines under it
    indented by a space are base64 serial numbers, lines indented by a tab are
    base64 SHA-256 public key hashes (then the top line was a subject). ``#``
    starts a comment line. Entries have no id or details.
    """
    records: list[OneCRLRecord] = []
    top: bytes | None = None
    top_line = 0
    top_kind: str | None = None
    for n, raw in enumerate(text.splitlines(), start=1):
        line = raw.rstrip("\r")
        if not line.strip() or line.startswith("#"):
            continue
        where = f"{source}: line {n}"
        if line[0] not in " \t":
            top = _unb64(line.strip(), what="issuer/subject", where=where)
            _check_name(top, what="issuer/subject", where=where)
            top_line, top_kind = n, None
            continue
        if top is None:
            raise OneCRLError(f"{where}: indented entry before any issuer or subject line")
        kind = "serial" if line[0] == " " else "hash"
        if top_kind not in (None, kind):
            raise OneCRLError(f"{where}: mixes serial and key-hash entries under the name on line {top_line}")
        top_kind = kind
        value = _unb64(line.strip(), what="serial" if kind == "serial" else "pubKeyHash", where=where)
        details = OneCRLDetails()
        if kind == "serial":
            records.append(OneCRLRecord(id=None, enabled=True, details=details, issuer_der=top,
                                        serial_content=value, source=source))
        else:
            if len(value) != 32:
                raise OneCRLError(f"{where}: pubKeyHash is {len(value)} bytes, not a SHA-256 (32)")
            records.append(OneCRLRecord(id=None, enabled=True, details=details, subject_der=top,
                                        pubkey_hash=value, source=source))
    return records


# --- serializing ---------------------------------------------------------------------

def _order(record: OneCRLRecord) -> tuple[int, int, str]:
    # Newest first, as the remote-settings server lists them; unpublished records
    # (no last_modified yet) are the newest of all.
    published = record.last_modified is not None
    return (1 if published else 0, -(record.last_modified or 0), record.id or "")


def serialize_collection(records: Iterable[OneCRLRecord | Mapping[str, Any]]) -> str:
    """The whole collection as remote-settings JSON ``{"data": [...]}``, deterministically ordered.

    Dict records (as made by record_for) are validated like parsed ones. Every
    record needs an id; two records with the same id raise OneCRLError.
    """
    parsed: list[OneCRLRecord] = []
    for i, r in enumerate(records):
        parsed.append(r if isinstance(r, OneCRLRecord) else parse_record(r, source="serialize_collection", index=i))
    for i, r in enumerate(parsed):
        if r.id is None:
            raise OneCRLError(f"serialize_collection: record #{i} has no id (revocations.txt entries have none)")
    _check_unique_ids(parsed, source="serialize_collection")
    return json.dumps({"data": [r.to_json() for r in sorted(parsed, key=_order)]}, indent=2)
