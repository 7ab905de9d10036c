"""`Idempotency-Key` on the API's POST operations: a client that retries creates nothing twice.

Semantics as Stripe's and the IETF draft "The Idempotency-Key HTTP Header Field":

- The key is scoped to who sent it (the API key, or the signed-in user for a session), the method
  and the path. Another client's identical key is another key.
- The first request with a key claims it (a row committed before the view runs). Its response
  (status, body, Content-Type, Location, ETag) is written to that row in the same transaction as
  what the view created, so either both are stored or neither is.
- A retry with the same key and the same request (query string, media type and parsed body; a
  multipart file counts by its name and SHA-256, not by the boundary) gets the stored response
  with `Idempotent-Replayed: true` and creates nothing. The same key with another request is a 422
  that changes nothing; while the first request still runs, a 409 with Retry-After.
- A request that fails (an exception, or a 4xx/5xx answer) stores nothing and gives the key back,
  so the client may fix the request and retry with the same key.
- A key is empty or longer than MAX_KEY_LENGTH, or holds a character outside printable ASCII: 400.
  A quoted key (the draft's structured-field string, `"abc"`) is the same as `abc`.
- Anonymous requests cannot use a key (401): nothing an anonymous client may POST creates anything.
- Keys expire KEY_LIFETIME after the first request: an older row counts as absent, and each new
  key deletes up to CLEANUP_BATCH expired rows (cleanup on write, no periodic job needed).

`@idempotent` goes on a DRF view's `post` method (above or below `@extend_schema`); it documents
the header on the operation. tests/api/test_idempotency.py walks the URLconf so a POST under
/api/v1/ without it fails.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.files.uploadedfile import UploadedFile
from django.db import DatabaseError, IntegrityError, transaction
from django.http import HttpResponse
from django.utils import timezone
from django.utils.datastructures import MultiValueDict
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, status

from accounts.models import ApiKey, IdempotencyKey
from config.errors import DomainError

logger = logging.getLogger(__name__)

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255
KEY_LIFETIME = timedelta(hours=24)
# A claim without a response this old belongs to a request whose process died (gunicorn kills a
# worker after 30 s): another request may take the key over. The first one, should it still
# finish, then finds its claim gone and rolls back what it created.
CLAIM_TIMEOUT = timedelta(minutes=5)
CLEANUP_BATCH = 500
# The headers a replay repeats; Allow and Vary are added again by DRF on every response.
STORED_HEADERS = ("Content-Type", "Location", "ETag", "Last-Modified")
IN_FLIGHT_RETRY_AFTER = 1


class InvalidKey(DomainError):
    def __init__(self, message: str):
        super().__init__(message, errors={HEADER: [message]})


class KeyInFlight(DomainError):
    http_status = status.HTTP_409_CONFLICT
    code = "idempotency_key_in_use"

    def __init__(self, message: str):
        super().__init__(message, errors={HEADER: ["A request with this key is still being processed."]})
        self.headers = {"Retry-After": str(IN_FLIGHT_RETRY_AFTER)}


class KeyReused(DomainError):
    http_status = status.HTTP_422_UNPROCESSABLE_ENTITY
    code = "idempotency_key_reused"

    def __init__(self, message: str):
        super().__init__(message, errors={HEADER: ["Already used with a different request."]})


PARAMETER = OpenApiParameter(
    name=HEADER,
    type={"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH, "pattern": r"^[!-~]([ -~]*[!-~])?$"},
    location=OpenApiParameter.HEADER,
    required=False,
    description=(
        "A unique value (e.g. a UUID) that makes a retry of this request safe: a repeat with the same key and "
        "the same body within 24 hours creates nothing and returns the first response again, with "
        f"`{REPLAYED_HEADER}: true`. The same key with a different body is a 422; while the first request is "
        "still running, a 409. A failed request (4xx/5xx) is not stored, so it may be retried with the same key. "
        "Keys are per API key (or signed-in user), method and path; printable ASCII, 1 to 255 characters."
    ),
)


def parse_key(raw: str) -> str:
    """The key a header value names, or InvalidKey (400) saying what is wrong with it."""
    key = raw.strip()
    if len(key) >= 2 and key[0] == key[-1] == '"':
        key = key[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    if not key:
        raise InvalidKey(f"The {HEADER} header is empty: send a unique value such as a UUID, or leave it out.")
    if len(key) > MAX_KEY_LENGTH:
        raise InvalidKey(f"The {HEADER} header is too long: at most {MAX_KEY_LENGTH} characters, not {len(key)}.")
    if not all(" " <= ch <= "~" for ch in key):
        raise InvalidKey(f"The {HEADER} header may hold printable ASCII characters only (a UUID fits).")
    return key


def _canonical(value):
    if isinstance(value, UploadedFile):
        digest = hashlib.sha256()
        for chunk in value.chunks():
            digest.update(chunk)
        value.seek(0)
        return {"file": value.name, "size": value.size, "sha256": digest.hexdigest()}
    if isinstance(value, MultiValueDict):
        return {str(k): [_canonical(v) for v in value.getlist(k)] for k in value}
    if isinstance(value, dict):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    return value


def request_fingerprint(request) -> str:
    """What makes two requests "the same" for a key: query string, media type and the parsed body.
    Reading request.data here raises the parser's 400/415 before any key is claimed."""
    media_type = (request.content_type or "").split(";")[0].strip().lower()
    canonical = {
        "media_type": media_type,
        "query": sorted((k, sorted(v)) for k, v in request.query_params.lists()),
        "data": _canonical(request.data),
    }
    text = json.dumps(canonical, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Scope:
    principal: str
    user_id: int
    api_key_id: int | None
    method: str
    path: str
    key: str
    fingerprint: str

    @property
    def hash(self) -> str:
        text = json.dumps([self.principal, self.method, self.path, self.key])
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


def scope_of(request, key: str) -> Scope:
    api_key = request.auth if isinstance(request.auth, ApiKey) else None
    return Scope(
        principal=f"key:{api_key.pk}" if api_key else f"user:{request.user.pk}",
        user_id=request.user.pk,
        api_key_id=api_key.pk if api_key else None,
        method=request.method,
        path=request.path,
        key=key,
        fingerprint=request_fingerprint(request),
    )


def delete_expired(*, now: datetime | None = None, limit: int = CLEANUP_BATCH) -> int:
    """Delete up to `limit` keys older than KEY_LIFETIME, oldest first; returns how many."""
    cutoff = (now or timezone.now()) - KEY_LIFETIME
    pks = list(IdempotencyKey.objects.expired(when=cutoff).order_by("created_at").values_list("pk", flat=True)[:limit])
    if not pks:
        return 0
    return IdempotencyKey.objects.filter(pk__in=pks, created_at__lt=cutoff).delete()[0]


def claim(scope: Scope, *, now: datetime | None = None) -> IdempotencyKey:
    """The key's row: a new claim (response_status None) the caller now owns, or a finished one to replay.
    Raises KeyReused (another request under this key) or KeyInFlight (the first one is still running)."""
    now = now or timezone.now()
    for _attempt in range(3):
        try:
            # Committed at once (outside any request transaction), so a concurrent retry sees the claim.
            with transaction.atomic():
                row = IdempotencyKey.objects.create(
                    scope_hash=scope.hash, principal=scope.principal, user_id=scope.user_id,
                    api_key_id=scope.api_key_id, method=scope.method, path=scope.path, key=scope.key,
                    request_fingerprint=scope.fingerprint, created_at=now, claimed_at=now,
                )
        except IntegrityError:
            pass
        else:
            delete_expired(now=now)
            return row
        row = IdempotencyKey.objects.filter(scope_hash=scope.hash).first()
        if row is None:
            continue  # given back (a failed first request) since the insert: claim it again
        if row.created_at <= now - KEY_LIFETIME:
            IdempotencyKey.objects.filter(pk=row.pk, created_at=row.created_at).delete()
            continue
        if row.request_fingerprint != scope.fingerprint:
            raise KeyReused(
                f"This {HEADER} was already used with a different request to {scope.method} {scope.path}; "
                "nothing was changed. Use a new key for a new request."
            )
        if row.response_status is not None:
            return row
        # Compare-and-set: of two retries taking over an abandoned claim, one wins.
        if row.claimed_at <= now - CLAIM_TIMEOUT and IdempotencyKey.objects.filter(
            pk=row.pk, claimed_at=row.claimed_at, response_status__isnull=True
        ).update(claimed_at=now):
            row.claimed_at = now
            return row
        break
    raise KeyInFlight(
        f"A request with this {HEADER} is still being processed; retry in a moment to get its response."
    )


def store(row: IdempotencyKey, response) -> None:
    """Record the response on the claim, inside the transaction of what the request created. If the
    claim was taken over meanwhile (CLAIM_TIMEOUT), raises KeyInFlight, rolling that back."""
    headers = {name: response[name] for name in STORED_HEADERS if response.has_header(name)}
    if not IdempotencyKey.objects.filter(pk=row.pk, claimed_at=row.claimed_at, response_status__isnull=True).update(
        response_status=response.status_code, response_headers=headers, response_body=bytes(response.content)
    ):
        raise KeyInFlight(f"Another request with this {HEADER} took over; nothing was changed by this one.")


def release(row: IdempotencyKey) -> None:
    """Give the key back after a failed request, so the client may correct it and retry with the same key."""
    try:
        IdempotencyKey.objects.filter(pk=row.pk, claimed_at=row.claimed_at, response_status__isnull=True).delete()
    except DatabaseError:
        # The database broke the request too; the claim is taken over after CLAIM_TIMEOUT.
        logger.warning("could not release idempotency key %s", row.pk, exc_info=True)


def replay(row: IdempotencyKey) -> HttpResponse:
    response = HttpResponse(bytes(row.response_body), status=row.response_status)
    for name, value in row.response_headers.items():
        response[name] = value
    response[REPLAYED_HEADER] = "true"
    return response


def idempotent(handler):
    """Decorate a DRF view's `post`: with an Idempotency-Key header, the operation runs at most once per key."""

    @functools.wraps(handler)
    def wrapper(view, request, *args, **kwargs):
        raw = request.headers.get(HEADER)
        if raw is None:
            return handler(view, request, *args, **kwargs)
        key = parse_key(raw)
        if not (request.user and request.user.is_authenticated):
            raise exceptions.NotAuthenticated(
                f"An {HEADER} needs an authenticated client: send 'Authorization: Token <key>' with a key from "
                "your account page, or sign in."
            )
        row = claim(scope_of(request, key))
        if row.response_status is not None:
            return replay(row)
        try:
            with transaction.atomic():
                response = handler(view, request, *args, **kwargs)
                if status.is_success(response.status_code):
                    # Rendered here, so what is stored is byte for byte what this client receives.
                    response = view.finalize_response(request, response, *args, **kwargs)
                    if callable(getattr(response, "render", None)):
                        response.render()
                    store(row, response)
                    return response
        except BaseException:
            release(row)
            raise
        release(row)
        return response

    wrapper.idempotent = True
    return extend_schema(parameters=[PARAMETER])(wrapper)
