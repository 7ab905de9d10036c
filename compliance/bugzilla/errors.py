"""The compliance actions' refusals (config.errors) as Bugzilla's errors, and the request body of a write.

The actions say what is wrong and which field (`errors`); Bugzilla clients expect its code for that
(Bugzilla/WebService/Constants.pm) and the HTTP status REST_STATUS_CODE_MAP gives it. The message
is the action's own, which says what to fix.
"""

from __future__ import annotations

import json
from typing import Any

from compliance.bugzilla import (
    COMMENT_TOO_LONG,
    DEPENDENCY_LOOP,
    DUPE_ID_REQUIRED,
    DUPE_LOOP_DETECTED,
    FILE_NOT_SPECIFIED,
    FILE_TOO_LARGE,
    ILLEGAL_CHANGE,
    ILLEGAL_DATE,
    ILLEGAL_FIELD,
    ILLEGAL_STATUS_TRANSITION,
    INVALID_USERNAME,
    MISSING_ATTACHMENT_DESCRIPTION,
    MISSING_RESOLUTION,
    PARAM_INVALID,
    PARAM_REQUIRED,
    REQUIRE_SUMMARY,
    RESOLUTION_NOT_ALLOWED,
    UNKNOWN_TRANSIENT,
    USER_NOT_INSIDER,
    ZERO_LENGTH_FILE,
    BugzillaError,
)
from config.errors import DomainError, NotPermitted, TransitionError

AUTH_PARAMS = frozenset({"Bugzilla_api_key", "api_key", "Bugzilla_login", "Bugzilla_password", "Bugzilla_token"})


def _first(exc: DomainError, key: str) -> str:
    return " ".join(exc.errors.get(key) or [])


def from_domain(exc: DomainError, *, denied: int = ILLEGAL_CHANGE) -> BugzillaError:
    """A refusal of a compliance action as Bugzilla's error. `denied`: the code of a NotPermitted here
    (illegal_change for a field change, product_edit_denied for a comment, ...)."""
    message = exc.message
    if isinstance(exc, NotPermitted):
        if "is_private" in exc.errors or "private comments" in message:
            return BugzillaError(USER_NOT_INSIDER, message)
        return BugzillaError(denied, message)
    if isinstance(exc, TransitionError) and "status" in exc.errors:
        return BugzillaError(ILLEGAL_STATUS_TRANSITION, message)
    errors = exc.errors
    if "file" in errors:
        return BugzillaError(ZERO_LENGTH_FILE if "empty" in _first(exc, "file") else FILE_TOO_LARGE, message)
    if "filename" in errors:
        return BugzillaError(FILE_NOT_SPECIFIED, message)
    if "description" in errors and "attach" in message:
        return BugzillaError(MISSING_ATTACHMENT_DESCRIPTION, message)
    if "resolution" in errors:
        text = _first(exc, "resolution")
        if "needs a resolution" in text:
            return BugzillaError(MISSING_RESOLUTION, message)
        if "Only a resolved" in text:
            return BugzillaError(RESOLUTION_NOT_ALLOWED, message)
        return BugzillaError(PARAM_INVALID, message)
    for key in ("dupe_of", "other"):
        text = _first(exc, key)
        if "dependency loop" in text:
            return BugzillaError(DEPENDENCY_LOOP, message)
        if "duplicate loop" in text or "itself" in text:
            return BugzillaError(DUPE_LOOP_DETECTED, message)
        if key == "dupe_of" and text:
            return BugzillaError(DUPE_ID_REQUIRED, message)
    if "title" in errors:
        return BugzillaError(REQUIRE_SUMMARY if "required" in _first(exc, "title") else ILLEGAL_FIELD, message)
    if "body" in errors:
        return BugzillaError(COMMENT_TOO_LONG if "too long" in _first(exc, "body") else PARAM_REQUIRED, message)
    if "became_aware_at" in errors:
        return BugzillaError(ILLEGAL_DATE, message)
    if "add" in errors or "remove" in errors or "asked_user" in errors:
        return BugzillaError(INVALID_USERNAME, message)
    return BugzillaError(PARAM_INVALID, message)


def body_params(request, *, limit: int) -> dict[str, Any]:
    """A write's parameters: the JSON object in the body (Bugzilla's REST clients send one), over the
    query string's (api_key and friends left out). The body is read from the stream, at most `limit`
    bytes (config.middleware refused a longer Content-Length already)."""
    raw = request.read(limit + 1) if not hasattr(request, "_body") else request.body
    if len(raw) > limit:
        raise BugzillaError(PARAM_INVALID, f"The request body may be at most {limit} bytes.", status=413)
    params: dict[str, Any] = {k: v for k, v in request.GET.items() if k not in AUTH_PARAMS}
    if raw.strip():
        try:
            body = json.loads(raw)
        except (UnicodeDecodeError, ValueError) as exc:
            raise BugzillaError(UNKNOWN_TRANSIENT, f"The request body is not valid JSON: {exc}. Send a JSON object "
                                "with 'Content-Type: application/json'.") from None
        if not isinstance(body, dict):
            raise BugzillaError(UNKNOWN_TRANSIENT, "The request body must be a JSON object of parameters.")
        params.update({k: v for k, v in body.items() if k not in AUTH_PARAMS})
    return params


def flag(value: Any, name: str) -> bool:
    """Bugzilla's booleans: true/false, 1/0, "1"/"0"/"true"/"false"."""
    if isinstance(value, bool):
        return value
    if value in (None, "", 0, "0", "false", "False"):
        return False
    if value in (1, "1", "true", "True"):
        return True
    raise BugzillaError(PARAM_INVALID, f"'{name}' must be true or false (or 1 or 0), not {value!r}.")


def text(value: Any, name: str) -> str:
    if value is None:
        return ""
    if isinstance(value, (dict, list, bool)):
        raise BugzillaError(PARAM_INVALID, f"'{name}' must be a string.")
    return str(value)
