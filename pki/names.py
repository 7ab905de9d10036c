"""X.509 Name parsing, comparison and NSS-style name text.

:func:`nss_name_text` gives a DER Name exactly as NSS's ``addbuiltin``
writes it in certdata.txt comments; :func:`name_key` and
:func:`names_match` compare names as RFC 5280 section 7.1 suggests.  Names
are read with :mod:`pki.der`, from the exact bytes of the
certificate.  :mod:`pki.x509` re-exports the public names.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from pki.der import DerError, children, oid_text, read_tlv
from pki.errors import CertificateError

__all__ = ["nss_name_text", "name_key", "names_match"]


# (dotted OID) -> (NSS keyword, NSS maximum value length in bytes), in the
# order of NSS's name2kinds table (lib/certdb/alg1485.c).  Types not listed
# print as OID.x.y.z with no length limit.
_NSS_NAME_KINDS: dict[str, tuple[str, int]] = {
    "2.5.4.3": ("CN", 640),
    "2.5.4.8": ("ST", 128),
    "2.5.4.10": ("O", 128),
    "2.5.4.11": ("OU", 128),
    "2.5.4.46": ("dnQualifier", 32767),
    "2.5.4.6": ("C", 2),
    "2.5.4.5": ("serialNumber", 64),
    "2.5.4.7": ("L", 128),
    "2.5.4.12": ("title", 64),
    "2.5.4.4": ("SN", 64),
    "2.5.4.42": ("givenName", 64),
    "2.5.4.43": ("initials", 64),
    "2.5.4.44": ("generationQualifier", 64),
    "0.9.2342.19200300.100.1.25": ("DC", 128),
    "0.9.2342.19200300.100.1.3": ("MAIL", 256),
    "0.9.2342.19200300.100.1.1": ("UID", 256),
    "2.5.4.16": ("postalAddress", 128),
    "2.5.4.17": ("postalCode", 40),
    "2.5.4.18": ("postOfficeBox", 40),
    "2.5.4.51": ("houseIdentifier", 64),
    "1.2.840.113549.1.9.1": ("E", 128),
    "2.5.4.9": ("STREET", 128),
    "2.5.4.65": ("pseudonym", 64),
    "1.3.6.1.4.1.311.60.2.1.1": ("incorporationLocality", 128),
    "1.3.6.1.4.1.311.60.2.1.2": ("incorporationState", 128),
    "1.3.6.1.4.1.311.60.2.1.3": ("incorporationCountry", 2),
    "2.5.4.15": ("businessCategory", 64),
    "2.5.4.41": ("name", 64),
}

_OID_CN = "2.5.4.3"
_OID_OU = "2.5.4.11"
_OID_O = "2.5.4.10"

# ASN.1 string tags
_T_UTF8, _T_NUMERIC, _T_PRINTABLE, _T_T61, _T_IA5 = 0x0C, 0x12, 0x13, 0x14, 0x16
_T_VISIBLE, _T_UNIVERSAL, _T_BMP = 0x1A, 0x1C, 0x1E


@dataclass(frozen=True)
class _AVA:
    oid: str
    oid_der: bytes      # content octets of the OID
    tag: int            # tag of the value
    value: bytes        # content octets of the value
    value_tlv: bytes    # whole value TLV


def _parse_name(der: bytes) -> list[list[_AVA]]:
    """Parse a DER Name (SEQUENCE OF SET OF AttributeTypeAndValue)."""
    tag, cs, ce = read_tlv(der, 0, len(der), "Name")
    if tag != 0x30:
        raise DerError("Name is not a SEQUENCE")
    if ce != len(der):
        raise DerError("trailing bytes after Name")
    rdns: list[list[_AVA]] = []
    for rtag, _rs, rcs, rce in children(der, cs, ce, "RelativeDistinguishedName"):
        if rtag != 0x31:
            raise DerError("RelativeDistinguishedName is not a SET")
        avas = []
        for atag, _as, acs, ace in children(der, rcs, rce, "AttributeTypeAndValue"):
            if atag != 0x30:
                raise DerError("AttributeTypeAndValue is not a SEQUENCE")
            parts = children(der, acs, ace, "AttributeTypeAndValue")
            if len(parts) != 2 or parts[0][0] != 0x06:
                raise DerError("malformed AttributeTypeAndValue")
            otag, _os, ocs, oce = parts[0]
            vtag, vs, vcs, vce = parts[1]
            oid_der = der[ocs:oce]
            avas.append(_AVA(oid_text(oid_der), oid_der, vtag, der[vcs:vce], der[vs:vce]))
        rdns.append(avas)
    return rdns


def _decode_text(tag: int, value: bytes) -> str | None:
    """Best-effort Unicode text of a directory string value (None if not a string)."""
    try:
        if tag == _T_UTF8:
            return value.decode("utf-8", errors="replace")
        if tag in (_T_PRINTABLE, _T_IA5, _T_VISIBLE, _T_NUMERIC, _T_T61):
            # T61String is treated as ISO-8859-1, as NSS and most software do.
            return value.decode("latin-1")
        if tag == _T_BMP:
            return value.decode("utf-16-be", errors="replace")
        if tag == _T_UNIVERSAL:
            return value.decode("utf-32-be", errors="replace")
    except (UnicodeDecodeError, ValueError):
        return None
    return None


def _nss_decode_ava_value(tag: int, value: bytes) -> bytes | None:
    """UTF-8 bytes as NSS's CERT_DecodeAVAValue returns them, or None."""
    if tag in (_T_IA5, _T_PRINTABLE, _T_UTF8):
        return value  # no conversion, no validation
    try:
        if tag == _T_T61:
            return value.decode("latin-1").encode("utf-8")
        if tag == _T_BMP:
            if len(value) % 2:
                return None
            return value.decode("utf-16-be").encode("utf-8")
        if tag == _T_UNIVERSAL:
            if len(value) % 4:
                return None
            return value.decode("utf-32-be").encode("utf-8")
    except (UnicodeDecodeError, UnicodeEncodeError, ValueError):
        return None
    return None


def _nss_oid_string(oid_der: bytes) -> str:
    """CERT_GetOidString: ``OID.2.5.4.97``."""
    if len(oid_der) < 2:
        raise DerError("OID too short to print")
    try:
        return "OID." + oid_text(oid_der)
    except DerError:
        return "OID.UNSUPPORTED"


_OPTIONAL_SPACE = frozenset(b" \r\n")
_SPECIAL = frozenset(b',="\r\n+<>#;\\')


def _nss_needs_quoting(src: bytes) -> bool:
    needs_quoting = False
    last = 0
    for c in src:
        if c < 0x20 or c == 0x7F or c in (0x22, 0x5C):
            pass
        elif c in _SPECIAL:
            needs_quoting = True
        elif c in _OPTIONAL_SPACE and last in _OPTIONAL_SPACE:
            needs_quoting = True
        last = c
    if not needs_quoting and src and (src[0] in _OPTIONAL_SPACE or src[-1] in _OPTIONAL_SPACE):
        needs_quoting = True
    return needs_quoting


def _nss_escape(src: bytes, allow_quote: bool = True) -> bytes:
    """NSS escapeAndQuote: minimalEscapeAndQuote mode, or minimalEscape
    when ``allow_quote`` is False."""
    needs_quoting = allow_quote and _nss_needs_quoting(src)
    out = bytearray()
    if needs_quoting:
        out.append(0x22)
    for c in src:
        if c < 0x20 or c == 0x7F:
            out += b"\\" + b"%02x" % c
        else:
            if c in (0x22, 0x5C):
                out.append(0x5C)
            out.append(c)
    if needs_quoting:
        out.append(0x22)
    return bytes(out)


def _nss_ava_text(ava: _AVA) -> bytes:
    """AppendAVA in CERT_N2A_READABLE mode."""
    kind = _NSS_NAME_KINDS.get(ava.oid)
    if kind is not None:
        tag_name, max_bytes = kind
    else:
        tag_name, max_bytes = _nss_oid_string(ava.oid_der), 32767
    decoded = _nss_decode_ava_value(ava.tag, ava.value)
    if decoded is None:
        # NAME=#hex of the whole value TLV; never quoted.
        text = ("#" + ava.value_tlv.hex().upper()).encode()
        if len(text) > max_bytes:
            text = text[:max_bytes - 3] + b"..."
        return tag_name.encode() + b"=" + text
    escaped = _nss_escape(decoded)
    if len(escaped) <= max_bytes:
        return tag_name.encode() + b"=" + escaped
    # Truncation: escape the first max_bytes source bytes, cut the escaped
    # text at max_bytes, drop trailing UTF-8 continuation bytes, add "...".
    allow_quote = _nss_needs_quoting(decoded)
    buf = bytearray(_nss_escape(decoded[:max_bytes], allow_quote)[:max_bytes])
    while len(buf) > 1 and (buf[-1] & 0xC0) == 0x80:
        buf.pop()
    quoted = bool(buf) and buf[0] == 0x22
    buf += b"..."
    if quoted:
        buf.append(0x22)
    return tag_name.encode() + b"=" + bytes(buf)


def _nss_name_bytes(name_der: bytes) -> bytes:
    rdns = _parse_name(name_der)
    if not rdns:
        return b"(empty)"
    parts = []
    for rdn in reversed(rdns):
        parts.append(b"+".join(_nss_ava_text(a) for a in rdn))
    return b",".join(parts)


_PRINTABLE_MAP = bytes(c if 0x20 <= c <= 0x7E else 0x2E for c in range(256))


def nss_name_text(name_der: bytes, *, ascii_only: bool = True) -> str:
    """A DER Name as NSS prints it in certdata.txt comments.

    This is ``CERT_NameToAscii`` (RDNs most specific first, joined by ``,``;
    multi-valued RDNs joined by ``+``; keywords ``CN``, ``O``, ``OU``,
    ``E``, ``serialNumber``, ...; unknown types as ``OID.2.5.4.97``; values
    with special characters double-quoted, ``"`` and ``\\`` backslash-escaped,
    control characters as ``\\xx``; values longer than NSS's per-type limit
    cut and ended with ``...``; values that are not PrintableString, IA5,
    UTF8, T61, BMP or UniversalString as ``#`` + hex of the DER value) as
    written by ``addbuiltin``, which replaces every byte outside printable
    ASCII by ``.`` (so ``Raíz`` prints as ``Ra..z``).

    With ``ascii_only=False`` the UTF-8 text is returned instead of the
    dotted form, for display.

    Raises CertificateError (source ``"name"``) if the bytes are not a Name.
    """
    try:
        raw = _nss_name_bytes(name_der)
    except DerError as exc:

        raise CertificateError("name", f"not a DER Name ({exc})") from None
    if ascii_only:
        return raw.translate(_PRINTABLE_MAP).decode("ascii")
    return raw.decode("utf-8", errors="replace")


def _norm_value(ava: _AVA) -> tuple:
    text = _decode_text(ava.tag, ava.value)
    if text is None:
        return ("raw", ava.tag, ava.value)
    text = unicodedata.normalize("NFKC", text).casefold()
    return ("str", " ".join(text.split()))


def name_key(name_der: bytes) -> tuple:
    """A hashable key for comparing names as RFC 5280 section 7.1 suggests.

    String values are compared after NFKC normalisation, case folding and
    whitespace collapsing, whatever string type encodes them; the AVAs of a
    multi-valued RDN are compared as a set.  Unparseable bytes compare only
    to identical bytes.
    """
    try:
        rdns = _parse_name(name_der)
    except DerError:
        return ("unparsed", name_der)
    return tuple(
        tuple(sorted((a.oid, _norm_value(a)) for a in rdn)) for rdn in rdns
    )


def names_match(a_der: bytes, b_der: bytes) -> bool:
    """True if two DER names are byte-identical or equal after normalisation."""
    return a_der == b_der or name_key(a_der) == name_key(b_der)


def _name_attribute(rdns: list[list[_AVA]], oid: str) -> str | None:
    """Text of the last (most specific) attribute of the given type."""
    found = None
    for rdn in rdns:
        for ava in rdn:
            if ava.oid == oid:
                text = _decode_text(ava.tag, ava.value)
                if text is not None:
                    found = text
    return found
