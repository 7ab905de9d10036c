"""NSS ``certdata.txt``: parse with a byte-for-byte round trip, and write new blocks.

The grammar is the one NSS's own ``certdata.perl`` accepts: after a ``BEGINDATA``
line, each ``CKA_CLASS`` attribute line starts an object; an attribute line is
``NAME TYPE VALUE``, and a ``MULTILINE_OCTAL`` value runs on the following lines
(``\\ooo`` escapes) up to a line ``END``. Blank lines and ``#`` lines are comments.

Each parsed object keeps its exact text (``raw``) together with the comments
that precede it, so a file can be edited object by object and written back with
every untouched byte unchanged: ``header + "".join(raw) + trailer == text``.

Pure domain code: no Django. The renderers take a ``ParsedCertificate`` from
``pki.x509`` and use its NSS-style text helpers for the comment lines.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import NamedTuple

from pki.x509 import ParsedCertificate, nss_name_text, nss_serial_text, nss_time_text

__all__ = [
    "CKO_CERTIFICATE",
    "CKO_NSS_BUILTIN_ROOT_LIST",
    "CKO_NSS_TRUST",
    "CKT_NSS_MUST_VERIFY_TRUST",
    "CKT_NSS_NOT_TRUSTED",
    "CKT_NSS_TRUSTED_DELEGATOR",
    "CKT_NSS_TRUST_UNKNOWN",
    "TRUST_VALUES",
    "Attribute",
    "CertdataError",
    "CertdataFile",
    "CertdataObject",
    "certificate_comment_lines",
    "decode_octal",
    "decode_utctime",
    "encode_octal",
    "encode_utctime_octal",
    "parse",
    "parse_objects",
    "render_certificate_object",
    "render_distrust_for_certificate",
    "render_distrust_trust_object",
    "render_trust_for_certificate",
    "render_trust_object",
    "replace_or_append",
    "unified_diff",
    "utctime_bytes",
]

CKO_CERTIFICATE = "CKO_CERTIFICATE"
CKO_NSS_TRUST = "CKO_NSS_TRUST"
CKO_NSS_BUILTIN_ROOT_LIST = "CKO_NSS_BUILTIN_ROOT_LIST"

CKT_NSS_TRUSTED_DELEGATOR = "CKT_NSS_TRUSTED_DELEGATOR"
CKT_NSS_MUST_VERIFY_TRUST = "CKT_NSS_MUST_VERIFY_TRUST"
CKT_NSS_NOT_TRUSTED = "CKT_NSS_NOT_TRUSTED"
CKT_NSS_TRUST_UNKNOWN = "CKT_NSS_TRUST_UNKNOWN"
# The CKT_NSS_* trust values NSS defines (lib/util/pkcs11n.h); a typo here would
# only surface when NSS compiles certdata.c, long after the bug was filed.
TRUST_VALUES = frozenset(
    {
        CKT_NSS_TRUSTED_DELEGATOR,
        CKT_NSS_MUST_VERIFY_TRUST,
        CKT_NSS_NOT_TRUSTED,
        CKT_NSS_TRUST_UNKNOWN,
        "CKT_NSS_TRUSTED",
        "CKT_NSS_VALID_DELEGATOR",
    }
)

MULTILINE_OCTAL = "MULTILINE_OCTAL"
UTF8 = "UTF8"
# Constant-valued types and the prefix their value must carry.
_CONSTANT_TYPES = {
    "CK_OBJECT_CLASS": "CKO_",
    "CK_BBOOL": "CK_",
    "CK_CERTIFICATE_TYPE": "CKC_",
    "CK_TRUST": "CKT_",
}
KNOWN_TYPES = frozenset({MULTILINE_OCTAL, UTF8, *_CONSTANT_TYPES})

# NSS wraps MULTILINE_OCTAL at 16 bytes per line.
OCTAL_BYTES_PER_LINE = 16

_ATTRIBUTE_NAME = re.compile(r"CKA_[A-Z0-9_]+\Z")
_OCTAL_LINE = re.compile(r"(?:\\[0-3][0-7][0-7])+\Z")
_UTCTIME = re.compile(rb"(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z\Z")
_LABEL_LINE = re.compile(r'CKA_LABEL UTF8 "(.*)"\s*\Z')


class CertdataError(ValueError):
    """Malformed certdata input; the message names the file, object and line."""


class Attribute(NamedTuple):
    """One attribute: its certdata type and its decoded value.

    MULTILINE_OCTAL -> bytes, UTF8 -> str, CK_BBOOL -> bool, other constant
    types (CK_TRUST, CK_OBJECT_CLASS, CK_CERTIFICATE_TYPE) -> the constant name.
    """

    type: str
    value: bytes | str | bool


# --------------------------------------------------------------------------
# Value codecs


def encode_octal(data: bytes) -> str:
    """MULTILINE_OCTAL body as NSS writes it: 16 escapes a line, each line ending in a newline."""
    lines = []
    for start in range(0, len(data), OCTAL_BYTES_PER_LINE):
        chunk = data[start : start + OCTAL_BYTES_PER_LINE]
        lines.append("".join(f"\\{byte:03o}" for byte in chunk) + "\n")
    return "".join(lines)


def decode_octal(body: str) -> bytes:
    """Inverse of :func:`encode_octal` (lines of ``\\ooo`` escapes, no ``END``)."""
    lines = body.splitlines()
    for number, line in enumerate(lines, start=1):
        if not _OCTAL_LINE.match(line):
            raise CertdataError(f"octal body line {number}: not a run of \\ooo escapes: {line!r}")
    return _unescape_octal("".join(lines))


def _unescape_octal(escapes: str) -> bytes:
    """Bytes of a string already checked to hold only ``\\ooo`` escapes (000-377).

    Python's own escape decoder does the work in C, several times faster than
    converting each escape in a Python loop; ``latin-1`` maps the resulting
    code points 0-255 back to the same bytes.
    """
    return escapes.encode("ascii").decode("unicode_escape").encode("latin-1")


def _utc(dt: datetime) -> datetime:
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise CertdataError(f"distrust-after date {dt!r} is naive; a timezone-aware datetime is required")
    return dt.astimezone(UTC)


def utctime_bytes(dt: datetime) -> bytes:
    """The 13 ASCII bytes ``YYMMDDHHMMSSZ`` NSS stores for a distrust-after date."""
    moment = _utc(dt)
    # UTCTime (RFC 5280 4.1.2.5.1) only covers 1950..2049.
    if not 1950 <= moment.year <= 2049:
        raise CertdataError(f"distrust-after date {moment.isoformat()} is outside UTCTime's 1950-2049 range")
    return moment.strftime("%y%m%d%H%M%SZ").encode("ascii")


def encode_utctime_octal(dt: datetime) -> str:
    """MULTILINE_OCTAL body of a CKA_NSS_*_DISTRUST_AFTER value (fractions of a second dropped)."""
    return encode_octal(utctime_bytes(dt))


def decode_utctime(data: bytes) -> datetime:
    """Parse the 13 ASCII bytes ``YYMMDDHHMMSSZ``; raises CertdataError with the reason."""
    if len(data) != 13:
        raise CertdataError(
            f"expected 13 bytes of UTCTime YYMMDDHHMMSSZ, got {len(data)} ({data!r})"
            + ("; the trailing 'Z' is missing" if len(data) == 12 and not data.endswith(b"Z") else "")
        )
    match = _UTCTIME.match(data)
    if match is None:
        raise CertdataError(f"not a UTCTime YYMMDDHHMMSSZ: {data!r}")
    yy, month, day, hour, minute, second = (int(group) for group in match.groups())
    year = 1900 + yy if yy >= 50 else 2000 + yy
    try:
        return datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    except ValueError as exc:
        raise CertdataError(f"not a valid date: {data!r} ({exc})") from None


def _decode_utf8_literal(literal: str) -> str:
    """Undo the C string escapes certdata.perl passes through (``\\xC3``, ``\\303``, ``\\"``)."""
    raw = literal.encode("utf-8")
    out = bytearray()
    i = 0
    while i < len(raw):
        byte = raw[i]
        if byte != 0x5C:  # backslash
            out.append(byte)
            i += 1
            continue
        nxt = raw[i + 1 : i + 2]
        if nxt == b"x" and re.fullmatch(rb"[0-9A-Fa-f]{2}", raw[i + 2 : i + 4]):
            out.append(int(raw[i + 2 : i + 4], 16))
            i += 4
        elif re.fullmatch(rb"[0-3][0-7]{2}", raw[i + 1 : i + 4]):
            out.append(int(raw[i + 1 : i + 4], 8))
            i += 4
        elif nxt in (b"\\", b'"'):
            out.extend(nxt)
            i += 2
        else:
            raise ValueError(f"unsupported escape {raw[i:i + 4]!r}")
    return out.decode("utf-8")


def _encode_utf8_literal(text: str) -> str:
    """A label as NSS writes it: UTF-8 as is, only ``"`` and ``\\`` escaped."""
    if "\n" in text or "\r" in text:
        raise CertdataError(f"label {text!r} contains a line break")
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


# --------------------------------------------------------------------------
# Model


@dataclass(eq=False)
class CertdataObject:
    """One object of certdata.txt, with its exact text and typed accessors.

    Accessors return None when the attribute is absent; malformed values
    (distrust-after dates, hashes, serials) raise CertdataError on access, and
    :func:`parse` touches all of them unless asked not to validate.
    """

    cls: str
    raw: str
    line: int
    attributes: dict[str, Attribute]
    attribute_lines: dict[str, int] = field(default_factory=dict)
    source: str = "<certdata>"

    # -- generic access ----------------------------------------------------

    def get(self, name: str) -> bytes | str | bool | None:
        attribute = self.attributes.get(name)
        return None if attribute is None else attribute.value

    def _fail(self, what: str, *, attribute: str | None = None) -> CertdataError:
        where = f" ({attribute}, line {self.attribute_lines[attribute]})" if attribute in self.attribute_lines else ""
        return CertdataError(f"{self.source}: object {self.label!r} at line {self.line}{where}: {what}")

    def _typed(self, name: str, expected: str) -> bytes | str | bool | None:
        attribute = self.attributes.get(name)
        if attribute is None:
            return None
        if attribute.type != expected:
            raise self._fail(f"{name} has type {attribute.type}, expected {expected}", attribute=name)
        return attribute.value

    def _octal(self, name: str) -> bytes | None:
        value = self._typed(name, MULTILINE_OCTAL)
        assert value is None or isinstance(value, bytes)
        return value

    # -- common --------------------------------------------------------------

    @property
    def label(self) -> str | None:
        attribute = self.attributes.get("CKA_LABEL")
        return attribute.value if attribute is not None and isinstance(attribute.value, str) else None

    @property
    def issuer(self) -> bytes | None:
        """DER Name of the issuer."""
        return self._octal("CKA_ISSUER")

    @property
    def serial(self) -> bytes | None:
        """The whole DER INTEGER (tag 0x02, length, content), as NSS stores it."""
        value = self._octal("CKA_SERIAL_NUMBER")
        if value is not None:
            _check_der_integer(value, fail=lambda what: self._fail(what, attribute="CKA_SERIAL_NUMBER"))
        return value

    @property
    def issuer_serial(self) -> tuple[bytes, bytes] | None:
        """The (issuer, serial) pair a trust object and its certificate share."""
        issuer, serial = self.issuer, self.serial
        return None if issuer is None or serial is None else (issuer, serial)

    @property
    def server_distrust_after(self) -> datetime | None:
        return self._distrust_after("CKA_NSS_SERVER_DISTRUST_AFTER")

    @property
    def email_distrust_after(self) -> datetime | None:
        return self._distrust_after("CKA_NSS_EMAIL_DISTRUST_AFTER")

    def _distrust_after(self, name: str) -> datetime | None:
        attribute = self.attributes.get(name)
        if attribute is None:
            return None
        if attribute.type == "CK_BBOOL":
            if attribute.value is False:
                return None
            raise self._fail(
                "CK_BBOOL CK_TRUE where a date belongs; use CK_BBOOL CK_FALSE when unset "
                "or a MULTILINE_OCTAL UTCTime YYMMDDHHMMSSZ",
                attribute=name,
            )
        if attribute.type != MULTILINE_OCTAL:
            raise self._fail(f"{name} has type {attribute.type}, expected CK_BBOOL CK_FALSE or MULTILINE_OCTAL", attribute=name)
        assert isinstance(attribute.value, bytes)
        try:
            return decode_utctime(attribute.value)
        except CertdataError as exc:
            raise self._fail(str(exc), attribute=name) from None

    # -- certificates ----------------------------------------------------------

    @property
    def value(self) -> bytes | None:
        """The certificate's DER (CKA_VALUE)."""
        return self._octal("CKA_VALUE")

    @property
    def subject(self) -> bytes | None:
        return self._octal("CKA_SUBJECT")

    @property
    def mozilla_ca_policy(self) -> bool | None:
        value = self._typed("CKA_NSS_MOZILLA_CA_POLICY", "CK_BBOOL")
        return None if value is None else bool(value)

    # -- trust -----------------------------------------------------------------

    @property
    def sha1(self) -> bytes | None:
        return self._hash("CKA_CERT_SHA1_HASH", 20)

    @property
    def md5(self) -> bytes | None:
        return self._hash("CKA_CERT_MD5_HASH", 16)

    def _hash(self, name: str, size: int) -> bytes | None:
        value = self._octal(name)
        if value is not None and len(value) != size:
            raise self._fail(f"{name} is {len(value)} bytes, expected {size}", attribute=name)
        return value

    @property
    def trust_server_auth(self) -> str | None:
        return self._trust("CKA_TRUST_SERVER_AUTH")

    @property
    def trust_email_protection(self) -> str | None:
        return self._trust("CKA_TRUST_EMAIL_PROTECTION")

    @property
    def trust_code_signing(self) -> str | None:
        return self._trust("CKA_TRUST_CODE_SIGNING")

    @property
    def step_up(self) -> bool:
        return bool(self._typed("CKA_TRUST_STEP_UP_APPROVED", "CK_BBOOL"))

    def _trust(self, name: str) -> str | None:
        value = self._typed(name, "CK_TRUST")
        if value is not None and value not in TRUST_VALUES:
            raise self._fail(f"{name} has unknown trust value {value}", attribute=name)
        assert value is None or isinstance(value, str)
        return value

    @property
    def is_distrust(self) -> bool:
        """A trust object that distrusts for every purpose (the classic NSS distrust entry)."""
        return self.cls == CKO_NSS_TRUST and (
            self.trust_server_auth == self.trust_email_protection == self.trust_code_signing == CKT_NSS_NOT_TRUSTED
        )

    def attribute_text(self, name: str) -> str | None:
        """The exact lines of one attribute in ``raw`` (through ``END`` for MULTILINE_OCTAL)."""
        lines = self.raw.splitlines(keepends=True)
        for index, line in enumerate(lines):
            if line.startswith(f"{name} "):
                if line.split()[1] != MULTILINE_OCTAL:
                    return line
                end = next(i for i in range(index + 1, len(lines)) if lines[i].rstrip("\r\n") == "END")
                return "".join(lines[index : end + 1])
        return None

    # -- validation ----------------------------------------------------------

    def validate(self) -> None:
        """Decode every typed attribute once, so a malformed value fails here and not later."""
        required: tuple[str, ...] = ()
        if self.cls == CKO_CERTIFICATE:
            required = ("CKA_VALUE", "CKA_SUBJECT", "CKA_ISSUER", "CKA_SERIAL_NUMBER")
        elif self.cls == CKO_NSS_TRUST:
            required = ("CKA_ISSUER", "CKA_SERIAL_NUMBER", "CKA_TRUST_SERVER_AUTH", "CKA_TRUST_EMAIL_PROTECTION", "CKA_TRUST_CODE_SIGNING")
        missing = [name for name in required if name not in self.attributes]
        if missing:
            raise self._fail(f"{self.cls} lacks {', '.join(missing)}")
        for accessor in (
            "issuer", "serial", "value", "subject", "mozilla_ca_policy", "sha1", "md5",
            "trust_server_auth", "trust_email_protection", "trust_code_signing", "step_up",
            "server_distrust_after", "email_distrust_after",
        ):  # fmt: skip
            getattr(self, accessor)


def _check_der_integer(value: bytes, *, fail) -> None:
    if len(value) < 3 or value[0] != 0x02:
        raise fail(f"not a DER INTEGER (tag \\002, length, content): {value[:4].hex()}...")
    length, offset = value[1], 2
    if length & 0x80:
        count = length & 0x7F
        length, offset = int.from_bytes(value[2 : 2 + count], "big"), 2 + count
    if offset + length != len(value):
        raise fail(f"DER INTEGER length {length} does not match its {len(value) - offset} content bytes")


@dataclass(eq=False)
class CertdataFile:
    """A parsed certdata.txt: ``header + "".join(o.raw for o in objects) + trailer`` is the input."""

    header: str
    objects: list[CertdataObject]
    trailer: str = ""
    source: str = "<certdata>"

    def text(self) -> str:
        return self.header + "".join(obj.raw for obj in self.objects) + self.trailer

    @property
    def certificates(self) -> list[CertdataObject]:
        return [obj for obj in self.objects if obj.cls == CKO_CERTIFICATE]

    @property
    def trust_objects(self) -> list[CertdataObject]:
        return [obj for obj in self.objects if obj.cls == CKO_NSS_TRUST]

    def find(self, *, issuer: bytes, serial: bytes, cls: str | None = None) -> list[CertdataObject]:
        """Objects naming this issuer + serial (DER Name, DER INTEGER), optionally of one class."""
        return [
            obj
            for obj in self.objects
            if (cls is None or obj.cls == cls) and obj.issuer_serial == (issuer, serial)
        ]

    def trust_for(self, certificate: CertdataObject) -> CertdataObject | None:
        """The trust object that targets this certificate object, if any."""
        issuer, serial = certificate.issuer, certificate.serial
        if issuer is None or serial is None:
            return None
        found = self.find(issuer=issuer, serial=serial, cls=CKO_NSS_TRUST)
        return found[0] if found else None


# --------------------------------------------------------------------------
# Parsing


def parse(text: str | bytes, *, source: str, validate: bool = True) -> CertdataFile:
    """Parse a whole certdata.txt (header up to and including ``BEGINDATA``, then objects).

    ``validate`` decodes every typed value up front (distrust-after dates,
    hashes, serials, trust values) so that a malformed file fails here; with
    ``validate=False`` those errors surface when the accessor is read.
    """
    text = _as_text(text, source=source)
    lines = text.splitlines(keepends=True)
    begin = next((i for i, line in enumerate(lines) if line.rstrip("\r\n") == "BEGINDATA"), None)
    if begin is None:
        raise CertdataError(f"{source}: no BEGINDATA line, so no objects")
    header = "".join(lines[: begin + 1])
    objects, trailer = _parse_lines(lines, start=begin + 1, source=source, validate=validate)
    return CertdataFile(header=header, objects=objects, trailer=trailer, source=source)


def parse_objects(text: str | bytes, *, source: str, validate: bool = True) -> list[CertdataObject]:
    """Parse a fragment with no header or BEGINDATA line, such as rendered blocks; trailing comments are dropped."""
    text = _as_text(text, source=source)
    objects, _ = _parse_lines(text.splitlines(keepends=True), start=0, source=source, validate=validate)
    return objects


def _as_text(text: str | bytes, *, source: str) -> str:
    if isinstance(text, str):
        return text
    try:
        return text.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = text.count(b"\n", 0, exc.start) + 1
        raise CertdataError(f"{source}: line {line}: not UTF-8 ({exc.reason})") from None


@dataclass
class _Pending:
    """An object being read: where its raw text starts and its last attribute line ends."""

    raw_start: int
    line: int
    cls: str
    attributes: dict[str, Attribute] = field(default_factory=dict)
    attribute_lines: dict[str, int] = field(default_factory=dict)
    end: int = 0


def _parse_lines(
    lines: list[str], *, start: int, source: str, validate: bool
) -> tuple[list[CertdataObject], str]:
    objects: list[CertdataObject] = []
    current: _Pending | None = None
    next_raw_start = start
    i = start
    while i < len(lines):
        content = lines[i].rstrip("\r\n")
        if not content.strip() or content.startswith("#"):
            i += 1
            continue
        number = i + 1

        # `current` is read when fail() is called, within this iteration: the object the bad line is in.
        def fail(what: str, *, at: int = number) -> CertdataError:
            if current is None:  # noqa: B023
                return CertdataError(f"{source}: line {at}: {what}")
            label = _label_near(lines, current.line - 1)  # noqa: B023
            return CertdataError(f"{source}: object {label!r} at line {current.line}: line {at}: {what}")  # noqa: B023

        fields = content.split(None, 2)
        name = fields[0]
        if content == "BEGINDATA":
            raise fail("a second BEGINDATA line")
        if not _ATTRIBUTE_NAME.match(name):
            raise fail(f"expected an attribute line 'CKA_... TYPE VALUE' or a comment, got {content!r}")
        if len(fields) < 2:
            raise fail(f"attribute {name} has no type")
        kind = fields[1]
        if kind not in KNOWN_TYPES:
            raise fail(f"attribute {name} has unknown type {kind!r} (known: {', '.join(sorted(KNOWN_TYPES))})")

        if name == "CKA_CLASS":
            if current is not None:
                objects.append(_finish(current, lines, source=source, validate=validate))
                next_raw_start = current.end
            current = _Pending(raw_start=next_raw_start, line=number, cls="")
        elif current is None:
            raise fail(f"attribute {name} before any CKA_CLASS line")
        if name in current.attributes:
            raise fail(f"attribute {name} repeated (first at line {current.attribute_lines[name]})")

        rest = fields[2] if len(fields) > 2 else ""
        if kind == MULTILINE_OCTAL:
            if rest.strip():
                raise fail(f"{name} MULTILINE_OCTAL takes no value on its own line, got {rest!r}")
            value, i = _read_octal(lines, i + 1, name=name, fail=fail)
        else:
            value = _constant_or_string(name, kind, rest, fail=fail)
            i += 1
        current.attributes[name] = Attribute(kind, value)
        current.attribute_lines[name] = number
        current.end = i
        if name == "CKA_CLASS":
            current.cls = str(value)

    if current is None:
        raise CertdataError(f"{source}: no objects (no CKA_CLASS line)")
    objects.append(_finish(current, lines, source=source, validate=validate))
    return objects, "".join(lines[current.end :])


def _read_octal(lines: list[str], i: int, *, name: str, fail) -> tuple[bytes, int]:
    """Read octal lines from index ``i`` up to ``END``; return the bytes and the index after ``END``."""
    opened_at = i  # 1-based number of the attribute line
    body: list[str] = []
    while i < len(lines):
        content = lines[i].rstrip("\r\n")
        if content == "END":
            return _unescape_octal("".join(body)), i + 1
        if content.startswith("CKA_") or content.startswith("#") or not content.strip():
            raise fail(f"{name} MULTILINE_OCTAL is not terminated by END before line {i + 1}", at=opened_at)
        if not _OCTAL_LINE.match(content):
            bad = re.sub(r"(?:\\[0-3][0-7][0-7])*", "", content, count=1)[:12]
            raise fail(f"{name}: bad octal escape near {bad!r} (each byte must be \\ooo, 000-377)", at=i + 1)
        body.append(content)
        i += 1
    raise fail(f"{name} MULTILINE_OCTAL is not terminated by END (end of file)", at=opened_at)


def _constant_or_string(name: str, kind: str, rest: str, *, fail) -> str | bool:
    if kind == UTF8:
        stripped = rest.strip()
        if len(stripped) < 2 or not (stripped.startswith('"') and stripped.endswith('"')):
            raise fail(f"{name} UTF8 value must be a double-quoted string, got {rest!r}")
        try:
            return _decode_utf8_literal(stripped[1:-1])
        except (ValueError, UnicodeDecodeError) as exc:
            raise fail(f"{name} UTF8 value {stripped!r}: {exc}") from None
    tokens = rest.split()
    if len(tokens) != 1:
        raise fail(f"{name} {kind} takes exactly one constant, got {rest!r}")
    constant = tokens[0]
    if kind == "CK_BBOOL":
        if constant not in ("CK_TRUE", "CK_FALSE"):
            raise fail(f"{name} CK_BBOOL must be CK_TRUE or CK_FALSE, got {constant!r}")
        return constant == "CK_TRUE"
    prefix = _CONSTANT_TYPES[kind]
    if not re.fullmatch(re.escape(prefix) + r"[A-Z0-9_]+", constant):
        raise fail(f"{name} {kind} must be a {prefix}* constant, got {constant!r}")
    return constant


def _finish(pending: _Pending, lines: list[str], *, source: str, validate: bool) -> CertdataObject:
    obj = CertdataObject(
        cls=pending.cls,
        raw="".join(lines[pending.raw_start : pending.end]),
        line=pending.line,
        attributes=pending.attributes,
        attribute_lines=pending.attribute_lines,
        source=source,
    )
    if validate:
        obj.validate()
    return obj


def _label_near(lines: list[str], index: int) -> str | None:
    """Best-effort label of the object starting at ``index``, for messages about a half-read object."""
    for line in lines[index + 1 :]:
        if line.startswith("CKA_CLASS"):
            break
        match = _LABEL_LINE.match(line.rstrip("\r\n"))
        if match:
            try:
                return _decode_utf8_literal(match.group(1))
            except (ValueError, UnicodeDecodeError):
                return match.group(1)
    return None


# --------------------------------------------------------------------------
# Writing new blocks, in the style of the newest roots in NSS (v2.86)

def _fingerprint(digest: bytes) -> str:
    return ":".join(f"{byte:02X}" for byte in digest)


def _attr_line(name: str, kind: str, value: str) -> str:
    return f"{name} {kind} {value}\n"


def _octal_attr(name: str, data: bytes) -> str:
    if not data:
        raise CertdataError(f"{name}: an empty value cannot be written as MULTILINE_OCTAL")
    return f"{name} {MULTILINE_OCTAL}\n{encode_octal(data)}END\n"


def _bool(value: bool) -> str:
    return "CK_TRUE" if value else "CK_FALSE"


def _distrust_after_attr(name: str, comment: str, when: datetime | None) -> str:
    if when is None:
        return _attr_line(name, "CK_BBOOL", "CK_FALSE")
    return f"# For {comment} Distrust After: {nss_time_text(_utc(when))}\n" + _octal_attr(name, utctime_bytes(when))


def _common_head(cls: str, label: str) -> str:
    return (
        _attr_line("CKA_CLASS", "CK_OBJECT_CLASS", cls)
        + _attr_line("CKA_TOKEN", "CK_BBOOL", "CK_TRUE")
        + _attr_line("CKA_PRIVATE", "CK_BBOOL", "CK_FALSE")
        + _attr_line("CKA_MODIFIABLE", "CK_BBOOL", "CK_FALSE")
        + _attr_line("CKA_LABEL", UTF8, _encode_utf8_literal(label))
    )


def _comment_block(title: str, comment_lines: Sequence[str]) -> str:
    lines = [title, *comment_lines]
    for line in lines:
        if "\n" in line or "\r" in line:
            raise CertdataError(f"comment line {line!r} contains a line break")
    return "".join(f"# {line}\n" if line else "#\n" for line in lines)


def certificate_comment_lines(cert: ParsedCertificate) -> list[str]:
    """The lines NSS writes above a certificate and its trust object (without the ``# `` prefix)."""
    return [
        f"Issuer: {nss_name_text(cert.issuer_der)}",
        nss_serial_text(cert).removeprefix("# "),
        f"Subject: {nss_name_text(cert.subject_der)}",
        f"Not Valid Before: {nss_time_text(cert.not_before)}",
        f"Not Valid After : {nss_time_text(cert.not_after)}",
        f"Fingerprint (SHA-256): {_fingerprint(_digest(cert.sha256))}",
        f"Fingerprint (SHA1): {_fingerprint(_digest(cert.sha1))}",
    ]


def _digest(value: bytes | str) -> bytes:
    """``ParsedCertificate`` keeps digests as uppercase hex; certdata needs the bytes."""
    return value if isinstance(value, bytes) else bytes.fromhex(value)


def render_certificate_object(
    cert: ParsedCertificate,
    *,
    label: str | None = None,
    server_distrust_after: datetime | None = None,
    email_distrust_after: datetime | None = None,
    mozilla_ca_policy: bool = True,
) -> str:
    """A CKO_CERTIFICATE block, leading blank line and comments included, ready to append.

    ``label`` defaults to ``cert.label``; NSS labels are chosen by hand, so pass
    the agreed one when it differs.
    """
    label = cert.label if label is None else label
    if not label:
        raise CertdataError("render_certificate_object: the certificate has no label; pass label=")
    return (
        "\n#\n"
        + _comment_block(f'Certificate "{label}"', ["", *certificate_comment_lines(cert)])
        + _common_head(CKO_CERTIFICATE, label)
        + _attr_line("CKA_CERTIFICATE_TYPE", "CK_CERTIFICATE_TYPE", "CKC_X_509")
        + _octal_attr("CKA_SUBJECT", cert.subject_der)
        + _attr_line("CKA_ID", UTF8, '"0"')
        + _octal_attr("CKA_ISSUER", cert.issuer_der)
        + _octal_attr("CKA_SERIAL_NUMBER", cert.serial_der)
        + _octal_attr("CKA_VALUE", cert.der)
        + _attr_line("CKA_NSS_MOZILLA_CA_POLICY", "CK_BBOOL", _bool(mozilla_ca_policy))
        + _distrust_after_attr("CKA_NSS_SERVER_DISTRUST_AFTER", "Server", server_distrust_after)
        + _distrust_after_attr("CKA_NSS_EMAIL_DISTRUST_AFTER", "Email", email_distrust_after)
    )


def render_trust_object(
    *,
    label: str,
    issuer_der: bytes,
    serial_der: bytes,
    sha1: bytes | None,
    md5: bytes | None,
    server: str,
    email: str,
    code: str,
    step_up: bool = False,
    comment_lines: Sequence[str] = (),
    title: str | None = None,
    server_distrust_after: datetime | None = None,
    email_distrust_after: datetime | None = None,
) -> str:
    """A CKO_NSS_TRUST block, leading blank line and comments included, ready to append.

    ``comment_lines`` go below the title line, each prefixed with ``# `` (see
    :func:`certificate_comment_lines`). Distrust-after lines are written only
    when given: on a trust object NSS carries them only in the rare case where
    the certificate object does not (Izenpe in v2.86).
    """
    for purpose, value in (("server", server), ("email", email), ("code", code)):
        if value not in TRUST_VALUES:
            raise CertdataError(f"trust object {label!r}: {purpose}={value!r} is not one of {', '.join(sorted(TRUST_VALUES))}")
    _check_der_integer(serial_der, fail=lambda what: CertdataError(f"trust object {label!r}: serial_der: {what}"))
    for name, digest, size in (("sha1", sha1, 20), ("md5", md5, 16)):
        if digest is not None and len(digest) != size:
            raise CertdataError(f"trust object {label!r}: {name} is {len(digest)} bytes, expected {size}")
    text = "\n" + _comment_block(title or f'Trust for "{label}"', comment_lines) + _common_head(CKO_NSS_TRUST, label)
    if sha1 is not None:
        text += _octal_attr("CKA_CERT_SHA1_HASH", sha1)
    if md5 is not None:
        text += _octal_attr("CKA_CERT_MD5_HASH", md5)
    text += _octal_attr("CKA_ISSUER", issuer_der) + _octal_attr("CKA_SERIAL_NUMBER", serial_der)
    if server_distrust_after is not None:
        text += _distrust_after_attr("CKA_NSS_SERVER_DISTRUST_AFTER", "Server", server_distrust_after)
    if email_distrust_after is not None:
        text += _distrust_after_attr("CKA_NSS_EMAIL_DISTRUST_AFTER", "Email", email_distrust_after)
    return (
        text
        + _attr_line("CKA_TRUST_SERVER_AUTH", "CK_TRUST", server)
        + _attr_line("CKA_TRUST_EMAIL_PROTECTION", "CK_TRUST", email)
        + _attr_line("CKA_TRUST_CODE_SIGNING", "CK_TRUST", code)
        + _attr_line("CKA_TRUST_STEP_UP_APPROVED", "CK_BBOOL", _bool(step_up))
    )


def render_trust_for_certificate(
    cert: ParsedCertificate,
    *,
    label: str | None = None,
    server: str,
    email: str,
    code: str,
    step_up: bool = False,
    server_distrust_after: datetime | None = None,
    email_distrust_after: datetime | None = None,
) -> str:
    """The trust object NSS writes right after a certificate object, hashes and comments included."""
    label = cert.label if label is None else label
    if not label:
        raise CertdataError("render_trust_for_certificate: the certificate has no label; pass label=")
    return render_trust_object(
        label=label,
        issuer_der=cert.issuer_der,
        serial_der=cert.serial_der,
        sha1=_digest(cert.sha1),
        md5=_digest(cert.md5),
        server=server,
        email=email,
        code=code,
        step_up=step_up,
        comment_lines=certificate_comment_lines(cert),
        server_distrust_after=server_distrust_after,
        email_distrust_after=email_distrust_after,
    )


def render_distrust_trust_object(
    *,
    label: str,
    issuer_der: bytes,
    serial_der: bytes,
    sha1: bytes | None = None,
    md5: bytes | None = None,
    comment_lines: Sequence[str] = (),
    bug: int | str | None = None,
    title: str | None = None,
) -> str:
    """The classic NSS distrust entry: every purpose CKT_NSS_NOT_TRUSTED.

    Without hashes it is a "trust-only" entry (issuer + serial), titled as NSS
    titles those: ``# Explicitly Distrust "<label>", Bug <n>``.
    """
    if title is None:
        title = f'Explicitly Distrust "{label}"' + (f", Bug {bug}" if bug is not None else "")
    return render_trust_object(
        label=label,
        issuer_der=issuer_der,
        serial_der=serial_der,
        sha1=sha1,
        md5=md5,
        server=CKT_NSS_NOT_TRUSTED,
        email=CKT_NSS_NOT_TRUSTED,
        code=CKT_NSS_NOT_TRUSTED,
        comment_lines=comment_lines,
        title=title,
    )


def render_distrust_for_certificate(
    cert: ParsedCertificate,
    *,
    label: str | None = None,
    with_hashes: bool = True,
    bug: int | str | None = None,
) -> str:
    """A distrust trust object for a certificate the registry holds (hashes optional)."""
    label = cert.label if label is None else label
    if not label:
        raise CertdataError("render_distrust_for_certificate: the certificate has no label; pass label=")
    return render_distrust_trust_object(
        label=label,
        issuer_der=cert.issuer_der,
        serial_der=cert.serial_der,
        sha1=_digest(cert.sha1) if with_hashes else None,
        md5=_digest(cert.md5) if with_hashes else None,
        comment_lines=certificate_comment_lines(cert),
        bug=bug,
    )


# --------------------------------------------------------------------------
# Editing a file


def replace_or_append(file: CertdataFile, *blocks: str) -> str:
    """New certdata text: each block replaces the trust object with the same issuer + serial,
    or (certificates, new trust objects) is appended before the trailer.

    A certificate block whose issuer + serial already has a certificate object
    is rejected, since NSS would then hold two copies of the root.
    """
    raws = [obj.raw for obj in file.objects]
    appended: list[str] = []
    for number, block in enumerate(blocks, start=1):
        parsed = parse_objects(block, source=f"new block {number}")
        for obj in parsed:
            key = obj.issuer_serial
            if obj.cls == CKO_NSS_TRUST and key is not None:
                index = _index_of(file, key, CKO_NSS_TRUST)
                if index is not None:
                    raws[index] = obj.raw
                    continue
            if obj.cls == CKO_CERTIFICATE and key is not None and _index_of(file, key, CKO_CERTIFICATE) is not None:
                raise CertdataError(
                    f"{file.source}: new certificate {obj.label!r} duplicates an existing certificate object "
                    "with the same issuer and serial"
                )
            appended.append(obj.raw)
    return file.header + "".join(raws) + "".join(appended) + file.trailer


def _index_of(file: CertdataFile, key: tuple[bytes, bytes], cls: str) -> int | None:
    for index, obj in enumerate(file.objects):
        if obj.cls == cls and obj.issuer_serial == key:
            return index
    return None


def unified_diff(
    old_text: str,
    new_text: str,
    *,
    old_name: str = "a/lib/ckfw/builtins/certdata.txt",
    new_name: str = "b/lib/ckfw/builtins/certdata.txt",
    context: int = 3,
) -> str:
    """A unified diff of two certdata texts, as ``diff -u`` / ``hg diff`` would attach to a bug."""
    lines = difflib.unified_diff(
        old_text.splitlines(keepends=True),
        new_text.splitlines(keepends=True),
        fromfile=old_name,
        tofile=new_name,
        n=context,
    )
    out = []
    for line in lines:
        out.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return "".join(out)
