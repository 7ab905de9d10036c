"""Plumbing every `/api/v1/` endpoint shares, so the API behaves as one.

- ApiPagination: `?page=` and `?page_size=` (at most MAX_PAGE_SIZE), answers
  `{"count", "next", "previous", "results"}`; a malformed page is a 400 that says so.
- StrictOrderingFilter: `?ordering=a,-b` over the view's `ordering_fields` only; an unknown
  field is a 400 listing the allowed ones (a view without `ordering_fields` cannot be ordered).
- query_* helpers: read a filter parameter or raise a 400 (DomainError) naming the parameter
  and the expected form. Times are ISO-8601; naive ones are taken as UTC.
- add_error_responses: drf-spectacular post-processing hook documenting the JSON error
  body (`Error`) for 400/401/403/404/429 on every operation, so the schema says what the
  API answers (and 422 plus the Idempotent-Replayed header where Idempotency-Key is taken).

Throttles live in accounts.throttling (per key and per address); authentication and the
API-wide permission class (ApiKeyScope: a read-only key may only read) in
accounts.authentication; the error body in config.errors. Nothing here imports an app.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime

from django.utils.dateparse import parse_date, parse_datetime
from rest_framework.exceptions import NotFound
from rest_framework.filters import OrderingFilter
from rest_framework.pagination import PageNumberPagination

from config.errors import DomainError
from config.filters import DB_INT_MAX, DB_INT_MIN
from config.pagination import COUNT_CAP, BoundedPaginator

MAX_PAGE_SIZE = 200


class ApiPagination(PageNumberPagination):
    """Deep pages cost what the first does and `count` stops at 10,000 (`count_capped`: there are
    more); config.pagination says why."""

    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE
    django_paginator_class = BoundedPaginator

    def get_paginated_response(self, data):
        response = super().get_paginated_response(data)
        response.data["count_capped"] = self.page.paginator.capped
        return response

    def get_paginated_response_schema(self, schema):
        schema = super().get_paginated_response_schema(schema)
        schema["properties"]["count_capped"] = {
            "type": "boolean", "description": f"More than {COUNT_CAP:,} rows: `count` is that cap."}
        return schema

    def paginate_queryset(self, queryset, request, view=None):
        for name in (self.page_query_param, self.page_size_query_param):
            raw = request.query_params.get(name)
            # isascii(): str.isdigit() also accepts "²", which int() refuses.
            if raw is not None and raw != "last" and (not (raw.isascii() and raw.isdigit()) or int(raw) < 1):
                raise DomainError(
                    f"'{name}' must be a positive integer, not {raw!r}.", errors={name: ["A positive integer."]}
                )
        try:
            return super().paginate_queryset(queryset, request, view)
        except NotFound:
            pages = self.page.paginator.num_pages if getattr(self, "page", None) else None
            raise NotFound(
                f"Page {request.query_params.get(self.page_query_param)} does not exist"
                + (f": this list has {pages} page(s)." if pages else ": ask for page 1 first.")
            ) from None


class StrictOrderingFilter(OrderingFilter):
    def get_valid_fields(self, queryset, view, context=None):
        fields = getattr(view, "ordering_fields", None)
        if not fields or fields == "__all__":
            return []
        return [(f, f) for f in fields]

    def get_ordering(self, request, queryset, view):
        raw = request.query_params.get(self.ordering_param)
        if not raw:
            return self.get_default_ordering(view)
        allowed = [name for name, _ in self.get_valid_fields(queryset, view, {"request": request})]
        terms = [t.strip() for t in raw.split(",") if t.strip()]
        bad = [t for t in terms if t.lstrip("-") not in allowed]
        if bad:
            if allowed:
                hint = "use one of " + ", ".join(allowed) + " (prefix '-' for descending)"
            else:
                hint = "this list has a fixed order"
            raise DomainError(
                f"Cannot order by {', '.join(bad)}: {hint}.", errors={self.ordering_param: [f"Unknown: {', '.join(bad)}."]}
            )
        return terms

    def get_schema_operation_parameters(self, view):
        fields = getattr(view, "ordering_fields", None)
        if not fields or fields == "__all__":
            return []
        return [
            {
                "name": self.ordering_param,
                "required": False,
                "in": "query",
                "description": "Comma-separated fields to order by, '-' for descending: " + ", ".join(fields) + ".",
                "schema": {"type": "string"},
            }
        ]


def query_int(request, name: str, *, minimum: int | None = None, maximum: int = DB_INT_MAX) -> int | None:
    raw = request.query_params.get(name)
    if raw in (None, ""):
        return None
    try:
        value = int(raw)
    except ValueError:
        raise DomainError(f"'{name}' must be an integer, not {raw!r}.", errors={name: ["An integer."]}) from None
    if minimum is not None and value < minimum:
        raise DomainError(f"'{name}' must be at least {minimum}.", errors={name: [f"At least {minimum}."]})
    # Past what a column holds, the driver raises (a 500) instead of matching nothing.
    if value > maximum or value < DB_INT_MIN:
        raise DomainError(f"'{name}' must be at most {maximum}.", errors={name: [f"At most {maximum}."]})
    return value


def query_bool(request, name: str) -> bool | None:
    raw = request.query_params.get(name)
    if raw in (None, ""):
        return None
    lowered = raw.lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise DomainError(f"'{name}' must be true or false, not {raw!r}.", errors={name: ["true or false."]})


def query_choice(request, name: str, choices) -> str | None:
    raw = request.query_params.get(name)
    if raw in (None, ""):
        return None
    allowed = [str(c) for c in choices]
    if raw not in allowed:
        raise DomainError(
            f"'{name}' must be one of {', '.join(allowed)}, not {raw!r}.", errors={name: ["One of " + ", ".join(allowed)]}
        )
    return raw


def parse_iso_datetime(raw: str) -> datetime | None:
    """ISO-8601 date or date-time, returned in UTC; naive values are UTC; a date means its midnight UTC.
    None if malformed or outside years 1 to 9999 once in UTC."""
    text = raw.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    try:
        value = parse_datetime(text)
    except ValueError:
        value = None
    if value is None:
        try:
            day = parse_date(text)
        except ValueError:
            day = None
        if day is None:
            return None
        value = datetime(day.year, day.month, day.day)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    try:
        # In UTC, as the database compares it: 9999-12-31T23:59:59-23:00 is past the last year a
        # datetime holds, and PostgreSQL refuses offsets beyond 15:59, so both are malformed here.
        return value.astimezone(UTC)
    except OverflowError:
        return None


def query_datetime(request, name: str) -> datetime | None:
    raw = request.query_params.get(name)
    if raw in (None, ""):
        return None
    value = parse_iso_datetime(raw)
    if value is None:
        raise DomainError(
            f"'{name}' must be an ISO-8601 date or time between years 1 and 9999 such as 2024-05-01 or "
            f"2024-05-01T12:00:00Z, not {raw!r}.",
            errors={name: ["An ISO-8601 date or date-time."]},
        )
    return value


ERROR_SCHEMA = {
    "type": "object",
    "description": "Every API error: a machine-readable `error` code and a `detail` message that says what to fix.",
    "properties": {
        "error": {"type": "string", "example": "not_found"},
        "detail": {"type": "string", "example": "Not found: check the id in the URL."},
        "errors": {"description": "For invalid input: each field mapped to what is wrong with it."},
    },
    "required": ["error", "detail"],
}

ERROR_RESPONSES = {
    "400": "Invalid input: `detail` says what to fix, `errors` maps fields to problems.",
    "401": "No credentials, or an unknown or revoked API key.",
    "403": "Authenticated, but not permitted (or a read-only key tried to write).",
    "404": "No such object, or not one you may see.",
    "409": "Not allowed in the object's current state.",
    "413": "The body is larger than the server accepts (MAX_REQUEST_BODY_BYTES): refused before it was read.",
    "422": "The Idempotency-Key was already used with a different request; nothing changed.",
    "429": "Rate limit exceeded; the Retry-After header says how many seconds to wait.",
}


# An operation taking this header (accounts.idempotency) can also answer 422, and replays say so.
IDEMPOTENCY_KEY = "Idempotency-Key"
IDEMPOTENT_REPLAYED = "Idempotent-Replayed"
REPLAYED_HEADER_SCHEMA = {
    "description": "`true` when this is the stored response of an earlier request with the same Idempotency-Key.",
    "schema": {"type": "string", "enum": ["true"]},
}


def add_error_responses(result, generator, request, public):
    """drf-spectacular hook: the JSON error body on every operation, for the statuses it can return."""
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    ref = {"$ref": "#/components/schemas/Error"}
    for path, item in result.get("paths", {}).items():
        for method, operation in item.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            statuses = ["400", "401", "403", "429"]
            # A detail that does not exist, or a page past the end of a list.
            if "{" in path or method == "get":
                statuses.append("404")
            if method in ("post", "put", "patch", "delete"):
                statuses.append("409")
            if method in ("post", "put", "patch"):
                statuses.append("413")
            takes_key = any(p.get("in") == "header" and p.get("name") == IDEMPOTENCY_KEY
                            for p in operation.get("parameters", []))
            if takes_key:
                statuses.append("422")
                for code, response in operation["responses"].items():
                    if code.startswith("2"):
                        response.setdefault("headers", {})[IDEMPOTENT_REPLAYED] = copy.deepcopy(REPLAYED_HEADER_SCHEMA)
            for code in statuses:
                operation["responses"].setdefault(
                    code, {"description": ERROR_RESPONSES[code], "content": {"application/json": {"schema": ref}}}
                )
    return result
