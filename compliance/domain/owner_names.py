"""Which CA owner of the registry a Bugzilla bug's title names. Pure: no Django.

Bug titles start with the name a CA goes by ("Let's Encrypt: ...", "GlobalSign: ..."); the registry
holds CCADB's owner names ("Internet Security Research Group", "GlobalSign nv-sa"). `OwnerMatcher`
compares keys made by `normalise`:

1. Accents, case, quotes and punctuation are dropped ("D-TRUST" = "D-Trust", "Certicámara" =
   "Certicamara", "Let's" = "Lets"), then trailing legal forms (Inc., LLC, Ltd, GmbH, AG, S.A.,
   nv-sa, Co., Corporation ...): "GlobalSign nv-sa" and "GlobalSign" share the key "globalsign".
2. Besides its whole name, an owner is known by the short names CCADB writes in parentheses and by
   the comma- or slash-separated parts of its name: "China Financial Certification Authority
   (CFCA)" by "cfca", "Government of The Netherlands, PKIoverheid (Logius)" by "pkioverheid" and
   "logius". Such a derived key shared by two owners is dropped, and never outranks a whole name.
3. Aliases: the brand names bugs use that no rule derives. The import reads them from the
   staff-edited table compliance.OwnerAlias (compliance.actions.owner_aliases), seeded by migration
   compliance 0006 with `ALIASES` below, each checked against the real data (compliance/demo_data's
   Bugzilla dump, registry/demo_data's CCADB owner report). An alias applies only while its owner is
   in the registry.
4. A prefix naming two parties ("DigiCert / Verizon", "Dhimyotis / Certigna") is tried whole, then
   part by part, left to right.

Anything else is left unmatched, to be listed for staff: never guessed.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field

# Brand name in bug titles -> the CA owner's name in CCADB. The comment gives the bugs of the
# 1,688-bug dump whose prefix is (or starts with) that name, and why the two names differ.
ALIASES: dict[str, str] = {
    "Let's Encrypt": "Internet Security Research Group",  # 38: ISRG operates Let's Encrypt
    "IdenTrust": "IdenTrust Services, LLC",  # 68
    "Camerfirma": "AC Camerfirma, S.A.",  # 46
    "Asseco DS": "Asseco Data Systems S.A. (previously Unizeto Certum)",  # 45 ("Asseco DS / Certum")
    "Certum": "Asseco Data Systems S.A. (previously Unizeto Certum)",
    "Microsoft PKI Services": "Microsoft Corporation",  # 43
    "Microsoft DSRE PKI": "Microsoft Corporation",  # 3
    "Telia": "Telia Company",  # 37
    "Firmaprofesional": "Autoridad de Certificacion Firmaprofesional",  # 37 (with "FIRMAPROFESIONAL", "... / SIGNE")
    "SECOM": "SECOM Trust Systems Co., Ltd.",  # 35
    "SHECA": "Shanghai Electronic Certification Authority Co., Ltd.",  # 24
    "Certinomis": "Docaposte Certinomis SAS",  # 20 (with "Certinomis / Docapost")
    "WISeKey": "OISTE",  # 16: WISeKey runs the OISTE Foundation's roots
    "Comodo": "Sectigo",  # 16: Comodo CA was renamed Sectigo in 2018
    "Telekom Security": "Deutsche Telekom Security GmbH",  # 15
    "T-Systems": "Deutsche Telekom Security GmbH",  # 15: T-Systems' Trust Center became Telekom Security (2020)
    "SecureTrust": "Viking Cloud, Inc.",  # 12: Trustwave's SecureTrust CA, now VikingCloud's
    "Trustwave": "Viking Cloud, Inc.",  # 1
    "VikingCloud": "Viking Cloud, Inc.",  # 8
    "eMudhra emSign PKI Services": "eMudhra Technologies Limited",  # 10
    "eMudhra": "eMudhra Technologies Limited",  # 9
    "emSign PKI Services": "eMudhra Technologies Limited",  # 1
    "TrustCor": "TrustCor Systems",  # 5
    "TunTrust": "Agence Nationale de Certification Electronique",  # 5: Tunisia's national CA
    "Atos": "Eviden",  # 3: Atos' trust services became Eviden (2023)
    "ANF": "Autoridad de Certificación (ANF AC)",  # 1
}

# Legal forms dropped from the end of a name, as token sequences after normalising.
LEGAL_FORMS: tuple[tuple[str, ...], ...] = tuple(
    tuple(form.split())
    for form in (
        "inc", "incorporated", "llc", "ltd", "limited", "gmbh", "ag", "sa", "s a", "nv", "n v", "bv", "b v",
        "co", "corp", "corporation", "sas", "as", "a s", "ab", "oy", "plc", "spa", "s p a", "srl", "d d", "eg",
        "zrt", "pte", "bhd", "sdn", "kk", "k k", "pty",
    )
)
_FORM_ONLY = {" ".join(form) for form in LEGAL_FORMS}
_FORMER = re.compile(r"^\s*(?:formerly|previously)\s+", re.IGNORECASE)
_PARTS = re.compile(r"\s*[,/]\s*")


def normalise(name: str) -> str:
    """Accents, case, quotes, punctuation and trailing legal forms dropped; words joined by one space."""
    text = unicodedata.normalize("NFKD", name or "")
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = re.sub(r"['\u2018\u2019\u02bc`]", "", text.casefold())
    tokens = re.sub(r"[^0-9a-z]+", " ", text).split()
    stripped = True
    while stripped:
        stripped = False
        for form in LEGAL_FORMS:
            if len(tokens) > len(form) and tuple(tokens[-len(form):]) == form:
                del tokens[-len(form):]
                stripped = True
                break
    return " ".join(tokens)


def _split_parens(name: str) -> tuple[str, list[str]]:
    """The name without its parenthesised parts, and those parts (nested ones too)."""
    outside, groups, stack = [], [], []
    for char in name:
        if char == "(":
            stack.append([])
        elif char == ")" and stack:
            inner = "".join(stack.pop())
            groups.append(inner)
            if stack:
                stack[-1].append(" ")
            else:
                outside.append(" ")
        elif stack:
            stack[-1].append(char)
        else:
            outside.append(char)
    groups += ["".join(s) for s in stack]  # an unclosed "(": keep what followed it
    return "".join(outside), groups


def _key(text: str) -> str:
    key = normalise(text)
    return "" if len(key) < 2 or key in _FORM_ONLY else key


def whole_key(name: str) -> str:
    """An owner's key from its whole name (parenthesised parts left out)."""
    outside, _ = _split_parens(name)
    return _key(outside) or _key(name)


def derived_keys(name: str) -> list[str]:
    """The other keys a name yields: its parenthesised short names and its comma or slash parts."""
    outside, groups = _split_parens(name)
    keys: list[str] = []
    for part in [*_PARTS.split(outside), *(p for g in groups for p in _PARTS.split(_split_parens(g)[0]))]:
        key = _key(_FORMER.sub("", part))
        if key and key not in keys:
            keys.append(key)
    whole = whole_key(name)
    return [k for k in keys if k != whole]


def title_prefix(title: str) -> str:
    """The CA part of `<CA owner>: <title>` (also `<CA owner> - <title>`), or ''."""
    match = re.match(r"^\s*([^:]{1,80}?)\s*:\s", title + " ")
    if match is None:
        match = re.match(r"^\s*(.{1,80}?)\s+[-\u2013]\s+", title)
    return match.group(1).strip() if match else ""


@dataclass(frozen=True)
class OwnerMatch:
    owner: Hashable | None
    # How it matched: "name" (the owner's whole name), "alias" (ALIASES), "short name" (a derived key), "".
    how: str = ""
    key: str = ""


@dataclass
class OwnerMatcher:
    """Built once per import from (owner id, CCADB name) pairs; `match` answers for one title prefix."""

    owners: Iterable[tuple[Hashable, str]]
    aliases: Mapping[str, str] = field(default_factory=lambda: ALIASES)

    def __post_init__(self) -> None:
        self.by_name: dict[str, Hashable] = {}
        derived: dict[str, set[Hashable]] = {}
        for owner, name in self.owners:
            key = whole_key(name)
            if key:
                self.by_name.setdefault(key, owner)
            for other in derived_keys(name):
                derived.setdefault(other, set()).add(owner)
        # A short name two owners share says nothing; a whole name always outranks a short name.
        self.ambiguous = {k: v for k, v in derived.items() if len(v) > 1 and k not in self.by_name}
        self.by_short_name = {k: next(iter(v)) for k, v in derived.items() if len(v) == 1 and k not in self.by_name}
        self.by_alias: dict[str, Hashable] = {}
        for brand, target in self.aliases.items():
            owner = self.by_name.get(whole_key(target))
            if owner is not None:
                self.by_alias[whole_key(brand)] = owner

    def _candidates(self, prefix: str) -> list[str]:
        outside, groups = _split_parens(prefix)
        texts = [prefix, outside, *groups, *_PARTS.split(outside)]
        keys: list[str] = []
        for text in texts:
            key = _key(text)
            if key and key not in keys:
                keys.append(key)
        return keys

    def match(self, prefix: str) -> OwnerMatch:
        for key in self._candidates(prefix or ""):
            for table, how in ((self.by_name, "name"), (self.by_alias, "alias"), (self.by_short_name, "short name")):
                if key in table:
                    return OwnerMatch(table[key], how, key)
        return OwnerMatch(None)

    def match_title(self, title: str) -> OwnerMatch:
        prefix = title_prefix(title)
        return self.match(prefix) if prefix else OwnerMatch(None)
