"""What a browser does with an edit page: read the hidden `base` it was opened on, post the fields back."""

from __future__ import annotations

import html
import re

BASE_RE = re.compile(r'<input type="hidden" name="base" value="([^"]*)"')


def base_of(response) -> str:
    """The `base` an edit page carries (fails when the page has none: every edit page must)."""
    found = BASE_RE.search(response.content.decode())
    assert found, "the edit page carries no hidden base version"
    return html.unescape(found.group(1))


def as_post(initial: dict) -> dict:
    """Form initial values as a browser posts them: booleans as a ticked box, None as empty."""
    data = {}
    for key, value in initial.items():
        if value is True:
            data[key] = "on"
        elif value is False or value is None:
            if value is None:
                data[key] = ""
        elif hasattr(value, "isoformat"):
            data[key] = value.isoformat()
        else:
            data[key] = str(value)
    return data
