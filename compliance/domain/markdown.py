"""Markdown for comments and reports, rendered to sanitized HTML.

Markdown is converted by `markdown` (tables, fenced code) and the result is cleaned by
`nh3` with an allow-list: no script, style, iframe, event handler or `javascript:` URL
survives, so text from anyone can be shown as HTML. Raw HTML in the source is escaped
first; "Bug 1234567" becomes a link to that incident.
"""

from __future__ import annotations

import re

import markdown as md
import nh3

ALLOWED_TAGS = {
    "p", "br", "hr", "strong", "em", "b", "i", "code", "pre", "blockquote", "ul", "ol", "li",
    "h1", "h2", "h3", "h4", "h5", "h6", "table", "thead", "tbody", "tr", "th", "td", "a", "del",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "th": {"align"}, "td": {"align"}, "code": {"class"}}
URL_SCHEMES = {"http", "https", "mailto"}

_BUG_RE = re.compile(r"(?<![\w/#\[])[Bb]ug (\d{5,8})\b(?![^\[]*\])")


def _prepare(text: str) -> str:
    # Outside code (where Markdown escapes by itself): raw HTML is shown as text, "Bug N" links.
    parts = re.split(r"(```.*?```|`[^`\n]*`)", text, flags=re.S)
    for index in range(0, len(parts), 2):
        plain = parts[index].replace("<", "&lt;")
        parts[index] = _BUG_RE.sub(lambda m: f"[{m.group(0)}](/incidents/{m.group(1)}/)", plain)
    return "".join(parts)


def render(text: str) -> str:
    """Safe HTML for a Markdown text; never raises on any string."""
    source = _prepare(text or "")
    converted = md.markdown(source, extensions=["tables", "fenced_code", "sane_lists"], output_format="html")
    return nh3.clean(
        converted,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="nofollow noopener noreferrer",
    )
