"""Minimal DER reader for X.509 structures.

Certificates are walked with this reader of our own, rather than through
``cryptography``'s parser, so that serial numbers, issuer and subject names
and the other fields are the exact bytes of the certificate, never
re-encoded, and so that certificates a strict parser refuses still load.
Everything here works on bytes and raises :class:`DerError`;
:mod:`pki.x509` turns that into ``CertificateError``.
"""

from __future__ import annotations

__all__ = ["DerError", "read_tlv", "children", "oid_text", "int_from_content"]


class DerError(Exception):
    """Internal: a DER structure problem, turned into CertificateError."""


def read_tlv(data: bytes, pos: int, end: int, what: str) -> tuple[int, int, int]:
    """Read the TLV at ``pos`` (not past ``end``).

    Returns ``(tag, content_start, content_end)``; the whole TLV is
    ``data[pos:content_end]``.  Only single-byte tags are expected in
    certificates; multi-byte tags are accepted and returned as the first
    byte.
    """
    if pos >= end:
        raise DerError(f"{what}: missing (structure ends early)")
    if pos + 2 > end:
        raise DerError(f"{what}: truncated header")
    tag = data[pos]
    p = pos + 1
    if tag & 0x1F == 0x1F:  # high tag number form
        while p < end and data[p] & 0x80:
            p += 1
        p += 1
        if p >= end:
            raise DerError(f"{what}: truncated tag")
    first = data[p]
    p += 1
    if first < 0x80:
        length = first
    elif first == 0x80:
        raise DerError(f"{what}: indefinite length is not DER")
    else:
        n = first & 0x7F
        if n > 4:
            raise DerError(f"{what}: length of {n} bytes is not plausible")
        if p + n > end:
            raise DerError(f"{what}: truncated length")
        length = int.from_bytes(data[p:p + n], "big")
        p += n
    if p + length > end:
        raise DerError(
            f"{what}: needs {length} bytes but only {end - p} remain"
        )
    return tag, p, p + length


def children(data: bytes, start: int, end: int, what: str) -> list[tuple[int, int, int, int]]:
    """All TLVs between start and end: ``[(tag, tlv_start, content_start, content_end)]``."""
    out = []
    pos = start
    while pos < end:
        tag, cs, ce = read_tlv(data, pos, end, what)
        out.append((tag, pos, cs, ce))
        pos = ce
    return out


def oid_text(content: bytes) -> str:
    if not content:
        raise DerError("empty OBJECT IDENTIFIER")
    arcs: list[int] = []
    value = 0
    for b in content:
        value = (value << 7) | (b & 0x7F)
        if not b & 0x80:
            arcs.append(value)
            value = 0
    if content[-1] & 0x80:
        raise DerError("truncated OBJECT IDENTIFIER")
    first = arcs[0]
    head = [min(first // 40, 2), first - 40 * min(first // 40, 2)]
    return ".".join(str(a) for a in head + arcs[1:])


def int_from_content(content: bytes) -> int:
    return int.from_bytes(content, "big", signed=True) if content else 0
