"""Domain errors shared by every app, and how the API turns them into responses.

Actions raise these; views turn them into a form message, the REST API into JSON
(`{"error": ..., "detail": ...}`) with 400 (bad input), 409 (not allowed in the current
state) or 403 (not permitted).
"""

from __future__ import annotations

from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


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


def api_exception_handler(exc, context):
    if isinstance(exc, DomainError):
        body = {"error": exc.code, "detail": exc.message}
        if exc.errors:
            body["errors"] = exc.errors
        return Response(body, status=exc.http_status)
    response = drf_exception_handler(exc, context)
    if response is not None and isinstance(response.data, dict) and "detail" in response.data:
        response.data = {"error": getattr(exc, "default_code", "error"), "detail": str(response.data["detail"])}
    elif response is not None and isinstance(response.data, (dict, list)):
        response.data = {"error": "invalid", "detail": "The request has invalid fields.", "errors": response.data}
    return response
