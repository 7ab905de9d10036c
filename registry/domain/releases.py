"""What changed in the root store between two of its states (two certdata.txt files, or the entries).

Pure domain code: no Django. A state is a mapping from an entry's key (SHA-256 of the issuer
Name's DER, uppercase hex; serial number content, uppercase hex) to an EntryState; `changes`
lists what a release shipped in NSS's terms: roots added or removed, trust added or removed per
purpose, distrust-after dates set or cleared, explicit distrust entries added or removed.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from pki import certdata

__all__ = [
    "PURPOSES",
    "ChangeKind",
    "EntryState",
    "Change",
    "states_of_file",
    "changes",
]

DELEGATOR = certdata.CKT_NSS_TRUSTED_DELEGATOR
NOT_TRUSTED = certdata.CKT_NSS_NOT_TRUSTED
MUST_VERIFY = certdata.CKT_NSS_MUST_VERIFY_TRUST

# How the pages word each trust value (the same words as templates/registry/_trust.html).
TRUST_WORDS = {
    DELEGATOR: "trusted",
    NOT_TRUSTED: "distrusted",
    MUST_VERIFY: "not a trust anchor",
    certdata.CKT_NSS_TRUST_UNKNOWN: "unknown",
    "CKT_NSS_TRUSTED": "trusted (not as issuer)",
}


def trust_words(value: str) -> str:
    return TRUST_WORDS.get(value, value)


# (key, label) of the purposes a release reports on; code signing is no longer used by NSS.
PURPOSES = (("server", "Websites"), ("email", "E-mail"))


class ChangeKind:
    ROOT_ADDED = "root_added"
    ROOT_REMOVED = "root_removed"
    TRUST_ADDED = "trust_added"
    TRUST_REMOVED = "trust_removed"
    DISTRUST_AFTER_SET = "distrust_after_set"
    DISTRUST_AFTER_CLEARED = "distrust_after_cleared"
    DISTRUST_ADDED = "distrust_added"
    DISTRUST_REMOVED = "distrust_removed"
    ONECRL_PUBLISHED = "onecrl_published"


@dataclass(frozen=True)
class EntryState:
    label: str
    server: str
    email: str
    server_distrust_after: datetime | None = None
    email_distrust_after: datetime | None = None

    def trust(self, purpose: str) -> str:
        return self.server if purpose == "server" else self.email

    def distrust_after(self, purpose: str) -> datetime | None:
        return self.server_distrust_after if purpose == "server" else self.email_distrust_after

    @property
    def is_root(self) -> bool:
        """A trust anchor for some purpose (or one limited by a distrust-after date)."""
        return DELEGATOR in (self.server, self.email) or bool(self.server_distrust_after or self.email_distrust_after)


@dataclass(frozen=True)
class Change:
    key: tuple[str, str]
    kind: str
    label: str
    purpose: str = ""  # "server", "email" or "" (the whole entry)
    before: str = ""
    after: str = ""


def _serial_hex(serial_der: bytes) -> str:
    length, offset = serial_der[1], 2
    if length & 0x80:
        offset = 2 + (length & 0x7F)
    return serial_der[offset:].hex().upper()


def states_of_file(file: certdata.CertdataFile) -> dict[tuple[str, str], EntryState]:
    """Each trust object's state (distrust-after dates from the certificate object when the trust object has none),
    plus certificate objects without a trust object (NSS reads them as "must verify")."""
    certs = {obj.issuer_serial: obj for obj in file.certificates}
    out: dict[tuple[str, str], EntryState] = {}
    seen: set[tuple[bytes, bytes]] = set()

    def key_of(issuer_serial: tuple[bytes, bytes]) -> tuple[str, str]:
        issuer, serial = issuer_serial
        return hashlib.sha256(issuer).hexdigest().upper(), _serial_hex(serial)

    for trust in file.trust_objects:
        cert = certs.get(trust.issuer_serial)
        seen.add(trust.issuer_serial)
        out[key_of(trust.issuer_serial)] = EntryState(
            label=trust.label or "",
            server=trust.trust_server_auth or MUST_VERIFY,
            email=trust.trust_email_protection or MUST_VERIFY,
            server_distrust_after=trust.server_distrust_after or (cert.server_distrust_after if cert else None),
            email_distrust_after=trust.email_distrust_after or (cert.email_distrust_after if cert else None),
        )
    for issuer_serial, cert in certs.items():
        if issuer_serial not in seen:
            out[key_of(issuer_serial)] = EntryState(
                label=cert.label or "", server=MUST_VERIFY, email=MUST_VERIFY,
                server_distrust_after=cert.server_distrust_after, email_distrust_after=cert.email_distrust_after,
            )
    return out


def _when(dt: datetime | None) -> str:
    return dt.strftime("%Y-%m-%d %H:%M:%S UTC") if dt else ""


def changes(old: dict[tuple[str, str], EntryState], new: dict[tuple[str, str], EntryState]) -> list[Change]:
    """What turns state `old` into state `new`, ordered by label then key."""
    out: list[Change] = []
    for key in sorted(set(old) | set(new), key=lambda k: ((new.get(k) or old.get(k)).label.lower(), k)):
        before, after = old.get(key), new.get(key)
        if before is None:
            kind = ChangeKind.ROOT_ADDED if after.is_root else ChangeKind.DISTRUST_ADDED
            out.append(Change(key, kind, after.label, after=_summary(after)))
            continue
        if after is None:
            kind = ChangeKind.ROOT_REMOVED if before.is_root else ChangeKind.DISTRUST_REMOVED
            out.append(Change(key, kind, before.label, before=_summary(before)))
            continue
        for purpose, _label in PURPOSES:
            was, now = before.trust(purpose), after.trust(purpose)
            if was != now and DELEGATOR in (was, now):
                kind = ChangeKind.TRUST_ADDED if now == DELEGATOR else ChangeKind.TRUST_REMOVED
                out.append(Change(key, kind, after.label, purpose, trust_words(was), trust_words(now)))
            elif was != now:  # e.g. must verify -> not trusted: an explicit distrust of a non-anchor
                kind = ChangeKind.DISTRUST_ADDED if now == NOT_TRUSTED else ChangeKind.DISTRUST_REMOVED
                out.append(Change(key, kind, after.label, purpose, trust_words(was), trust_words(now)))
            was_d, now_d = before.distrust_after(purpose), after.distrust_after(purpose)
            if was_d != now_d:
                kind = ChangeKind.DISTRUST_AFTER_SET if now_d else ChangeKind.DISTRUST_AFTER_CLEARED
                out.append(Change(key, kind, after.label, purpose, _when(was_d), _when(now_d)))
    return out


def _summary(state: EntryState) -> str:
    """The trust of a whole entry in one line, in the pages' words."""
    parts = []
    for purpose, label in PURPOSES:
        text = f"{label}: {trust_words(state.trust(purpose))}"
        if state.distrust_after(purpose):
            text += f", distrusted after {_when(state.distrust_after(purpose))}"
        parts.append(text)
    return "; ".join(parts)
