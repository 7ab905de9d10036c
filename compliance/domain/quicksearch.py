"""Bugzilla's quicksearch, read into parts (pure: no Django).

What a Bugzilla user types into the search box:

- `123`, `#123`, `123,456`: those bugs, nothing else.
- A first word `ALL` (every status), `OPEN` (open statuses), or a comma list of status names
  (`NEW,ASSIGNED`, upper case as Bugzilla writes them): the statuses searched.
- `field:value` with Bugzilla's field names and the aliases its users type (`product:`,
  `component:`, `whiteboard:`/`sw:`, `status:`, `resolution:`, `assignee:`/`assigned_to:`/`owner:`,
  `reporter:`/`creator:`, `summary:`/`short_desc:`); `field:a,b` is a OR b; a value may be quoted.
- Anything else is text: words (all must match), `"phrases in quotes"`, and `-word` / `-"phrase"`
  / `-field:value` to exclude.

The parser decides nothing about how the text is matched: compliance.search turns a Query into
the database's own full-text search.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

__all__ = ["FIELD_ALIASES", "FieldTerm", "Query", "Term", "parse", "websearch_text", "fts5_text"]

FIELD_ALIASES = {
    "product": "product", "prod": "product",
    "component": "component", "comp": "component",
    "whiteboard": "whiteboard", "status_whiteboard": "whiteboard", "sw": "whiteboard",
    "status": "status", "bug_status": "status",
    "resolution": "resolution",
    "assignee": "assignee", "assigned_to": "assignee", "owner": "assignee",
    "reporter": "reporter", "creator": "reporter",
    "summary": "summary", "short_desc": "summary", "title": "summary",
}
MAX_BUG_NUMBER = 2**31 - 1
MAX_TERMS = 32  # a search box, not a document: more words than this are ignored

# A token: an optional "-", an optional "name:", then a quoted string (to its closing quote or the
# end) or a run of non-space characters.
_TOKEN = re.compile(r'(-?)(?:([A-Za-z_]+):)?("(?:[^"]*)"?|\S+)')
_BUG_LIST = re.compile(r"#?\d+(?:\s*,\s*#?\d+)*")
_WORDISH = re.compile(r"\w")


@dataclass(frozen=True)
class Term:
    text: str
    phrase: bool = False
    negated: bool = False


@dataclass(frozen=True)
class FieldTerm:
    field: str  # a canonical name: a value of FIELD_ALIASES
    values: tuple[str, ...]
    negated: bool = False


@dataclass(frozen=True)
class Query:
    bug_numbers: tuple[int, ...] = ()
    status_prefix: str | None = None  # "ALL", "OPEN", "LIST" (see statuses) or None when not typed
    statuses: tuple[str, ...] = ()
    fields: tuple[FieldTerm, ...] = ()
    terms: tuple[Term, ...] = field(default_factory=tuple)

    @property
    def positive_terms(self) -> tuple[Term, ...]:
        return tuple(t for t in self.terms if not t.negated)

    @property
    def negative_terms(self) -> tuple[Term, ...]:
        return tuple(t for t in self.terms if t.negated)

    @property
    def is_empty(self) -> bool:
        return not (self.bug_numbers or self.status_prefix or self.fields or self.terms)


def _unquote(raw: str) -> tuple[str, bool]:
    if raw.startswith('"'):
        return raw[1:].removesuffix('"').strip(), True
    return raw, False


def parse(text: str, *, statuses: Iterable[str] = ()) -> Query:
    """`statuses`: the status names a first word may list (e.g. NEW, ASSIGNED, RESOLVED)."""
    text = (text or "").replace("\x00", " ").strip()
    if not text:
        return Query()
    if _BUG_LIST.fullmatch(text):
        numbers = tuple(dict.fromkeys(int(n.strip().lstrip("#")) for n in text.split(",")))
        if all(1 <= n <= MAX_BUG_NUMBER for n in numbers):
            return Query(bug_numbers=numbers)
    known = set(statuses)
    tokens = list(_TOKEN.finditer(text))
    status_prefix, chosen = None, ()
    if tokens and not tokens[0].group(1) and not tokens[0].group(2) and not tokens[0].group(3).startswith('"'):
        first = tokens[0].group(3)
        parts = [p for p in first.split(",") if p]
        if first in ("ALL", "OPEN"):
            status_prefix = first
        elif parts and all(p in known for p in parts):
            status_prefix, chosen = "LIST", tuple(dict.fromkeys(parts))
        if status_prefix:
            tokens = tokens[1:]
    fields: list[FieldTerm] = []
    terms: list[Term] = []
    for token in tokens:
        negated, name, raw = token.group(1) == "-", token.group(2), token.group(3)
        canonical = FIELD_ALIASES.get(name.lower()) if name else None
        if canonical:
            value, quoted = _unquote(raw)
            values = (value,) if quoted else tuple(v.strip() for v in value.split(",") if v.strip())
            if values:
                fields.append(FieldTerm(canonical, values, negated))
            continue
        if name:  # not a field we know ("http://x", "note:"): the whole token is text
            raw = f"{name}:{raw}"
        value, quoted = _unquote(raw)
        value = " ".join(value.split())
        if value and _WORDISH.search(value) and len(terms) < MAX_TERMS:
            terms.append(Term(value, phrase=quoted and " " in value, negated=negated))
    return Query(status_prefix=status_prefix, statuses=chosen, fields=tuple(fields), terms=tuple(terms))


def _quoted(term: Term) -> str:
    return '"' + term.text.replace('"', " ") + '"'


def websearch_text(terms: Iterable[Term], *, join: str = "and") -> str:
    """PostgreSQL websearch_to_tsquery text: every term quoted (so "or" and "-" inside are plain
    words), terms ANDed by juxtaposition or ORed with `or`. Negation is the caller's (NOT IN)."""
    return (" or " if join == "or" else " ").join(_quoted(t) for t in terms)


def fts5_text(terms: Iterable[Term], columns: Iterable[str], *, join: str = "and") -> str:
    """An SQLite FTS5 MATCH expression: each term a quoted string (FTS5 escapes " by doubling it),
    joined by AND or OR, restricted to `columns`."""
    op = " OR " if join == "or" else " AND "
    body = op.join('"' + t.text.replace('"', '""') + '"' for t in terms)
    return "{" + " ".join(columns) + "} : (" + body + ")"
