"""What a certdata.txt change does to trust, read from the two files (before and after), not from a plan.

Pure domain code: no Django. Keys are (issuer DER Name, serial DER INTEGER) as NSS stores them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pki.certdata import CKO_CERTIFICATE, CKO_NSS_TRUST, CKT_NSS_NOT_TRUSTED, CertdataFile

__all__ = ["KeyState", "certdata_states", "certdata_changes"]

Key = tuple[bytes, bytes]


@dataclass(frozen=True)
class KeyState:
    """The trust a file gives one issuer + serial: trust values per purpose, distrust-after dates."""

    server: str | None = None
    email: str | None = None
    server_distrust_after: datetime | None = None
    email_distrust_after: datetime | None = None
    has_certificate: bool = False

    def distrusted_for(self) -> frozenset[str]:
        out = set()
        if self.server == CKT_NSS_NOT_TRUSTED:
            out.add("server")
        if self.email == CKT_NSS_NOT_TRUSTED:
            out.add("email")
        return frozenset(out)


def certdata_states(file: CertdataFile) -> dict[Key, KeyState]:
    """Every issuer + serial the file names, with its trust and distrust-after dates (from whichever of its
    certificate and trust objects carries them)."""
    found: dict[Key, dict] = {}
    for obj in file.objects:
        if obj.cls not in (CKO_CERTIFICATE, CKO_NSS_TRUST):
            continue
        key = obj.issuer_serial
        if key is None:
            continue
        state = found.setdefault(key, {})
        if obj.cls == CKO_CERTIFICATE:
            state["has_certificate"] = True
        else:
            state["server"], state["email"] = obj.trust_server_auth, obj.trust_email_protection
        for name, value in (("server_distrust_after", obj.server_distrust_after),
                            ("email_distrust_after", obj.email_distrust_after)):
            if value is not None:
                state[name] = value
    return {k: KeyState(**v) for k, v in found.items()}


def certdata_changes(old: CertdataFile, new: CertdataFile) -> dict[Key, tuple[KeyState | None, KeyState | None]]:
    """{key: (state before, state after)} for every issuer + serial whose trust the change touches."""
    before, after = certdata_states(old), certdata_states(new)
    out: dict[Key, tuple[KeyState | None, KeyState | None]] = {}
    for key in before.keys() | after.keys():
        a, b = before.get(key), after.get(key)
        if a != b:
            out[key] = (a, b)
    return out
