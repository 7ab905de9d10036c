"""What an auditor is asked to confirm, as one canonical value and its SHA-256: pure, no Django.

A verification link stores the digest of the content it showed; a confirmation counts only while the
statement still has that digest, so nothing a CA representative changes after sending can ride on an
answer given about other content.

Canonical form: a JSON object with sorted keys, no insignificant whitespace, UTF-8, text normalised to
NFC (two spellings of one visible string must not make two digests), collections in a fixed order
(criteria by key, fingerprints sorted, findings in the order shown). The version number is part of the
hashed text, so a later change of the form can never collide with an old digest.
"""

from __future__ import annotations

import hashlib
import json
import unicodedata
from dataclasses import dataclass, field
from datetime import date

__all__ = ["DIGEST_VERSION", "ShownCriterion", "ShownFinding", "ShownStatement", "canonical_bytes", "file_digest",
           "statement_digest"]

DIGEST_VERSION = 1


@dataclass(frozen=True)
class ShownCriterion:
    key: str
    version: str = ""
    policies: str = ""


@dataclass(frozen=True)
class ShownFinding:
    severity: str
    text: str


@dataclass(frozen=True)
class ShownStatement:
    """Every fact the auditor's page shows about a statement, and nothing it does not."""

    ca_owner_id: int
    ca_owner: str
    auditor_id: int | None
    auditor: str
    kind: str
    period_start: date | None
    period_end: date | None
    statement_date: date | None
    urls: tuple[str, ...] = ()
    file_sha256: str = ""  # of the PDF's bytes; "" when there is no file
    criteria: tuple[ShownCriterion, ...] = ()
    fingerprints: tuple[str, ...] = ()
    findings: tuple[ShownFinding, ...] = field(default=())


def file_digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _text(value: str) -> str:
    return unicodedata.normalize("NFC", value or "")


def _day(value: date | None) -> str:
    return value.isoformat() if value is not None else ""


def canonical_bytes(shown: ShownStatement) -> bytes:
    data = {
        "v": DIGEST_VERSION,
        "ca_owner": [shown.ca_owner_id, _text(shown.ca_owner)],
        "auditor": [shown.auditor_id, _text(shown.auditor)],
        "kind": shown.kind,
        "period": [_day(shown.period_start), _day(shown.period_end)],
        "statement_date": _day(shown.statement_date),
        "urls": [_text(u) for u in shown.urls],
        "file_sha256": shown.file_sha256.lower(),
        "criteria": sorted([_text(c.key), _text(c.version), _text(c.policies)] for c in shown.criteria),
        "fingerprints": sorted(f.upper() for f in shown.fingerprints),
        "findings": [[f.severity, _text(f.text)] for f in shown.findings],
    }
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def statement_digest(shown: ShownStatement) -> str:
    """SHA-256 (hex) of the canonical form: equal exactly when the auditor would see the same thing."""
    return hashlib.sha256(canonical_bytes(shown)).hexdigest()
