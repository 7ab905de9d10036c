"""Middleware every request passes, whatever app serves it.

- BodySizeLimit: refuses a body larger than MAX_REQUEST_BODY_BYTES (multipart uploads and the paths
  apps register as uploads: MAX_UPLOAD_BODY_BYTES, so a 25 MB audit statement PDF fits) from its Content-Length, before
  anything reads it: 413.
- QueryParameterGuard: refuses a NUL byte in the path or in any query parameter's name or value,
  before a view can hand one to the database (PostgreSQL refuses it inside the driver: a 500): 400
  naming the parameter.
- ContentSecurityPolicy: the same strict policy on every response (settings.CONTENT_SECURITY_POLICY).

A refusal answers in the shape of the API it happens under: JSON `{"error", "detail", "errors"}`
under /api/, the shape an app registers for its own prefix (compliance: Bugzilla's under /rest/),
a page elsewhere. Imports no app.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string

from config.filters import NUL, NUL_MESSAGE, query_problems

# prefix -> function(request, status, message) answering a refusal in that API's own shape.
_SHAPES: dict[str, Callable[[HttpRequest, int, str], HttpResponse]] = {}


def register_error_shape(prefix: str, answer: Callable[[HttpRequest, int, str], HttpResponse]) -> None:
    _SHAPES[prefix] = answer


# Paths whose body carries a file in another form than multipart (Bugzilla's base64 attachments in
# JSON): they get MAX_UPLOAD_BODY_BYTES too. Apps register them (compliance: /rest/bug/N/attachment).
_UPLOAD_PATHS: list[re.Pattern[str]] = []


def register_upload_path(pattern: str) -> None:
    _UPLOAD_PATHS.append(re.compile(pattern))


def refuse(request: HttpRequest, status: int, code: str, message: str, errors: dict | None = None) -> HttpResponse:
    for prefix, answer in _SHAPES.items():
        if request.path.startswith(prefix):
            return answer(request, status, message)
    if request.path.startswith("/api/"):
        body = {"error": code, "detail": message}
        if errors:
            body["errors"] = errors
        return JsonResponse(body, status=status)
    # A bare page: a refusal here comes before sessions and the user are known, so base.html
    # (which shows the user and their notifications) is not used.
    html = render_to_string("refused.html", {"status": status, "message": message, "errors": errors or {}})
    return HttpResponse(html, status=status)


class BodySizeLimit:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return refuse(request, 400, "invalid", "The Content-Length header must be a whole number of bytes.")
        multipart = request.META.get("CONTENT_TYPE", "").lower().startswith("multipart/form-data") or any(
            p.match(request.path) for p in _UPLOAD_PATHS)
        limit = settings.MAX_UPLOAD_BODY_BYTES if multipart else settings.MAX_REQUEST_BODY_BYTES
        if length > limit:
            kind = "An upload" if multipart else "A request body"
            return refuse(
                request, 413, "too_large",
                f"{kind} may be at most {limit} bytes; this one is {length} bytes. Nothing was read or changed.",
            )
        return self.get_response(request)


class QueryParameterGuard:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        problems = query_problems(request.GET)
        if NUL in request.path:
            problems = {"path": [f"The URL {NUL_MESSAGE}"], **problems}
        if problems:
            message = " ".join(
                f"'{name}' {text}" if not text.startswith(("A parameter", "The URL")) else text
                for name, texts in problems.items()
                for text in texts
            )
            return refuse(request, 400, "invalid", message, problems)
        return self.get_response(request)


class ContentSecurityPolicy:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        policy = settings.CONTENT_SECURITY_POLICY
        if policy and "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = policy
        return response
