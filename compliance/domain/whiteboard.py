"""Parse a Bugzilla status whiteboard of a CA compliance bug into tags and dates.

The whiteboard is free text edited by hand for a decade, so the parser is
forgiving: it recognises the known tag vocabulary in its messy real spellings
(``[disclosure failure]``, ``[ca compliance]``, a missing bracket, odd case),
reads ``Next update <date>`` and ``close on <date>`` in the date styles found
in real bugs, and reports everything else in ``unknown`` instead of dropping it.
It never raises on a string.

Numeric dates such as ``3-1-2023`` are read month first (M-D-Y) when written
with ``-`` or ``/``: whiteboards are edited by root program staff, who write US
dates, and the one real instance (bug 1776764, filed 2022-06-27, ``3-1-2023``)
reads as a plausible 1 March 2023. A first number above 12 can only be a day,
so ``31-10-2023`` is read D-M-Y. Dotted dates (``23.2.2024``) follow the
European convention and are always D.M.Y.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

__all__ = [
    "KNOWN_TAGS",
    "TAG_ALIASES",
    "Whiteboard",
    "WhiteboardError",
    "parse_whiteboard",
    "parse_whiteboard_date",
]


class WhiteboardError(ValueError):
    """Raised only when the input is not text at all; messy text never raises."""


KNOWN_TAGS: tuple[str, ...] = (
    "ca-compliance",
    "ca-misissuance",
    "dv-misissuance",
    "ov-misissuance",
    "ev-misissuance",
    "iv-misissuance",
    "smime-misissuance",
    "crl-failure",
    "ocsp-failure",
    "policy-failure",
    "disclosure-failure",
    "audit-failure",
    "audit-finding",
    "audit-delay",
    "auditor-compliance",
    "ca-revocation-delay",
    "leaf-revocation-delay",
    "uncategorized",
)

# Older or alternative spellings that mean a known tag. Keys are in the
# normalised form produced by _normalise_tag.
TAG_ALIASES: dict[str, str] = {
    "delayed-revocation-leaf": "leaf-revocation-delay",
    "delayed-revocation-ca": "ca-revocation-delay",
    "s-mime-misissuance": "smime-misissuance",
    "uncategorised": "uncategorized",
}

_KNOWN = frozenset(KNOWN_TAGS)

_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ),
        start=1,
    )
    for name in names
}
_MONTH_RE = "|".join(sorted(_MONTHS, key=len, reverse=True))

# A date-ish run of characters: digits, month names, separators. Kept loose on
# purpose; parse_whiteboard_date decides whether it is readable.
_DATE_TEXT = (
    r"(?:\d{1,4}|(?:" + _MONTH_RE + r")\.?)"
    r"(?:(?:[-/.]|,?\s+)(?:\d{1,4}|(?:" + _MONTH_RE + r")\.?)){0,2}"
)
_PHRASE_RE = re.compile(
    r"(?P<label>next[\s_-]*update|close[\s_-]*on)\s*(?:on|at|by)?\s*:?\s*"
    r"(?P<date>" + _DATE_TEXT + r")?",
    re.IGNORECASE,
)
# An opening bracket runs to its closing bracket, or, when someone forgot to
# close it, to the next opening bracket or the end of the text.
_BRACKET_RE = re.compile(r"\[(?P<body>[^\[\]]*)(?P<close>\])?")


@dataclass(frozen=True)
class Whiteboard:
    tags: tuple[str, ...]
    unknown: tuple[str, ...]
    next_update: date | None
    close_on: date | None
    revocation_delay: bool


def parse_whiteboard(text: str, *, today: date | None = None) -> Whiteboard:
    """Read tags, ``Next update`` and ``close on`` dates from a whiteboard.

    ``today`` is only used to give a year to a date written without one
    (``Next update Oct 27``): the year that puts the date nearest to today.
    Without ``today`` such a date is reported in ``unknown``.
    """
    if not isinstance(text, str):
        raise WhiteboardError(f"whiteboard must be text, got {type(text).__name__}")
    acc = _Accumulator(today=today)
    position = 0
    for match in _BRACKET_RE.finditer(text):
        acc.free_text(text[position : match.start()])
        if match.group("close"):
            acc.bracketed(match.group("body"))
        else:
            acc.free_text(match.group("body"))
        position = match.end()
    acc.free_text(text[position:])
    return acc.result()


def parse_whiteboard_date(text: str, *, today: date | None = None) -> date:
    """Read one whiteboard date; raise WhiteboardError saying why it cannot be read."""
    raw = text.strip().rstrip(".,;")
    parts = [p for p in re.split(r"[-/.,\s]+", raw) if p]
    dotted = "." in raw and not re.search(r"[a-z]", raw, re.IGNORECASE)
    if len(parts) not in (2, 3):
        raise WhiteboardError(f"date {text!r}: expected day, month and year")
    try:
        year, month, day = _date_fields(parts, dotted=dotted, today=today, raw=raw)
        return date(year, month, day)
    except ValueError as exc:
        raise WhiteboardError(f"date {text!r}: {exc}") from None


def _date_fields(
    parts: list[str], *, dotted: bool, today: date | None, raw: str
) -> tuple[int, int, int]:
    names = [_MONTHS.get(p.lower().rstrip(".")) for p in parts]
    if any(n is None and not p.isdigit() for n, p in zip(names, parts, strict=True)):
        raise ValueError("unreadable word")
    if len(parts) == 2:
        return _yearless_fields(parts, names, dotted=dotted, today=today)
    if names.count(None) < 2:
        raise ValueError("more than one month name")
    if any(n is not None for n in names):
        month = next(n for n in names if n is not None)
        numbers = [int(p) for p, n in zip(parts, names, strict=True) if n is None]
        # "2023-Oct-27" puts the year first; "01-Nov-2023", "Nov 1, 2023" put it last.
        if len(parts[0]) == 4 and names[0] is None:
            return numbers[0], month, numbers[1]
        return _full_year(numbers[1]), month, numbers[0]
    a, b, c = (int(p) for p in parts)
    if len(parts[0]) == 4:
        return a, b, c
    if len(parts[2]) not in (2, 4):
        raise ValueError("year must have 2 or 4 digits")
    if dotted or a > 12:
        return _full_year(c), b, a
    return _full_year(c), a, b


def _yearless_fields(
    parts: list[str], names: list[int | None], *, dotted: bool, today: date | None
) -> tuple[int, int, int]:
    if today is None:
        raise ValueError("no year given")
    if names[0] is not None and names[1] is None:
        month, day = names[0], int(parts[1])
    elif names[1] is not None and names[0] is None:
        month, day = names[1], int(parts[0])
    elif names == [None, None]:
        a, b = int(parts[0]), int(parts[1])
        month, day = (b, a) if dotted or a > 12 else (a, b)
    else:
        raise ValueError("more than one month name")
    candidates = []
    for year in (today.year - 1, today.year, today.year + 1):
        try:
            candidates.append(date(year, month, day))
        except ValueError:
            continue
    if not candidates:
        raise ValueError("day is out of range for month")
    nearest = min(candidates, key=lambda d: abs((d - today).days))
    return nearest.year, nearest.month, nearest.day


def _full_year(value: int) -> int:
    return value + 2000 if value < 100 else value


def _normalise_tag(body: str) -> str:
    token = body.strip().lower()
    token = re.sub(r"[\s_]+", "-", token)
    token = token.replace("s/mime", "smime")
    return re.sub(r"-{2,}", "-", token).strip("-")


def _canonical_tag(body: str) -> str | None:
    token = _normalise_tag(body)
    token = TAG_ALIASES.get(token, token)
    return token if token in _KNOWN else None


class _Accumulator:
    def __init__(self, *, today: date | None) -> None:
        self._today = today
        self._tags: list[str] = []
        self._unknown: list[str] = []
        self._next_update: date | None = None
        self._close_on: date | None = None

    def bracketed(self, body: str) -> None:
        tag = _canonical_tag(body)
        if tag is not None:
            self._add(self._tags, tag)
            return
        phrase = _PHRASE_RE.fullmatch(body.strip())
        if phrase is not None:
            self._date_phrase(phrase, raw=f"[{body}]")
            return
        self._add(self._unknown, f"[{body}]")

    def free_text(self, text: str) -> None:
        position = 0
        for phrase in _PHRASE_RE.finditer(text):
            self._words(text[position : phrase.start()])
            self._date_phrase(phrase, raw=phrase.group(0).strip())
            position = phrase.end()
        self._words(text[position:])

    def _words(self, text: str) -> None:
        # Known tags written without brackets (e.g. "audit-finding]") are
        # recovered; runs of other words are kept together as one phrase.
        pending: list[str] = []
        for word in text.split():
            tag = _canonical_tag(word.strip("[]"))
            if tag is None:
                pending.append(word)
                continue
            self._flush(pending)
            pending = []
            self._add(self._tags, tag)
        self._flush(pending)

    def _flush(self, words: list[str]) -> None:
        if words:
            self._add(self._unknown, " ".join(words))

    def _date_phrase(self, phrase: re.Match[str], *, raw: str) -> None:
        label = _normalise_tag(phrase.group("label"))
        date_text = phrase.group("date")
        if not date_text:
            self._add(self._unknown, f"{raw} (no date)")
            return
        try:
            value = parse_whiteboard_date(date_text, today=self._today)
        except WhiteboardError as exc:
            self._add(self._unknown, f"{raw} ({_reason(exc)})")
            return
        if label == "next-update":
            self._next_update = self._later_wins(self._next_update, value, raw)
        else:
            self._close_on = self._later_wins(self._close_on, value, raw)

    def _later_wins(self, current: date | None, value: date, raw: str) -> date:
        # Two dates for one field: the text written later wins, and the
        # overridden one stays visible rather than vanishing.
        if current is not None and current != value:
            self._add(self._unknown, f"{raw} (replaces earlier date {current.isoformat()})")
        return value

    @staticmethod
    def _add(bucket: list[str], item: str) -> None:
        if item not in bucket:
            bucket.append(item)

    def result(self) -> Whiteboard:
        delay = any("revocation-delay" in tag for tag in self._tags) or any(
            "revocation-delay" in _normalise_tag(item) for item in self._unknown
        )
        return Whiteboard(
            tags=tuple(self._tags),
            unknown=tuple(self._unknown),
            next_update=self._next_update,
            close_on=self._close_on,
            revocation_delay=delay,
        )


def _reason(exc: WhiteboardError) -> str:
    message = str(exc)
    return message.split(": ", 1)[1] if ": " in message else message
