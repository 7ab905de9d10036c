"""Domain errors shared by every app, and how the API turns them into responses.

Actions raise these; views turn them into a form message, the REST API into JSON
(`{"error": ..., "detail": ...}`) with 400 (bad input), 409 (not allowed in the current
state) or 403 (not permitted). Every other API error (401, 404, 405, 429, 500, and URLs under
/api/ that match nothing) has the same body, with a `detail` that says what to fix.
"""

from __future__ import annotations

import sys

from django.http import Http404, HttpResponse, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response


class DomainError(Exception):
    """Bad input: says what is wrong and changes nothing. `errors` maps field -> messages when known."""

    http_status = status.HTTP_400_BAD_REQUEST
    code = "invalid"

    def __init__(self, message: str, *, errors: dict[str, list[str]] | None = None):
        super().__init__(message)
        self.message = message
        self.errors = errors or {}


class TransitionError(DomainError):
    """A workflow transition that is not allowed from the current state, or whose gate fails."""

    http_status = status.HTTP_409_CONFLICT
    code = "conflict"


class NotPermitted(DomainError):
    http_status = status.HTTP_403_FORBIDDEN
    code = "forbidden"


class PreconditionFailed(DomainError):
    """An API write whose If-Match names a version that is no longer current (config.stale)."""

    http_status = status.HTTP_412_PRECONDITION_FAILED
    code = "precondition_failed"

    def __init__(self, message: str, *, errors: dict[str, list[str]] | None = None,
                 extra: dict | None = None, headers: dict[str, str] | None = None):
        super().__init__(message, errors=errors)
        self.extra = extra or {}
        self.headers = headers or {}


# Messages that say what to fix, replacing DRF's terse defaults ("Not found.").
_DEFAULT_MESSAGES = {
    "not_authenticated": (
        "Authentication required: send 'Authorization: Token <key>' with a key from your account page "
        "(/accounts/), or sign in."
    ),
    "permission_denied": "You may not do this: your role does not allow it on this object.",
    "not_found": "Not found: nothing exists at this URL, or it is not one you may see. Check the id.",
    "parse_error": "Malformed request body: send valid JSON with 'Content-Type: application/json'.",
}


def _message(exc, response, request, view) -> str:
    code = getattr(exc, "default_code", "error")
    detail = response.data.get("detail") if isinstance(response.data, dict) else None
    detail = str(detail) if detail is not None else ""
    if code == "throttled":
        verdict = getattr(request, "_rate_verdict", None)
        if verdict is not None:
            return verdict.message
        return f"Rate limit exceeded: retry after {response.get('Retry-After', 'a few')} seconds."
    if code == "method_not_allowed":
        allowed = ", ".join(getattr(view, "allowed_methods", []) or [])
        return f"Method {getattr(request, 'method', '')} is not allowed here; allowed: {allowed or 'see the schema'}."
    if code == "unsupported_media_type":
        return f"{detail} Send JSON with 'Content-Type: application/json'."
    if code == "not_acceptable":
        return f"{detail} This API answers 'application/json'."
    if code == "parse_error":
        return f"{_DEFAULT_MESSAGES['parse_error']} ({detail})"
    default = str(getattr(exc, "default_detail", ""))
    if code in _DEFAULT_MESSAGES and (not detail or detail == default or detail.startswith("No ")):
        return _DEFAULT_MESSAGES[code]
    return detail or default or "Request failed."


def api_exception_handler(exc, context):
    if isinstance(exc, DomainError):
        body = {"error": exc.code, "detail": exc.message}
        if exc.errors:
            body["errors"] = exc.errors
        # A stale write names the current version (config.stale): in the body and as the ETag header.
        body.update(getattr(exc, "extra", None) or {})
        headers = getattr(exc, "headers", None) or None
        request = context.get("request")
        user = getattr(request, "user", None)
        if exc.http_status == status.HTTP_403_FORBIDDEN and not (user and user.is_authenticated):
            # Not permitted to an anonymous client means "authenticate first": 401, naming the scheme.
            body["error"] = "not_authenticated"
            body["detail"] = f"{exc.message} Send 'Authorization: Token <key>' with a key from your account page."
            return Response(body, status=status.HTTP_401_UNAUTHORIZED, headers={"WWW-Authenticate": 'Token realm="api"'})
        return Response(body, status=exc.http_status, headers=headers)
    # Imported here: rest_framework.views loads the API settings, whose authentication classes import
    # this module, so a module-level import is circular when a command imports config.errors first.
    from rest_framework.views import exception_handler as drf_exception_handler

    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # an unexpected exception: a 500, answered in JSON by server_error() below
    request = context.get("request")
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    if isinstance(exc, exceptions.ValidationError) or not (isinstance(response.data, dict) and "detail" in response.data):
        response.data = {
            "error": "invalid",
            "detail": "The request has invalid fields: `errors` says what is wrong with each.",
            "errors": response.data,
        }
    else:
        response.data = {"error": getattr(exc, "default_code", "error"), "detail": _message(exc, response, request, context.get("view"))}
    return response


def _wants_json(request) -> bool:
    return request.path.startswith("/api/")


# Path prefix -> view answering a 404 under it in that API's own shape. Apps register theirs in
# AppConfig.ready() (compliance: Bugzilla's error body under /rest/), so this module imports no app.
_NOT_FOUND_HANDLERS: dict[str, object] = {}


def register_not_found(prefix: str, view) -> None:
    _NOT_FOUND_HANDLERS[prefix] = view


def not_found(request, exception=None):
    """handler404: an app's own shape under its registered prefix, JSON under /api/, the HTML page elsewhere."""
    for prefix, view in _NOT_FOUND_HANDLERS.items():
        if request.path.startswith(prefix):
            return view(request)
    if _wants_json(request):
        return JsonResponse(
            {"error": "not_found", "detail": f"No API endpoint at {request.path}: see /api/v1/docs/ for the list."},
            status=404,
        )
    from django.views.defaults import page_not_found

    return page_not_found(request, exception)


# Seconds a client is asked to wait when the database does not answer (a restart takes about that).
DATABASE_RETRY_AFTER = 30

UNAVAILABLE_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Rootwatch is unavailable</title></head>
<body><main><h1>Rootwatch is briefly unavailable</h1>
<p>The database does not answer. Nothing you sent was stored; try again in a minute.</p></main></body></html>
"""


def _database_unavailable(exc: BaseException | None) -> bool:
    from django.db import InterfaceError, OperationalError

    return isinstance(exc, OperationalError | InterfaceError)


def service_unavailable(request):
    """503 with Retry-After while the database is down: JSON under /api/, Bugzilla's shape under /rest/,
    a page that needs no database elsewhere (no template context, no session, no user)."""
    if request.path.startswith("/rest/"):
        response = JsonResponse(
            {"error": True, "code": 32000, "message": "The database is unavailable; retry later."}, status=503
        )
    elif _wants_json(request):
        response = JsonResponse(
            {"error": "unavailable", "detail": "The database is unavailable; nothing was stored. Retry later."},
            status=503,
        )
    else:
        response = HttpResponse(UNAVAILABLE_PAGE, status=503, content_type="text/html; charset=utf-8")
    response["Retry-After"] = str(DATABASE_RETRY_AFTER)
    return response


def server_error(request):
    """handler500: 503 when the database is down; a JSON body for API clients; the plain page elsewhere."""
    if _database_unavailable(sys.exc_info()[1]):
        return service_unavailable(request)
    if request.path.startswith("/rest/"):
        return JsonResponse({"error": True, "code": 32000, "message": "Internal error; it has been logged."}, status=500)
    if _wants_json(request):
        return JsonResponse(
            {"error": "server_error", "detail": "Internal error; it has been logged. Retry later or report it."},
            status=500,
        )
    from django.views.defaults import server_error as html_server_error

    return html_server_error(request)
