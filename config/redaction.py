"""Secrets a client may put in a URL, kept out of logs.

Bugzilla clients may send their API key as a query parameter (`api_key`, `Bugzilla_api_key`, and
the refused password login's `Bugzilla_login`/`Bugzilla_password`); the `/rest/` API keeps
accepting it, so every log line that holds a URL passes through `redact`: gunicorn's access log
(config.gunicorn) and Django's own log records (RedactSecrets, a logging filter on every handler
in settings.LOGGING). Imports no app.
"""

from __future__ import annotations

import logging
import re

SECRET_PARAMETERS = ("api_key", "Bugzilla_api_key", "Bugzilla_token", "Bugzilla_password", "Bugzilla_login")
REDACTED = "[redacted]"
# A parameter name at the start of a query or after ? & or ; (percent-encoded or not), up to the next separator.
_SECRET = re.compile(
    r"(?i)(^|[?&;])(" + "|".join(re.escape(name) for name in SECRET_PARAMETERS) + r")=([^&;#\s\"']*)"
)


def redact(text: str) -> str:
    """`text` (a URL, a query string, a request line, a log message) with every secret parameter's value replaced."""
    if not text or "=" not in text:
        return text
    return _SECRET.sub(lambda m: f"{m.group(1)}{m.group(2)}={REDACTED}", text)


class RedactSecrets(logging.Filter):
    """Rewrites a record's message with secret query parameters redacted (runserver's request lines,
    django.request's messages, anything else that quotes a URL)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is left for the handler to report
            return True
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        return True
