"""What an attachment is, judged from its bytes: the content type is sniffed, never taken from the client.

Recognised by magic numbers: PDF, PNG, JPEG, GIF, ZIP, gzip; X.509 certificates as DER (parsed by
pki.x509) or PEM; text that decodes as UTF-8 without control characters is CSV (when its first lines
have the same number of commas, at least one) or plain text. Anything else is
application/octet-stream. Pure: no Django.
"""

from __future__ import annotations

import unicodedata

from pki import x509
from pki.errors import CertificateError

OCTET_STREAM = "application/octet-stream"
PDF = "application/pdf"
PNG = "image/png"
JPEG = "image/jpeg"
GIF = "image/gif"
ZIP = "application/zip"
GZIP = "application/gzip"
DER_CERTIFICATE = "application/pkix-cert"
PEM_FILE = "application/x-pem-file"
CSV = "text/csv; charset=utf-8"
TEXT = "text/plain; charset=utf-8"

LABELS = {
    PDF: "PDF document",
    PNG: "PNG image",
    JPEG: "JPEG image",
    GIF: "GIF image",
    ZIP: "ZIP archive",
    GZIP: "gzip archive",
    DER_CERTIFICATE: "Certificate (DER)",
    PEM_FILE: "PEM file (certificates or keys)",
    CSV: "CSV table",
    TEXT: "Plain text",
    OCTET_STREAM: "Binary data",
}

_MAGIC = (
    (b"%PDF-", PDF),
    (b"\x89PNG\r\n\x1a\n", PNG),
    (b"\xff\xd8\xff", JPEG),
    (b"GIF87a", GIF),
    (b"GIF89a", GIF),
    (b"PK\x03\x04", ZIP),
    (b"PK\x05\x06", ZIP),  # an empty archive
    (b"\x1f\x8b", GZIP),
)
_TEXT_CONTROLS_ALLOWED = {"\t", "\n", "\r", "\f"}
FILENAME_MAX = 255


def sniff(data: bytes) -> str:
    """The content type of `data`, from its bytes alone."""
    for magic, content_type in _MAGIC:
        if data.startswith(magic):
            return content_type
    if data[:1] == b"\x30":
        try:
            x509.load_der(data, source="attachment")
        except (CertificateError, ValueError, IndexError):
            pass
        else:
            return DER_CERTIFICATE
    text = _utf8_text(data)
    if text is None:
        return OCTET_STREAM
    if text.lstrip().startswith("-----BEGIN "):
        return PEM_FILE
    return CSV if _looks_like_csv(text) else TEXT


def _utf8_text(data: bytes) -> str | None:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    text = text.removeprefix("\ufeff")
    for ch in text:
        if ch not in _TEXT_CONTROLS_ALLOWED and unicodedata.category(ch) == "Cc":
            return None
    return text


def _looks_like_csv(text: str) -> bool:
    lines = [line for line in text.splitlines()[:20] if line.strip()]
    if len(lines) < 2:
        return False
    counts = {line.count(",") for line in lines}
    return len(counts) == 1 and counts.pop() >= 1


def label(content_type: str) -> str:
    """What a person reads for a stored content type."""
    return LABELS.get(content_type, content_type)


def is_text(content_type: str) -> bool:
    return content_type in (CSV, TEXT, PEM_FILE)


def clean_filename(name: str) -> str:
    """The file's own name without any folder, control characters or surrounding blanks ('' if none is left)."""
    name = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip().strip(".")
    if len(name) > FILENAME_MAX:
        stem, dot, ext = name.rpartition(".")
        keep = ext if dot and len(ext) <= 16 else ""
        name = (name[: FILENAME_MAX - len(keep) - 1] + "." + keep) if keep else name[:FILENAME_MAX]
    return name
