"""Apply a unified diff (as :func:`pki.certdata.unified_diff` writes it) to a text, strictly.

Every hunk must apply at the line it names, with its context and removed lines exactly as in the
text: a diff made against another version of the file is refused, naming the hunk and the line.
``\\ No newline at end of file`` markers are honoured. Pure domain code: no Django.
"""

from __future__ import annotations

import re

__all__ = ["PatchError", "apply_unified_diff"]

_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")
_NO_NEWLINE = "\\ No newline at end of file"


class PatchError(ValueError):
    """The diff cannot be read, or does not apply; the message names the hunk and the line."""


def _hunks(diff: str) -> list[tuple[int, int, list[tuple[str, str]]]]:
    lines = diff.splitlines(keepends=True)
    i = 0
    while i < len(lines) and not lines[i].startswith("@@"):
        if not (lines[i].startswith("--- ") or lines[i].startswith("+++ ") or not lines[i].strip()
                or lines[i].startswith("diff ") or lines[i].startswith("index ")):
            raise PatchError(f"line {i + 1} is neither a file header nor a hunk: {lines[i].rstrip()!r}")
        i += 1
    hunks = []
    while i < len(lines):
        m = _HUNK.match(lines[i])
        if not m:
            raise PatchError(f"line {i + 1}: expected a hunk header '@@ -a,b +c,d @@', got {lines[i].rstrip()!r}")
        old_start, old_len = int(m.group(1)), int(m.group(2) if m.group(2) is not None else 1)
        new_len = int(m.group(4) if m.group(4) is not None else 1)
        number = len(hunks) + 1
        body: list[tuple[str, str]] = []
        i += 1
        seen_old = seen_new = 0
        while i < len(lines) and (seen_old < old_len or seen_new < new_len or lines[i].startswith("\\")):
            line = lines[i]
            if line.rstrip("\n") == _NO_NEWLINE:
                if not body:
                    raise PatchError(f"hunk {number}: '{_NO_NEWLINE}' before any line")
                op, text = body[-1]
                body[-1] = (op, text[:-1] if text.endswith("\n") else text)
                i += 1
                continue
            op, text = line[:1], line[1:]
            if op == " ":
                seen_old += 1
                seen_new += 1
            elif op == "-":
                seen_old += 1
            elif op == "+":
                seen_new += 1
            else:
                raise PatchError(f"hunk {number}, diff line {i + 1}: starts with {op!r}, not ' ', '-' or '+'")
            body.append((op, text))
            i += 1
        if seen_old != old_len or seen_new != new_len:
            raise PatchError(f"hunk {number} is cut short: {seen_old} of {old_len} old and {seen_new} of {new_len} "
                             "new lines")
        hunks.append((old_start, old_len, body))
    return hunks


def apply_unified_diff(text: str, diff: str) -> str:
    """The text with the diff applied. An empty diff leaves the text as it is."""
    if not diff.strip():
        return text
    old = text.splitlines(keepends=True)
    out: list[str] = []
    pos = 0  # index into old of the next line not yet copied
    for number, (old_start, old_len, body) in enumerate(_hunks(diff), start=1):
        start = old_start - 1 if old_len else old_start  # "-0,0" / "-n,0": insert after line n
        if start < pos:
            raise PatchError(f"hunk {number} starts at line {old_start}, before the end of the hunk before it")
        out.extend(old[pos:start])
        pos = start
        for op, line in body:
            if op in (" ", "-"):
                if pos >= len(old) or old[pos] != line:
                    found = old[pos].rstrip("\n") if pos < len(old) else "(end of file)"
                    raise PatchError(f"hunk {number} does not apply at line {pos + 1}: the diff expects "
                                     f"{line.rstrip(chr(10))!r}, the file has {found!r}")
                if op == " ":
                    out.append(line)
                pos += 1
            else:
                out.append(line)
    out.extend(old[pos:])
    return "".join(out)
