"""Distinguished names written as text, compared with DER names.

An incident report's affected-certificate CSV keeps the issuer as text (``CN=R3, O=Let's Encrypt,
C=US``, ``C = US, O = Let's Encrypt, CN = R3`` as OpenSSL prints it, ``/C=US/O=.../CN=R3``), not as
DER. :func:`name_keys` reads such a text into the keys :func:`pki.names.name_key` gives a DER Name
(RFC 5280 section 7.1: NFKC, case folded, whitespace collapsed, multi-valued RDNs as sets), so a
text issuer finds the certificate whose subject it names, whatever string types encode it there.

The text gives no reliable order (RFC 4514 writes the most specific RDN first, OpenSSL the DER
order), so both orders are returned; a name whose reversal is another real name is the price.

Pure domain code: no Django.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["DnTextError", "parse_dn_text", "name_keys"]

# Keywords (case-insensitive) -> attribute type OID: RFC 4514, NSS's, OpenSSL's short and long names.
_KEYWORDS: dict[str, str] = {
    "cn": "2.5.4.3", "commonname": "2.5.4.3",
    "c": "2.5.4.6", "countryname": "2.5.4.6",
    "o": "2.5.4.10", "organizationname": "2.5.4.10",
    "ou": "2.5.4.11", "organizationalunitname": "2.5.4.11",
    "l": "2.5.4.7", "localityname": "2.5.4.7",
    "st": "2.5.4.8", "s": "2.5.4.8", "stateorprovincename": "2.5.4.8",
    "street": "2.5.4.9", "streetaddress": "2.5.4.9",
    "serialnumber": "2.5.4.5",
    "title": "2.5.4.12",
    "sn": "2.5.4.4", "surname": "2.5.4.4",
    "gn": "2.5.4.42", "givenname": "2.5.4.42",
    "initials": "2.5.4.43",
    "generationqualifier": "2.5.4.44",
    "dnqualifier": "2.5.4.46",
    "pseudonym": "2.5.4.65",
    "businesscategory": "2.5.4.15",
    "postalcode": "2.5.4.17",
    "postofficebox": "2.5.4.18",
    "postaladdress": "2.5.4.16",
    "houseidentifier": "2.5.4.51",
    "name": "2.5.4.41",
    "organizationidentifier": "2.5.4.97",
    "dc": "0.9.2342.19200300.100.1.25", "domaincomponent": "0.9.2342.19200300.100.1.25",
    "uid": "0.9.2342.19200300.100.1.1", "userid": "0.9.2342.19200300.100.1.1",
    "mail": "0.9.2342.19200300.100.1.3",
    "e": "1.2.840.113549.1.9.1", "email": "1.2.840.113549.1.9.1", "emailaddress": "1.2.840.113549.1.9.1",
    "incorporationlocality": "1.3.6.1.4.1.311.60.2.1.1", "jurisdictionl": "1.3.6.1.4.1.311.60.2.1.1",
    "jurisdictionlocalityname": "1.3.6.1.4.1.311.60.2.1.1",
    "incorporationstate": "1.3.6.1.4.1.311.60.2.1.2", "jurisdictionst": "1.3.6.1.4.1.311.60.2.1.2",
    "jurisdictionstateorprovincename": "1.3.6.1.4.1.311.60.2.1.2",
    "incorporationcountry": "1.3.6.1.4.1.311.60.2.1.3", "jurisdictionc": "1.3.6.1.4.1.311.60.2.1.3",
    "jurisdictioncountryname": "1.3.6.1.4.1.311.60.2.1.3",
}
_OID_RE = re.compile(r"^(?:oid\.)?([0-2](?:\.\d+)+)$", re.IGNORECASE)
_KEY_AHEAD = re.compile(r"\s*(?:oid\.)?[A-Za-z0-9][A-Za-z0-9.-]*\s*=")


class DnTextError(ValueError):
    """The text is not a distinguished name this module reads; the message says why."""


def _oid(keyword: str) -> str:
    k = keyword.strip()
    m = _OID_RE.match(k)
    if m:
        return m.group(1)
    oid = _KEYWORDS.get(k.lower().replace(" ", ""))
    if oid is None:
        raise DnTextError(f"unknown attribute type {k!r}")
    return oid


def _unescape(value: str) -> str:
    v = value.strip()
    if len(v) >= 2 and v[0] == '"' and v[-1] == '"':
        v = v[1:-1]
    out: list[str] = []
    raw = bytearray()

    def flush() -> None:
        if raw:
            out.append(raw.decode("utf-8", errors="replace"))
            raw.clear()

    i = 0
    while i < len(v):
        ch = v[i]
        if ch == "\\" and i + 1 < len(v):
            pair = v[i + 1:i + 3]
            if len(pair) == 2 and all(c in "0123456789abcdefABCDEF" for c in pair):
                raw.append(int(pair, 16))  # \XX: a UTF-8 byte (RFC 4514)
                i += 3
                continue
            flush()
            out.append(v[i + 1])
            i += 2
            continue
        flush()
        out.append(ch)
        i += 1
    flush()
    return "".join(out)


def _split(text: str, seps: str) -> list[tuple[str, str]]:
    """(separator before, piece) outside quotes and escapes."""
    pieces: list[tuple[str, str]] = []
    current: list[str] = []
    before = ""
    quoted = False
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            current.append(text[i:i + 2])
            i += 2
            continue
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch in seps:
            pieces.append((before, "".join(current)))
            before, current = ch, []
            i += 1
            continue
        current.append(ch)
        i += 1
    pieces.append((before, "".join(current)))
    return pieces


def parse_dn_text(text: str) -> list[list[tuple[str, str]]]:
    """RDNs in the order written, each a list of (attribute OID, value text).

    A piece without ``=`` belongs to the value before it (``O=Foo, Inc.`` as OpenSSL prints an
    unescaped comma). Raises DnTextError for an empty text, an unknown keyword or a piece that
    cannot belong anywhere.
    """
    if not isinstance(text, str) or not text.strip():
        raise DnTextError("empty name")
    t = text.strip()
    if t.startswith("/"):
        body = t[1:]
        pieces = [("/" if n else "", p) for n, p in enumerate(re.split(r"/(?=\s*[A-Za-z0-9.]+\s*=)", body))]
    else:
        pieces = _split(t, ",;+")
    rdns: list[list[tuple[str, str]]] = []
    for sep, piece in pieces:
        if "=" not in piece or not _KEY_AHEAD.match(piece):
            if not rdns or not piece.strip():
                if not piece.strip():
                    continue
                raise DnTextError(f"{piece.strip()!r} is not TYPE=value")
            oid, value = rdns[-1][-1]
            rdns[-1][-1] = (oid, value + sep + piece)
            continue
        keyword, value = piece.split("=", 1)
        ava = (_oid(keyword), value)
        if sep == "+" and rdns:
            rdns[-1].append(ava)
        else:
            rdns.append([ava])
    if not rdns:
        raise DnTextError("no attribute")
    return [[(oid, _unescape(value)) for oid, value in rdn] for rdn in rdns]


def _norm(value: str) -> tuple:
    text = unicodedata.normalize("NFKC", value).casefold()
    return ("str", " ".join(text.split()))


def name_keys(text: str) -> list[tuple]:
    """The :func:`pki.names.name_key` values the text may stand for: the order written, then reversed
    (one key when both are the same). Raises DnTextError like :func:`parse_dn_text`."""
    rdns = [tuple(sorted((oid, _norm(v)) for oid, v in rdn)) for rdn in parse_dn_text(text)]
    forward = tuple(rdns)
    backward = tuple(reversed(rdns))
    return [forward] if forward == backward else [forward, backward]
