"""Pure X.509 certificate handling for Rootwatch.

Everything here works on bytes and returns plain values; nothing touches the
database or the network.

The certificate structure is walked with a small DER reader of our own, so
that the serial number, issuer and subject are the exact bytes found in the
certificate (never re-encoded), and so that certificates that
``cryptography``'s strict parser refuses (an encoded default version, a
malformed policy qualifier, a non-minimal time, ...) still load: the
CCADB corpus has a few dozen of them.  ``cryptography`` is only used to load
public keys and to check signatures, and, on request, through
:meth:`ParsedCertificate.x509`.  The DER reader is :mod:`pki.der`;
Name parsing and the NSS name text are in :mod:`pki.names`.

Main entry points
-----------------
* :func:`load_der`, :func:`load_pem`, :func:`load_any`,
  :func:`iter_ccadb_pem_csv` -- parse input into :class:`ParsedCertificate`;
  any problem raises :class:`CertificateError` naming the input.
* :func:`verify_issued_by` -- name chaining + signature check.
* :func:`cross_sign_key`, :func:`kind` -- grouping and classification.
* :func:`nss_name_text`, :func:`nss_serial_text`, :func:`nss_time_text` --
  the exact text NSS's ``addbuiltin`` writes in certdata.txt comments.
* :func:`fingerprint_normalize`, :func:`sha1_fingerprint_normalize`.
"""

from __future__ import annotations

import base64
import binascii
import csv
import hashlib
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pki.der import DerError, children, int_from_content, oid_text, read_tlv
from pki.errors import CertificateError
from pki.names import (
    _OID_CN,
    _OID_O,
    _OID_OU,
    _name_attribute,
    _parse_name,
    name_key,
    names_match,
    nss_name_text,
)

__all__ = [
    "CertificateError",
    "ParsedCertificate",
    "load_der",
    "load_pem",
    "load_any",
    "iter_ccadb_pem_csv",
    "cross_sign_key",
    "kind",
    "verify_issued_by",
    "verify_signature",
    "is_self_signed",
    "names_match",
    "name_key",
    "nss_name_text",
    "nss_serial_text",
    "nss_time_text",
    "fingerprint_normalize",
    "sha1_fingerprint_normalize",
]


# ---------------------------------------------------------------------------
# Algorithms
# ---------------------------------------------------------------------------

_HASH_OIDS = {
    "1.2.840.113549.2.5": "md5",
    "1.3.14.3.2.26": "sha1",
    "2.16.840.1.101.3.4.2.4": "sha224",
    "2.16.840.1.101.3.4.2.1": "sha256",
    "2.16.840.1.101.3.4.2.2": "sha384",
    "2.16.840.1.101.3.4.2.3": "sha512",
}

# signature OID -> (scheme, hash name or None)
_SIG_OIDS: dict[str, tuple[str, str | None]] = {
    "1.2.840.113549.1.1.2": ("RSA-PKCS1v15", "md2"),
    "1.2.840.113549.1.1.3": ("RSA-PKCS1v15", "md4"),
    "1.2.840.113549.1.1.4": ("RSA-PKCS1v15", "md5"),
    "1.2.840.113549.1.1.5": ("RSA-PKCS1v15", "sha1"),
    "1.3.14.3.2.29": ("RSA-PKCS1v15", "sha1"),
    "1.2.840.113549.1.1.14": ("RSA-PKCS1v15", "sha224"),
    "1.2.840.113549.1.1.11": ("RSA-PKCS1v15", "sha256"),
    "1.2.840.113549.1.1.12": ("RSA-PKCS1v15", "sha384"),
    "1.2.840.113549.1.1.13": ("RSA-PKCS1v15", "sha512"),
    "1.2.840.113549.1.1.10": ("RSA-PSS", None),  # hash from parameters
    "1.2.840.10045.4.1": ("ECDSA", "sha1"),
    "1.2.840.10045.4.3.1": ("ECDSA", "sha224"),
    "1.2.840.10045.4.3.2": ("ECDSA", "sha256"),
    "1.2.840.10045.4.3.3": ("ECDSA", "sha384"),
    "1.2.840.10045.4.3.4": ("ECDSA", "sha512"),
    "1.3.101.112": ("Ed25519", None),
    "1.3.101.113": ("Ed448", None),
    "1.2.840.10040.4.3": ("DSA", "sha1"),
    "2.16.840.1.101.3.4.3.1": ("DSA", "sha224"),
    "2.16.840.1.101.3.4.3.2": ("DSA", "sha256"),
}

_CURVES = {
    "1.2.840.10045.3.1.7": ("secp256r1", 256),
    "1.3.132.0.34": ("secp384r1", 384),
    "1.3.132.0.35": ("secp521r1", 521),
    "1.3.132.0.10": ("secp256k1", 256),
    "1.2.840.10045.3.1.1": ("secp192r1", 192),
    "1.3.132.0.33": ("secp224r1", 224),
    "1.3.36.3.3.2.8.1.1.7": ("brainpoolP256r1", 256),
    "1.3.36.3.3.2.8.1.1.11": ("brainpoolP384r1", 384),
    "1.3.36.3.3.2.8.1.1.13": ("brainpoolP512r1", 512),
}

_KEY_OIDS = {
    "1.2.840.113549.1.1.1": "RSA",
    "1.2.840.113549.1.1.10": "RSA",  # RSASSA-PSS key
    "1.2.840.10045.2.1": "EC",
    "1.3.101.112": "Ed25519",
    "1.3.101.113": "Ed448",
    "1.2.840.10040.4.1": "DSA",
}


def _parse_alg_id(der: bytes, start: int, end: int) -> tuple[str, bytes]:
    """AlgorithmIdentifier content -> (oid, parameters TLV bytes or b'')."""
    parts = children(der, start, end, "AlgorithmIdentifier")
    if not parts or parts[0][0] != 0x06:
        raise DerError("AlgorithmIdentifier without an OID")
    oid = oid_text(der[parts[0][2]:parts[0][3]])
    params = b""
    if len(parts) > 1:
        params = der[parts[1][1]:parts[-1][3]]
    return oid, params


def _parse_pss_params(params: bytes) -> tuple[str, str, int]:
    """RSASSA-PSS-params -> (hash, mgf1 hash, salt length); defaults SHA-1/20."""
    hash_name, mgf_hash, salt = "sha1", "sha1", 20
    if not params or params == b"\x05\x00":
        return hash_name, mgf_hash, salt
    tag, cs, ce = read_tlv(params, 0, len(params), "RSASSA-PSS-params")
    if tag != 0x30:
        raise DerError("RSASSA-PSS-params is not a SEQUENCE")
    for ftag, _fs, fcs, fce in children(params, cs, ce, "RSASSA-PSS-params"):
        if ftag == 0xA0:
            t, a, b = read_tlv(params, fcs, fce, "hashAlgorithm")
            oid, _ = _parse_alg_id(params, a, b)
            hash_name = _HASH_OIDS.get(oid, oid)
        elif ftag == 0xA1:
            t, a, b = read_tlv(params, fcs, fce, "maskGenAlgorithm")
            _oid, mparams = _parse_alg_id(params, a, b)
            if mparams:
                t2, a2, b2 = read_tlv(mparams, 0, len(mparams), "MGF1 hash")
                moid, _ = _parse_alg_id(mparams, a2, b2)
                mgf_hash = _HASH_OIDS.get(moid, moid)
        elif ftag == 0xA2:
            t, a, b = read_tlv(params, fcs, fce, "saltLength")
            salt = int_from_content(params[a:b])
    return hash_name, mgf_hash, salt


def _parse_spki(spki: bytes) -> tuple[str, int, str | None]:
    """SubjectPublicKeyInfo -> (key_type, key_size, curve)."""
    tag, cs, ce = read_tlv(spki, 0, len(spki), "SubjectPublicKeyInfo")
    parts = children(spki, cs, ce, "SubjectPublicKeyInfo")
    if len(parts) != 2 or parts[0][0] != 0x30 or parts[1][0] != 0x03:
        raise DerError("malformed SubjectPublicKeyInfo")
    oid, params = _parse_alg_id(spki, parts[0][2], parts[0][3])
    bits = spki[parts[1][2] + 1:parts[1][3]]  # skip the unused-bits byte
    key_type = _KEY_OIDS.get(oid, oid)
    try:
        if key_type == "RSA":
            t, a, b = read_tlv(bits, 0, len(bits), "RSAPublicKey")
            nt, na, nb = read_tlv(bits, a, b, "RSA modulus")
            return key_type, int.from_bytes(bits[na:nb], "big").bit_length(), None
        if key_type == "EC":
            curve_oid = ""
            if params and params[0] == 0x06:
                t, a, b = read_tlv(params, 0, len(params), "curve")
                curve_oid = oid_text(params[a:b])
            if curve_oid in _CURVES:
                name, size = _CURVES[curve_oid]
                return key_type, size, name
            size = ((len(bits) - 1) // 2) * 8 if bits[:1] == b"\x04" else 0
            return key_type, size, curve_oid or "explicit"
        if key_type == "Ed25519":
            return key_type, 256, None
        if key_type == "Ed448":
            return key_type, 456, None
        if key_type == "DSA":
            if params and params[0] == 0x30:
                t, a, b = read_tlv(params, 0, len(params), "Dss-Parms")
                pt, pa, pb = read_tlv(params, a, b, "DSA p")
                return key_type, int.from_bytes(params[pa:pb], "big").bit_length(), None
            return key_type, 0, None
    except DerError:
        return key_type, 0, None
    return key_type, 0, None


# ---------------------------------------------------------------------------
# Times
# ---------------------------------------------------------------------------

_TIME_RE = re.compile(
    rb"^(\d{2}|\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})?(?:\.(\d+))?(Z|[+-]\d{4})?$"
)


def _parse_time(tag: int, raw: bytes) -> datetime:
    m = _TIME_RE.match(raw)
    if tag not in (0x17, 0x18) or not m:
        raise DerError(f"unreadable time {raw!r}")
    year_s, mo, d, h, mi, s, frac, tz = m.groups()
    if tag == 0x17:
        if len(year_s) != 2:
            raise DerError(f"unreadable UTCTime {raw!r}")
        yy = int(year_s)
        year = 2000 + yy if yy < 50 else 1900 + yy
    else:
        if len(year_s) != 4:
            raise DerError(f"unreadable GeneralizedTime {raw!r}")
        year = int(year_s)
    try:
        dt = datetime(year, int(mo), int(d), int(h), int(mi), int(s or b"0"),
                      tzinfo=UTC)
    except ValueError:
        raise DerError(f"impossible date {raw!r}") from None
    if frac:
        dt += timedelta(microseconds=int((frac + b"000000")[:6]))
    if tz and tz != b"Z":
        sign = 1 if tz[:1] == b"+" else -1
        dt -= sign * timedelta(hours=int(tz[1:3]), minutes=int(tz[3:5]))
    return dt


# ---------------------------------------------------------------------------
# The parsed certificate
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class ParsedCertificate:
    """One certificate, with the fields Rootwatch needs.

    All byte fields are exact slices of ``der``.  Hex strings are uppercase
    without separators.  Times are timezone-aware UTC.

    ``serial_der`` is the whole INTEGER TLV (what NSS stores in
    CKA_SERIAL_NUMBER), ``serial_content`` its content octets (leading 0x00
    kept), ``serial_hex`` the content as hex (``00A1...`` when the DER has
    a leading zero), ``serial`` the signed integer value (negative serials
    exist in the wild).

    ``subject_text``/``issuer_text`` are :func:`nss_name_text` of the names
    (exactly what certdata.txt comments show, non-ASCII bytes as ``.``);
    ``subject_cn`` and ``label`` are decoded Unicode.

    Fields declared with ``compare=False`` (``tbs_der``, ``signature``,
    ``signature_oid``..., ``source``) do not take part in equality;
    equality of two instances amounts to equality of ``der``, and the hash
    is that of ``sha256``.  :meth:`x509` returns the ``cryptography``
    certificate object.
    """

    der: bytes
    sha256: str
    sha1: str
    md5: str
    spki_der: bytes
    spki_sha256: str
    serial: int
    serial_hex: str
    serial_der: bytes
    serial_content: bytes
    subject_der: bytes
    issuer_der: bytes
    subject_text: str
    issuer_text: str
    subject_cn: str | None
    label: str
    not_before: datetime
    not_after: datetime
    key_type: str
    key_size: int
    curve: str | None
    is_ca: bool | None
    path_length: int | None
    ski: str | None
    aki: str | None
    self_issued: bool
    signature_hash: str | None
    version: int
    signature_scheme: str = field(compare=False)
    signature_oid: str = field(compare=False)
    signature_params: bytes = field(compare=False, repr=False)
    signature: bytes = field(compare=False, repr=False)
    tbs_der: bytes = field(compare=False, repr=False)
    source: str = field(compare=False, default="")
    _cache: dict = field(init=False, compare=False, repr=False, default_factory=dict)

    def __hash__(self) -> int:
        return hash(self.sha256)

    def __getstate__(self) -> dict:
        # The cache may hold cryptography objects, which do not pickle.
        state = dict(self.__dict__)
        state["_cache"] = {}
        return state

    def x509(self):
        """The ``cryptography.x509.Certificate`` for this DER.

        Raises CertificateError when ``cryptography`` refuses the encoding
        (a few real CA certificates are not strict DER).
        """
        cached = self._cache.get("x509")
        if cached is None:
            from cryptography import x509 as _cx509

            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    cached = _cx509.load_der_x509_certificate(self.der)
            except ValueError as exc:
                raise CertificateError(self.source or self.sha256,
                                       f"cryptography cannot load it: {exc}") from None
            self._cache["x509"] = cached
        return cached

    def public_key(self):
        """The ``cryptography`` public key object, or None if it cannot be loaded."""
        if "public_key" not in self._cache:
            from cryptography.hazmat.primitives.serialization import load_der_public_key

            try:
                key = load_der_public_key(self.spki_der)
            except Exception:  # unsupported algorithm or malformed key
                key = None
            self._cache["public_key"] = key
        return self._cache["public_key"]


def _parse_extensions(der: bytes, start: int, end: int) -> dict[str, tuple[bool, bytes]]:
    """[3] EXPLICIT Extensions content -> {oid: (critical, extnValue content)}."""
    tag, cs, ce = read_tlv(der, start, end, "Extensions")
    if tag != 0x30:
        raise DerError("Extensions is not a SEQUENCE")
    out: dict[str, tuple[bool, bytes]] = {}
    for etag, _es, ecs, ece in children(der, cs, ce, "Extension"):
        parts = children(der, ecs, ece, "Extension")
        if etag != 0x30 or not parts or parts[0][0] != 0x06:
            raise DerError("malformed Extension")
        oid = oid_text(der[parts[0][2]:parts[0][3]])
        critical = False
        rest = parts[1:]
        if rest and rest[0][0] == 0x01:
            critical = der[rest[0][2]:rest[0][3]] != b"\x00"
            rest = rest[1:]
        if len(rest) != 1 or rest[0][0] != 0x04:
            raise DerError(f"extension {oid} has no OCTET STRING value")
        out.setdefault(oid, (critical, der[rest[0][2]:rest[0][3]]))
    return out


def _basic_constraints(value: bytes) -> tuple[bool, int | None]:
    tag, cs, ce = read_tlv(value, 0, len(value), "basicConstraints")
    is_ca, path_len = False, None
    for ftag, _fs, fcs, fce in children(value, cs, ce, "basicConstraints"):
        if ftag == 0x01:
            is_ca = value[fcs:fce] != b"\x00"
        elif ftag == 0x02:
            path_len = int_from_content(value[fcs:fce])
    return is_ca, path_len


def _aki_keyid(value: bytes) -> str | None:
    tag, cs, ce = read_tlv(value, 0, len(value), "authorityKeyIdentifier")
    for ftag, _fs, fcs, fce in children(value, cs, ce, "authorityKeyIdentifier"):
        if ftag == 0x80:
            return value[fcs:fce].hex().upper()
    return None


def _ski(value: bytes) -> str | None:
    tag, cs, ce = read_tlv(value, 0, len(value), "subjectKeyIdentifier")
    if tag != 0x04:
        return None
    return value[cs:ce].hex().upper()


def _parse_certificate(der: bytes, source: str) -> ParsedCertificate:
    n = len(der)
    if n == 0:
        raise CertificateError(source, "empty input")
    if der[0] != 0x30:
        raise CertificateError(
            source, f"not a certificate (DER must start with a SEQUENCE, 0x30; got 0x{der[0]:02x})"
        )
    try:
        _tag, cs, ce = read_tlv(der, 0, n, "Certificate")
    except DerError as exc:
        raise CertificateError(source, f"truncated DER ({exc}; {n} bytes in input)") from None
    if ce != n:
        raise CertificateError(source, f"{n - ce} trailing bytes after the certificate")
    try:
        top = children(der, cs, ce, "Certificate")
        if len(top) != 3 or top[0][0] != 0x30 or top[1][0] != 0x30 or top[2][0] != 0x03:
            raise DerError(
                "expected SEQUENCE { TBSCertificate, AlgorithmIdentifier, BIT STRING }"
            )
        tbs_tag, tbs_s, tbs_cs, tbs_ce = top[0]
        fields = children(der, tbs_cs, tbs_ce, "TBSCertificate")
        i = 0
        version = 1
        if fields and fields[0][0] == 0xA0:
            vt, vcs, vce = read_tlv(der, fields[0][2], fields[0][3], "version")
            version = int_from_content(der[vcs:vce]) + 1
            i = 1
        if len(fields) < i + 6:
            raise DerError("TBSCertificate has too few fields")
        s_tag, s_s, s_cs, s_ce = fields[i]
        if s_tag != 0x02:
            raise DerError("serialNumber is not an INTEGER")
        iss = fields[i + 2]
        val = fields[i + 3]
        sub = fields[i + 4]
        spk = fields[i + 5]
        for f, what in ((fields[i + 1], "signature"), (iss, "issuer"), (val, "validity"),
                        (sub, "subject"), (spk, "subjectPublicKeyInfo")):
            if f[0] != 0x30:
                raise DerError(f"{what} is not a SEQUENCE")
        times = children(der, val[2], val[3], "Validity")
        if len(times) != 2:
            raise DerError("Validity must hold two times")
        not_before = _parse_time(times[0][0], der[times[0][2]:times[0][3]])
        not_after = _parse_time(times[1][0], der[times[1][2]:times[1][3]])
        exts: dict[str, tuple[bool, bytes]] = {}
        for f in fields[i + 6:]:
            if f[0] == 0xA3:
                exts = _parse_extensions(der, f[2], f[3])
        sig_oid, sig_params = _parse_alg_id(der, top[1][2], top[1][3])
        sig_bits = der[top[2][2]:top[2][3]]
        if not sig_bits:
            raise DerError("empty signature BIT STRING")
        signature = sig_bits[1:]

        serial_der = der[s_s:s_ce]
        serial_content = der[s_cs:s_ce]
        issuer_der = der[iss[1]:iss[3]]
        subject_der = der[sub[1]:sub[3]]
        spki_der = der[spk[1]:spk[3]]
        subject_rdns = _parse_name(subject_der)
        _parse_name(issuer_der)
        subject_text = nss_name_text(subject_der)
        issuer_text = nss_name_text(issuer_der)
        key_type, key_size, curve = _parse_spki(spki_der)
        scheme, sig_hash = _SIG_OIDS.get(sig_oid, ("unknown", None))
        if scheme == "RSA-PSS":
            try:
                sig_hash = _parse_pss_params(sig_params)[0]
            except DerError:
                sig_hash = None
    except DerError as exc:
        raise CertificateError(source, f"not a certificate ({exc})") from None
    except CertificateError as exc:
        raise CertificateError(source, exc.reason) from None

    is_ca = path_length = ski = aki = None
    try:
        if "2.5.29.19" in exts:
            is_ca, path_length = _basic_constraints(exts["2.5.29.19"][1])
    except DerError:
        pass
    try:
        if "2.5.29.14" in exts:
            ski = _ski(exts["2.5.29.14"][1])
    except DerError:
        pass
    try:
        if "2.5.29.35" in exts:
            aki = _aki_keyid(exts["2.5.29.35"][1])
    except DerError:
        pass

    cn = _name_attribute(subject_rdns, _OID_CN)
    label = cn or _name_attribute(subject_rdns, _OID_OU) or _name_attribute(subject_rdns, _OID_O)
    if not label:
        label = subject_text if subject_rdns else hashlib.sha256(der).hexdigest().upper()[:16]

    return ParsedCertificate(
        der=der,
        sha256=hashlib.sha256(der).hexdigest().upper(),
        sha1=hashlib.sha1(der).hexdigest().upper(),
        md5=hashlib.md5(der).hexdigest().upper(),
        spki_der=spki_der,
        spki_sha256=hashlib.sha256(spki_der).hexdigest().upper(),
        serial=int_from_content(serial_content),
        serial_hex=serial_content.hex().upper(),
        serial_der=serial_der,
        serial_content=serial_content,
        subject_der=subject_der,
        issuer_der=issuer_der,
        subject_text=subject_text,
        issuer_text=issuer_text,
        subject_cn=cn,
        label=label,
        not_before=not_before,
        not_after=not_after,
        key_type=key_type,
        key_size=key_size,
        curve=curve,
        is_ca=is_ca,
        path_length=path_length,
        ski=ski,
        aki=aki,
        self_issued=subject_der == issuer_der,
        signature_hash=sig_hash,
        version=version,
        signature_scheme=scheme,
        signature_oid=sig_oid,
        signature_params=sig_params,
        signature=signature,
        tbs_der=der[tbs_s:tbs_ce],
        source=source,
    )


# ---------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------

def load_der(data: bytes, *, source: str) -> ParsedCertificate:
    """Parse one DER certificate.  Raises CertificateError naming ``source``."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise CertificateError(source, f"expected bytes, got {type(data).__name__}")
    return _parse_certificate(bytes(data), source)


_PEM_BLOCK_RE = re.compile(
    r"-----BEGIN ([A-Z0-9 ]+)-----(.*?)(?:-----END ([A-Z0-9 ]+)-----|\Z)", re.DOTALL
)
_CERT_LABELS = {"CERTIFICATE", "X509 CERTIFICATE", "TRUSTED CERTIFICATE"}


def load_pem(text: str | bytes, *, source: str) -> list[ParsedCertificate]:
    """Parse every ``CERTIFICATE`` block of a PEM text (bundles welcome).

    Tolerates CRLF, blank lines inside blocks, RFC 1421 headers, and any
    text around the blocks (a stray leading ``'`` as in CCADB exports,
    ``openssl x509 -text`` output, ...).  A block with another label (a
    private key, a CSR, a CRL) is an error, as is a BEGIN without END.
    """
    if isinstance(text, (bytes, bytearray)):
        text = bytes(text).decode("utf-8", errors="replace")
    if not text.strip():
        raise CertificateError(source, "empty file")
    blocks = list(_PEM_BLOCK_RE.finditer(text))
    if not blocks:
        raise CertificateError(source, "not a certificate (no '-----BEGIN CERTIFICATE-----' line)")
    certs = []
    for number, m in enumerate(blocks, start=1):
        label, body, end_label = m.group(1), m.group(2), m.group(3)
        where = source if len(blocks) == 1 else f"{source} (PEM block {number})"
        if label not in _CERT_LABELS:
            raise CertificateError(where, f"PEM armor is 'BEGIN {label}', expected CERTIFICATE")
        if end_label is None or "-----BEGIN" in body:
            raise CertificateError(where, f"truncated PEM: 'BEGIN {label}' without END line")
        if end_label != label:
            raise CertificateError(where, f"PEM armor mismatch: BEGIN {label} but END {end_label}")
        lines = [ln for ln in body.splitlines() if ":" not in ln]
        b64 = "".join("".join(lines).split())
        if not b64:
            raise CertificateError(where, "empty PEM block")
        b64 += "=" * (-len(b64) % 4)
        try:
            der = base64.b64decode(b64, validate=True)
        except (binascii.Error, ValueError):
            raise CertificateError(where, "PEM block is not valid base64") from None
        if label == "TRUSTED CERTIFICATE" and der[:1] == b"\x30":
            # OpenSSL appends trust settings after the certificate.
            try:
                _t, _cs, ce = read_tlv(der, 0, len(der), "Certificate")
                der = der[:ce]
            except DerError:
                pass
        certs.append(_parse_certificate(der, where))
    return certs


_B64_ONLY = re.compile(rb"^[A-Za-z0-9+/=\s]+$")


def load_any(data: bytes, *, source: str) -> list[ParsedCertificate]:
    """Parse DER or PEM (sniffed); always returns a list.

    DER is recognised by its leading SEQUENCE byte, PEM by a ``-----BEGIN``
    line, and a bare base64 body (no armor) is accepted too.
    """
    if isinstance(data, str):
        data = data.encode("utf-8")
    if not data or not data.strip():
        raise CertificateError(source, "empty file")
    if data[:1] == b"\x30":
        return [load_der(data, source=source)]
    if b"-----BEGIN" in data:
        return load_pem(data.decode("utf-8", errors="replace"), source=source)
    stripped = data.strip()
    if _B64_ONLY.match(stripped):
        try:
            der = base64.b64decode(b"".join(stripped.split()), validate=True)
        except (binascii.Error, ValueError):
            der = b""
        if der[:1] == b"\x30":
            return [load_der(der, source=source)]
    raise CertificateError(source, "not a certificate (neither DER nor PEM)")


_CSV_SHA_COLUMNS = ("SHA-256 Fingerprint", "SHA256 Fingerprint", "SHA-256", "SHA256")
_CSV_PEM_COLUMNS = ("X.509 Certificate (PEM)", "PEM Info", "PEM", "Certificate PEM")


def iter_ccadb_pem_csv(path: str | Path) -> Iterator[ParsedCertificate]:
    """Certificates of a CCADB CSV that has a SHA-256 and a PEM column.

    Made for "AllCertificatePEMsCSVFormat" (``SHA-256 Fingerprint``,
    ``X.509 Certificate (PEM)``) and also reads reports with a ``PEM Info``
    column.  Each certificate's SHA-256 must equal the CSV's column; a
    mismatch, an empty or broken PEM raises CertificateError naming the file
    and the row (data rows numbered from 1, header not counted).  The
    ``source`` of each certificate is ``"<file>:row <n>"``.
    """
    path = Path(path)
    csv.field_size_limit(max(csv.field_size_limit(), 1 << 24))
    with path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        header = reader.fieldnames or []
        sha_col = next((c for c in _CSV_SHA_COLUMNS if c in header), None)
        pem_col = next((c for c in _CSV_PEM_COLUMNS if c in header), None)
        if sha_col is None or pem_col is None:
            raise CertificateError(
                str(path), f"not a CCADB PEM CSV (columns: {', '.join(header) or 'none'})"
            )
        for number, row in enumerate(reader, start=1):
            where = f"{path}:row {number}"
            expected = (row.get(sha_col) or "").strip()
            pem = row.get(pem_col) or ""
            if not pem.strip():
                raise CertificateError(where, "empty PEM field")
            certs = load_pem(pem, source=where)
            if len(certs) != 1:
                raise CertificateError(where, f"expected one certificate, found {len(certs)}")
            cert = certs[0]
            try:
                want = fingerprint_normalize(expected)
            except CertificateError:
                raise CertificateError(where, f"bad SHA-256 column value {expected!r}") from None
            if want != cert.sha256:
                raise CertificateError(
                    where, f"SHA-256 column says {want} but the PEM hashes to {cert.sha256}"
                )
            yield cert


# ---------------------------------------------------------------------------
# Relations between certificates
# ---------------------------------------------------------------------------

def cross_sign_key(cert: ParsedCertificate) -> str:
    """SHA-256 (uppercase hex) of subject DER + SPKI DER.

    Certificates sharing it (same subject, same key) are one cross-sign
    group: the same CA, issued by different parents or re-issued.
    """
    return hashlib.sha256(cert.subject_der + cert.spki_der).hexdigest().upper()


def kind(cert: ParsedCertificate) -> str:
    """``"root"``, ``"intermediate"`` or ``"leaf"``.

    * basicConstraints cA=TRUE: self-issued -> root, else intermediate;
    * basicConstraints present with cA=FALSE -> leaf;
    * no basicConstraints (v1 certificates predate extensions; the CCADB
      holds 42 v1 and 3 v3 roots like that, all self-issued): self-issued
      -> root, otherwise leaf.  RFC 5280 4.2.1.9 says a certificate without
      the extension is not a CA unless confirmed out of band, so an issued
      v1 certificate is not promoted to intermediate here.

    "Self-issued" is name-based, so a key-rollover certificate (same name,
    signed by the CA's previous key) also counts as a root here; use
    :func:`is_self_signed` to tell those apart.
    """
    if cert.is_ca:
        return "root" if cert.self_issued else "intermediate"
    if cert.is_ca is None and cert.self_issued:
        return "root"
    return "leaf"


def _hash_obj(name: str | None):
    from cryptography.hazmat.primitives import hashes

    return {
        "md5": hashes.MD5,
        "sha1": hashes.SHA1,
        "sha224": hashes.SHA224,
        "sha256": hashes.SHA256,
        "sha384": hashes.SHA384,
        "sha512": hashes.SHA512,
    }.get(name or "", lambda: None)()


def verify_signature(child: ParsedCertificate, parent: ParsedCertificate) -> bool:
    """True if ``child``'s signature verifies with ``parent``'s public key.

    Supports RSA PKCS#1 v1.5 (MD5 to SHA-512), RSA-PSS, ECDSA, Ed25519,
    Ed448 and DSA.  Anything else (MD2, unknown algorithms, unloadable
    keys, a key type that does not match the algorithm) returns False.
    Never raises for a mismatch.
    """
    from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
    from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, padding, rsa

    key = parent.public_key()
    if key is None:
        return False
    scheme = child.signature_scheme
    sig, tbs = child.signature, child.tbs_der
    try:
        if scheme == "RSA-PKCS1v15":
            h = _hash_obj(child.signature_hash)
            if h is None or not isinstance(key, rsa.RSAPublicKey):
                return False
            key.verify(sig, tbs, padding.PKCS1v15(), h)
        elif scheme == "RSA-PSS":
            if not isinstance(key, rsa.RSAPublicKey):
                return False
            hname, mgf_name, salt = _parse_pss_params(child.signature_params)
            h, mh = _hash_obj(hname), _hash_obj(mgf_name)
            if h is None or mh is None:
                return False
            key.verify(sig, tbs, padding.PSS(mgf=padding.MGF1(mh), salt_length=salt), h)
        elif scheme == "ECDSA":
            h = _hash_obj(child.signature_hash)
            if h is None or not isinstance(key, ec.EllipticCurvePublicKey):
                return False
            key.verify(sig, tbs, ec.ECDSA(h))
        elif scheme == "Ed25519":
            if not isinstance(key, ed25519.Ed25519PublicKey):
                return False
            key.verify(sig, tbs)
        elif scheme == "Ed448":
            if not isinstance(key, ed448.Ed448PublicKey):
                return False
            key.verify(sig, tbs)
        elif scheme == "DSA":
            h = _hash_obj(child.signature_hash)
            if h is None or not isinstance(key, dsa.DSAPublicKey):
                return False
            key.verify(sig, tbs, h)
        else:
            return False
    except (InvalidSignature, UnsupportedAlgorithm, ValueError, TypeError, DerError):
        return False
    return True


def is_self_signed(cert: ParsedCertificate) -> bool:
    """Self-issued *and* signed by its own key (cached on the instance).

    Not every self-issued certificate is self-signed: key-rollover
    certificates (RFC 4210 "new with old", e.g. Taiwan's GRCA) carry the
    same name as issuer and subject but are signed by the previous key.
    """
    cached = cert._cache.get("self_signed")
    if cached is None:
        cached = cert._cache["self_signed"] = cert.self_issued and verify_signature(cert, cert)
    return cached


def verify_issued_by(child: ParsedCertificate, parent: ParsedCertificate) -> bool:
    """True if ``parent`` issued ``child``.

    Two conditions: (1) name chaining -- ``child.issuer_der`` equals
    ``parent.subject_der`` byte for byte, or the two names are equal after
    RFC 5280 7.1-style normalisation (:func:`name_key`: case-insensitive,
    whitespace-collapsed, whatever the string type), which real CAs need
    when a parent was re-encoded (PrintableString vs UTF8String); and
    (2) ``child``'s signature verifies with ``parent``'s key.  Validity
    dates, basicConstraints and key usage are *not* checked.  Returns False,
    never raises, for any mismatch.
    """
    if not names_match(child.issuer_der, parent.subject_der):
        return False
    return verify_signature(child, parent)


# ---------------------------------------------------------------------------
# NSS certdata.txt comment text
# ---------------------------------------------------------------------------

def _serial_content_of(value: Any) -> bytes:
    if isinstance(value, ParsedCertificate):
        return value.serial_content
    if isinstance(value, (bytes, bytearray)):
        raw = bytes(value)
        try:
            tag, cs, ce = read_tlv(raw, 0, len(raw), "serial")
        except DerError as exc:
            raise CertificateError("serial", f"not a DER INTEGER ({exc})") from None
        if tag != 0x02 or ce != len(raw):
            raise CertificateError("serial", "not a DER INTEGER")
        return raw[cs:ce]
    raise TypeError("expected a ParsedCertificate or a DER INTEGER (bytes)")


def nss_serial_text(cert: ParsedCertificate | bytes) -> str:
    """The whole ``# Serial Number:`` comment line as NSS's addbuiltin writes it.

    ``cert`` is a ParsedCertificate or the serial's DER INTEGER TLV (as in
    CKA_SERIAL_NUMBER, for trust-only entries).  NSS (SECU_PrintInteger)
    prints serials of at most 4 content bytes as a signed 32-bit decimal
    and hex -- ``# Serial Number: 946069240 (0x3863def8)``, a negative one
    as ``-1 (0xffffffff)`` -- and longer ones as lowercase colon hex of the
    content bytes, leading 00 kept and no space after the colon --
    ``# Serial Number:04:00:00:00:00:01:15:4b:5a:c3:94`` -- except that
    content made only of printable ASCII is printed as that text
    (SECU_PrintAsHex's "looks like a string" rule).
    """
    content = _serial_content_of(cert)
    if not content:
        return "# Serial Number: (null)"
    if len(content) <= 4:
        iv = int.from_bytes(content, "big", signed=True)
        return f"# Serial Number: {iv} (0x{iv & 0xFFFFFFFF:x})"
    if all(0x20 <= b <= 0x7E for b in content):
        if all(b == 0x20 for b in content):
            return "# Serial Number:"
        return "# Serial Number:" + content.decode("ascii")
    return "# Serial Number:" + ":".join(f"{b:02x}" for b in content)


_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def nss_time_text(dt: datetime) -> str:
    """``Tue Sep 01 12:00:00 1998`` (UTC; naive datetimes are taken as UTC)."""
    if dt.tzinfo is not None:
        dt = dt.astimezone(UTC)
    return (f"{_DAYS[dt.weekday()]} {_MONTHS[dt.month - 1]} {dt.day:02d} "
            f"{dt.hour:02d}:{dt.minute:02d}:{dt.second:02d} {dt.year}")


# ---------------------------------------------------------------------------
# Fingerprints
# ---------------------------------------------------------------------------

_FP_SEPARATORS = re.compile(r"[\s:]")


def _normalize_hex(s: str, digits: int, what: str) -> str:
    if not isinstance(s, str):
        raise CertificateError(what, f"expected text, got {type(s).__name__}")
    cleaned = _FP_SEPARATORS.sub("", s).upper()
    if len(cleaned) != digits or not all(c in "0123456789ABCDEF" for c in cleaned):
        shown = s if len(s) <= 100 else s[:97] + "..."
        raise CertificateError(what, f"{shown!r} is not {digits} hex digits")
    return cleaned


def fingerprint_normalize(s: str) -> str:
    """A SHA-256 fingerprint as 64 uppercase hex digits.

    Accepts colons, spaces and any case; raises CertificateError otherwise.
    """
    return _normalize_hex(s, 64, "SHA-256 fingerprint")


def sha1_fingerprint_normalize(s: str) -> str:
    """A SHA-1 fingerprint as 40 uppercase hex digits (same rules)."""
    return _normalize_hex(s, 40, "SHA-1 fingerprint")
