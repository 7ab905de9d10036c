"""Bugzilla's `regexp`/`notregexp` operators, bounded: a search is a public, unauthenticated read,
so one request must not be able to hold a worker with a pathological expression.

- `validate` refuses, before any query runs, what either database would choke on: more than
  MAX_LENGTH characters, what Python's `re` cannot compile, a repetition count over 255
  (PostgreSQL's limit), a quantifier or alternation inside a repeated group (`(a+)+`, `(a|aa)*`:
  exponential backtracking), more than MAX_UNBOUNDED `*`/`+`/`{n,}` (`.*.*.*.*x` is polynomial of
  that degree), and back-references. On PostgreSQL the expression is then compiled by the server
  itself, which refuses some that Python accepts (`[[:foo:]]`).
- `bounded` runs the search under a deadline: PostgreSQL's statement_timeout; on SQLite, whose
  REGEXP is a Python function, an interval timer that interrupts the match (the standard `re`
  checks for signals while it backtracks). Signals reach only the main thread: gunicorn's sync
  workers serve requests there; a threaded development server relies on `validate` alone.
"""

from __future__ import annotations

import re
import signal
import threading
from contextlib import contextmanager
from re import _parser as sre_parse

from django.db import DatabaseError, connection, transaction

from compliance.bugzilla import PARAM_INVALID, UNKNOWN_TRANSIENT, BugzillaError

MAX_LENGTH = 255
MAX_UNBOUNDED = 3
# PostgreSQL's RE_DUP_MAX: `a{256}` is "invalid repetition count(s)" there.
MAX_COUNT = 255
TIMEOUT_SECONDS = 2.0

_REPEATS = (sre_parse.MAX_REPEAT, sre_parse.MIN_REPEAT, sre_parse.POSSESSIVE_REPEAT)


class RegexpTimeout(Exception):
    pass


def _problem(pattern: str) -> str | None:
    """Why `pattern` is refused, or None."""
    if len(pattern) > MAX_LENGTH:
        return f"is longer than {MAX_LENGTH} characters"
    try:
        # compile() too: parse() alone lets through what only the compiler refuses (`(?<=a+)b`).
        re.compile(pattern)
        parsed = sre_parse.parse(pattern)
    except (re.error, RecursionError, OverflowError) as exc:
        return f"is not a valid regular expression ({exc})"
    unbounded = 0

    def walk(items, inside_repeat: bool) -> str | None:
        nonlocal unbounded
        for op, arg in items:
            if op in _REPEATS:
                low, high, body = arg
                if low > MAX_COUNT or (high != sre_parse.MAXREPEAT and high > MAX_COUNT):
                    return f"repeats more than {MAX_COUNT} times"
                repeats = high == sre_parse.MAXREPEAT or high > 1
                if high == sre_parse.MAXREPEAT:
                    unbounded += 1
                if inside_repeat and repeats:
                    return "repeats a group that itself repeats, which can take exponential time"
                found = walk(body, inside_repeat or repeats)
            elif op == sre_parse.BRANCH:
                if inside_repeat:
                    return "repeats a group of alternatives, which can take exponential time"
                found = None
                for branch in arg[1]:
                    found = found or walk(branch, inside_repeat)
            elif op == sre_parse.SUBPATTERN:
                found = walk(arg[-1], inside_repeat)
            elif op in (sre_parse.ASSERT, sre_parse.ASSERT_NOT):
                found = walk(arg[1], inside_repeat)
            elif op == sre_parse.ATOMIC_GROUP:
                found = walk(arg, inside_repeat)
            elif op in (sre_parse.GROUPREF, sre_parse.GROUPREF_EXISTS):
                return "uses a back-reference"
            else:
                found = None
            if found:
                return found
        return None

    found = walk(parsed.data, False)
    if found:
        return found
    if unbounded > MAX_UNBOUNDED:
        return f"has more than {MAX_UNBOUNDED} unbounded repetitions (*, +, {{n,}})"
    return None


def validate(pattern: str) -> None:
    """Raise BugzillaError (400) if the search may not use `pattern` as a regular expression."""
    problem = _problem(pattern)
    if problem is None and connection.vendor == "postgresql":
        try:
            # A savepoint: a refused expression must not abort the request's transaction.
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SELECT '' ~* %s", [pattern])
        except DatabaseError as exc:
            problem = f"is not a regular expression PostgreSQL accepts ({str(exc).strip().splitlines()[0]})"
    if problem:
        raise BugzillaError(PARAM_INVALID, f"The regular expression {pattern!r} {problem}.")


def _timeout(signum, frame):
    raise RegexpTimeout


@contextmanager
def bounded(seconds: float | None = None):
    """Run the queries inside under a deadline (TIMEOUT_SECONDS); past it, a BugzillaError (400) that says so."""
    seconds = TIMEOUT_SECONDS if seconds is None else seconds
    refused = BugzillaError(
        UNKNOWN_TRANSIENT,
        f"The search took longer than {seconds:g} seconds and was stopped: use a simpler regular expression "
        "or narrow the search with other fields.",
    )
    if connection.vendor == "postgresql":
        try:
            # Set for this transaction only (is_local), and put back after: in a test, or inside a caller's
            # transaction, the queries that follow keep the server's own limit.
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SELECT current_setting('statement_timeout')")
                (before,) = cursor.fetchone()
                cursor.execute("SELECT set_config('statement_timeout', %s, true)", [str(int(seconds * 1000))])
                yield
                cursor.execute("SELECT set_config('statement_timeout', %s, true)", [before])
        except DatabaseError as exc:
            if getattr(exc.__cause__, "pgcode", None) == "57014":  # query_canceled
                raise refused from None
            raise
        return
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGALRM, _timeout)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    except RegexpTimeout:
        raise refused from None
    except DatabaseError as exc:
        # SQLite reports an exception inside its REGEXP function as "user-defined function raised exception".
        if isinstance(exc.__cause__, RegexpTimeout) or "user-defined function raised exception" in str(exc):
            raise refused from None
        raise
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
