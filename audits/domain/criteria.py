"""Audit criteria, the families they belong to, and parsers for CCADB audit text.

Pure domain code: no Django.

A *family* is the unit in which audit periods must be contiguous for a CA:
``ca`` (the general CA criteria), ``netsec`` (network security), ``tls-baseline``
(TLS Baseline Requirements), ``ev`` (EV Guidelines) and ``smime`` (S/MIME
Baseline Requirements). CCADB keeps one set of audit columns per family, so a
CCADB import knows the family from the column and only the scheme from the
"Audit Type" cell ("WebTrust", "ETSI EN 319 411-1", ...).

ETSI EN 319 403 is the standard conformity assessment bodies are accredited
against; it never names what a CA was audited for, so it is rejected.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

__all__ = [
    "AuditError",
    "CCADB_AUDIT_COLUMN_FAMILIES",
    "CCADB_AUDIT_FIELDS",
    "CCADB_OTHER_AUDIT_COLUMNS",
    "CRITERIA",
    "Criterion",
    "CriterionMatch",
    "FAMILIES",
    "ETSI_POLICY_FAMILIES",
    "ccadb_audit_headers",
    "ccadb_family_for_header",
    "criterion",
    "extract_fingerprints",
    "parse_ccadb_date",
    "parse_criteria",
    "validate_fingerprint",
]


class AuditError(ValueError):
    """Bad audit input: the message names the field, text or object at fault."""


FAMILIES: tuple[str, ...] = ("ca", "netsec", "tls-baseline", "ev", "smime")


@dataclass(frozen=True)
class Criterion:
    key: str
    label: str
    scheme: str  # "webtrust" | "etsi"
    standard: str
    family: str


def _c(key: str, label: str, scheme: str, standard: str, family: str) -> Criterion:
    return Criterion(key=key, label=label, scheme=scheme, standard=standard, family=family)


_411_1 = "ETSI EN 319 411-1"
_411_2 = "ETSI EN 319 411-2"
_411_6 = "ETSI TS 119 411-6"

CRITERIA: dict[str, Criterion] = {
    c.key: c
    for c in (
        _c("webtrust-ca", "WebTrust for CAs", "webtrust", "WebTrust", "ca"),
        _c("webtrust-netsec", "WebTrust for CAs - Network Security", "webtrust", "WebTrust", "netsec"),
        _c("webtrust-tls-br", "WebTrust for CAs - SSL/TLS Baseline Requirements", "webtrust", "WebTrust",
           "tls-baseline"),
        # Before WebTrust v2.7 network security was audited inside the SSL Baseline
        # report ("SSL Baseline with Network Security"); CCADB files it as TLS BR.
        _c("webtrust-tls-br-netsec", "WebTrust for CAs - SSL Baseline with Network Security", "webtrust",
           "WebTrust", "tls-baseline"),
        _c("webtrust-ev", "WebTrust for CAs - Extended Validation SSL", "webtrust", "WebTrust", "ev"),
        _c("webtrust-smime", "WebTrust for CAs - S/MIME Baseline Requirements", "webtrust", "WebTrust", "smime"),
        _c("etsi-en-319-411-1-ca", f"{_411_1} (LCP, NCP, NCP+)", "etsi", _411_1, "ca"),
        _c("etsi-en-319-411-1-netsec", f"{_411_1} (network security)", "etsi", _411_1, "netsec"),
        _c("etsi-en-319-411-1-tls-baseline", f"{_411_1} (DVCP, OVCP)", "etsi", _411_1, "tls-baseline"),
        _c("etsi-en-319-411-1-ev", f"{_411_1} (EVCP)", "etsi", _411_1, "ev"),
        # S/MIME audits under ETSI used EN 319 411-1 LCP/NCP/NCP+ before TS 119 411-6.
        _c("etsi-en-319-411-1-smime", f"{_411_1} (LCP, NCP, NCP+ for S/MIME)", "etsi", _411_1, "smime"),
        _c("etsi-en-319-411-2-ca", f"{_411_2} (QCP-n, QCP-l)", "etsi", _411_2, "ca"),
        _c("etsi-en-319-411-2-tls-baseline", f"{_411_2} (QNCP-w)", "etsi", _411_2, "tls-baseline"),
        _c("etsi-en-319-411-2-ev", f"{_411_2} (QCP-w)", "etsi", _411_2, "ev"),
        _c("etsi-ts-119-411-6", f"{_411_6} (S/MIME)", "etsi", _411_6, "smime"),
    )
}

# The family a policy implies when no CCADB column says which family is meant.
ETSI_POLICY_FAMILIES: dict[str, tuple[str, str]] = {
    "DVCP": (_411_1, "tls-baseline"),
    "OVCP": (_411_1, "tls-baseline"),
    "EVCP": (_411_1, "ev"),
    "LCP": (_411_1, "ca"),
    "NCP": (_411_1, "ca"),
    "NCP+": (_411_1, "ca"),
    "QCP-w": (_411_2, "ev"),
    "QEVCP-w": (_411_2, "ev"),
    "QNCP-w": (_411_2, "tls-baseline"),
    "QNCP-w-gen": (_411_2, "tls-baseline"),
    "QCP-n": (_411_2, "ca"),
    "QCP-l": (_411_2, "ca"),
    "QCP-n-qscd": (_411_2, "ca"),
    "QCP-l-qscd": (_411_2, "ca"),
}


@dataclass(frozen=True)
class CriterionMatch:
    criterion: Criterion
    policies: tuple[str, ...] = ()


def criterion(key: str) -> Criterion:
    try:
        return CRITERIA[key]
    except KeyError:
        raise AuditError(f"unknown audit criterion key {key!r}") from None


def _criterion_for(standard: str, family: str, *, text: str) -> Criterion:
    for c in CRITERIA.values():
        if c.standard == standard and c.family == family:
            return c
    raise AuditError(f"audit type {text!r}: {standard} has no criteria for the {family!r} family")


def _check_family(family: str | None) -> None:
    if family is not None and family not in FAMILIES:
        raise AuditError(f"unknown audit family {family!r}; expected one of {', '.join(FAMILIES)}")


# --- free-text parsing -----------------------------------------------------

_WEBTRUST = r"web\s*trust"
_ETSI_NUMBER = (
    r"(?:etsi\s+)?(?:(?:en|ts)\s*)?(?<!\d)(?P<series>319|119)\s*(?P<doc>411|403)(?:\s*-\s*(?P<part>\d))?(?!\d)"
)
_MENTION = re.compile(rf"(?P<webtrust>{_WEBTRUST})|{_ETSI_NUMBER}", re.IGNORECASE)
_POLICY = re.compile(
    r"(?<![\w-])(QCP-[nl]-qscd|QNCP-w-gen|QEVCP-w|QNCP-w|QCP-[wnl]|DVCP|OVCP|EVCP|LCP|NCP\+|NCP)(?![\w+-])",
    re.IGNORECASE,
)
_CANONICAL_POLICY = {p.lower(): p for p in ETSI_POLICY_FAMILIES}


def _normalize(text: str) -> str:
    # CCADB and audit reports use en/em dashes and non-breaking spaces freely.
    text = text.replace("\u2013", "-").replace("\u2014", "-").replace("\u00a0", " ")
    return re.sub(r"\s+", " ", text).strip()


def _webtrust_family(segment: str) -> str | None:
    s = segment.lower()
    if "code signing" in s:
        raise AuditError(f"audit type {segment!r}: code signing audits are outside Rootwatch's families")
    if "s/mime" in s or "smime" in s:
        return "smime"
    if re.search(r"\bev\b|extended validation", s):
        return "ev"
    tls = re.search(r"baseline|\bssl\b|\btls\b|\bbr\b", s)
    netsec = re.search(r"network security|netsec", s)
    if tls and netsec:
        return "tls-baseline+netsec"
    if tls:
        return "tls-baseline"
    if netsec:
        return "netsec"
    if re.search(r"certification authorit|\bfor cas?\b", s):
        return "ca"
    return None


_WEBTRUST_KEYS = {"ca": "webtrust-ca", "netsec": "webtrust-netsec", "tls-baseline": "webtrust-tls-br",
                  "ev": "webtrust-ev", "smime": "webtrust-smime"}


def _webtrust_match(segment: str, *, family: str | None, text: str) -> CriterionMatch:
    named = _webtrust_family(segment)
    if named is None:
        if family is None:
            raise AuditError(
                f"audit type {text!r} names only the WebTrust scheme; give the family (CCADB column) it was filed under"
            )
        return CriterionMatch(CRITERIA[_WEBTRUST_KEYS[family]])
    if named == "tls-baseline+netsec":
        # One report covering two families: under the NetSec column it stands for its netsec part.
        if family == "netsec":
            return CriterionMatch(CRITERIA["webtrust-netsec"])
        named, key = "tls-baseline", "webtrust-tls-br-netsec"
    else:
        key = _WEBTRUST_KEYS[named]
    if family is not None and named != family:
        raise AuditError(f"audit type {text!r} names a {named!r} criterion but was filed under {family!r}")
    return CriterionMatch(CRITERIA[key])


def _etsi_standard(series: str, part: str | None, policies: tuple[str, ...], *, text: str) -> str:
    if series == "119":
        return _411_6
    if part in ("1", "2"):
        return f"ETSI EN 319 411-{part}"
    if part is not None:
        raise AuditError(f"audit type {text!r}: ETSI EN 319 411-{part} is not an audit criterion")
    # Bare "EN 319 411": the part follows from the policies, else 411-1 (which 411-2 builds on).
    parts = {ETSI_POLICY_FAMILIES[p][0] for p in policies}
    if len(parts) > 1:
        raise AuditError(f"audit type {text!r}: policies {', '.join(policies)} belong to different ETSI parts")
    return parts.pop() if parts else _411_1


def _etsi_matches(
    segment: str, m: re.Match[str], *, family: str | None, text: str
) -> list[CriterionMatch]:
    policies = tuple(dict.fromkeys(_CANONICAL_POLICY[p.lower()] for p in _POLICY.findall(segment)))
    standard = _etsi_standard(m.group("series"), m.group("part"), policies, text=text)
    for p in policies:
        if standard != _411_6 and ETSI_POLICY_FAMILIES[p][0] != standard:
            raise AuditError(f"audit type {text!r}: policy {p} is not defined by {standard}")
    if family is not None:
        return [CriterionMatch(_criterion_for(standard, family, text=text), policies)]
    if standard == _411_6:
        return [CriterionMatch(CRITERIA["etsi-ts-119-411-6"], policies)]
    if not policies:
        raise AuditError(
            f"audit type {text!r} names {standard} without policies; give the policies or the family"
        )
    by_family: dict[str, list[str]] = {}
    for p in policies:
        by_family.setdefault(ETSI_POLICY_FAMILIES[p][1], []).append(p)
    return [CriterionMatch(_criterion_for(standard, fam, text=text), tuple(ps)) for fam, ps in by_family.items()]


def parse_criteria(text: str, *, family: str | None = None) -> list[CriterionMatch]:
    """Parse the audit criteria named in free text (CCADB "Audit Type" cells, statements).

    ``family`` is the family the text was filed under (the CCADB column); with it, a
    bare scheme ("WebTrust", "ETSI EN 319 411-1") resolves to that family's criterion.
    Each mention of WebTrust or an ETSI standard number starts a segment; policies
    named in a segment belong to the ETSI standard that starts it.
    """
    _check_family(family)
    if not isinstance(text, str) or not text.strip():
        raise AuditError(f"audit type {text!r} is empty")
    norm = _normalize(text)
    mentions = list(_MENTION.finditer(norm))
    criteria = [m for m in mentions if m.group("webtrust") or m.group("doc") == "411"]
    if not criteria:
        if any(m.group("doc") == "403" for m in mentions):
            raise AuditError(
                f"audit type {text!r}: ETSI EN 319 403 is the auditor's accreditation standard, not an audit criterion"
            )
        raise AuditError(f"audit type {text!r} names no known audit criterion (WebTrust or ETSI 319/119 411)")
    found: list[CriterionMatch] = []
    for i, m in enumerate(criteria):
        end = criteria[i + 1].start() if i + 1 < len(criteria) else len(norm)
        segment = norm[m.start():end]
        if m.group("webtrust"):
            found.append(_webtrust_match(segment, family=family, text=text))
        else:
            found.extend(_etsi_matches(segment, m, family=family, text=text))
    return list(dict.fromkeys(found))


# --- CCADB columns -----------------------------------------------------------

# "AllCertificateRecordsCSVFormat" names each audit column "<prefix> Audit <field>".
CCADB_AUDIT_COLUMN_FAMILIES: dict[str, str] = {
    "Standard": "ca",
    "NetSec": "netsec",
    "TLS BR": "tls-baseline",
    "TLS EVG": "ev",
    "S/MIME BR": "smime",
}
CCADB_OTHER_AUDIT_COLUMNS: tuple[str, ...] = ("Code Signing", "VMC")
CCADB_AUDIT_FIELDS: tuple[str, ...] = ("URL", "Type", "Statement Date", "Period Start Date", "Period End Date")
# "IncludedCACertificateReportPEMCSV" shortens a few of them.
_CCADB_SHORT_FIELDS = {"": "URL", "Statement Dt": "Statement Date"}


def ccadb_audit_headers(prefix: str) -> dict[str, str]:
    """The AllCertificateRecordsCSVFormat header for each audit field of one family."""
    if prefix not in CCADB_AUDIT_COLUMN_FAMILIES:
        raise AuditError(f"unknown CCADB audit column prefix {prefix!r}")
    return {f: f"{prefix} Audit {f}" for f in CCADB_AUDIT_FIELDS}


_HEADER = re.compile(r"^(?P<prefix>.+?) Audit(?: (?P<field>.+))?$")


def ccadb_family_for_header(header: str) -> tuple[str, str] | None:
    """(family, field) for a CCADB audit header, None for any other header.

    Handles both report formats: "TLS BR Audit Type" and "Standard Audit Statement Dt".
    Code signing and VMC columns give None: they are outside Rootwatch's families.
    """
    m = _HEADER.match(header.strip())
    if not m:
        return None
    prefix, field = m.group("prefix"), m.group("field") or ""
    field = _CCADB_SHORT_FIELDS.get(field, field)
    if prefix in CCADB_OTHER_AUDIT_COLUMNS or field not in CCADB_AUDIT_FIELDS:
        return None
    family = CCADB_AUDIT_COLUMN_FAMILIES.get(prefix)
    return (family, field) if family else None


def parse_ccadb_date(text: str, *, field: str = "date") -> date | None:
    """CCADB writes dates as 2024.11.20; empty cells mean "none"."""
    text = text.strip()
    if not text:
        return None
    m = re.fullmatch(r"(\d{4})[.-](\d{2})[.-](\d{2})", text)
    if not m:
        raise AuditError(f"{field}: {text!r} is not a CCADB date (YYYY.MM.DD)")
    try:
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError as exc:
        raise AuditError(f"{field}: {text!r} is not a valid date ({exc})") from None


# --- fingerprints -------------------------------------------------------------

_HEX = "0123456789abcdefABCDEF"
_FINGERPRINT = re.compile(r"[0-9A-Fa-f]{2}(?P<sep>[: ]?)(?:[0-9A-Fa-f]{2}(?P=sep)){30}[0-9A-Fa-f]{2}")


def _pair_at(text: str, i: int) -> bool:
    """A free-standing hex byte pair starts at i (not the tail of a word like "and")."""
    return (
        0 <= i
        and i + 2 <= len(text)
        and all(ch in _HEX for ch in text[i:i + 2])
        and (i == 0 or not text[i - 1].isalnum())
        and (i + 2 == len(text) or not text[i + 2].isalnum())
    )


def _is_whole(text: str, start: int, end: int, sep: str) -> bool:
    # A run of 64 hex digits inside a longer run (a SHA-512, a 33-byte value) is not a SHA-256.
    before = text[start - 1] if start > 0 else " "
    after = text[end] if end < len(text) else " "
    if before in _HEX or after in _HEX:
        return False
    if sep and before == sep and _pair_at(text, start - 3):
        return False
    return not (sep and after == sep and _pair_at(text, end + 1))


def extract_fingerprints(text: str) -> list[str]:
    """SHA-256 fingerprints in pasted text, uppercase without separators, first-seen order.

    Byte pairs may be joined directly or by one consistent separator (colon or space).
    """
    found: dict[str, None] = {}
    pos = 0
    while (m := _FINGERPRINT.search(text, pos)) is not None:
        if _is_whole(text, m.start(), m.end(), m.group("sep")):
            found[re.sub(r"[: ]", "", m.group(0)).upper()] = None
            pos = m.end()
        else:
            pos = m.start() + 1
    return list(found)


def validate_fingerprint(value: object, *, field: str = "fingerprint") -> str:
    """Return the fingerprint uppercased; anything but 64 hex digits raises AuditError."""
    if not isinstance(value, str) or not re.fullmatch(r"[0-9A-Fa-f]{64}", value):
        raise AuditError(f"{field}: {value!r} is not a SHA-256 fingerprint (64 hex digits)")
    return value.upper()
