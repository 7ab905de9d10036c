"""Who a Bugzilla-API request is: an API key from wherever Bugzilla clients put it, else the session.

Looked for in the order Bugzilla 5.1 gives parameters precedence: the `Bugzilla_api_key` and
`api_key` query parameters, the `X-BUGZILLA-API-KEY` header, then `Authorization: Token <key>`
or `Authorization: Bearer <key>` (python-bugzilla's Red Hat mode). A key that is sent but
unknown or revoked is an error (code 306), never a silent anonymous read. Password logins
(`Bugzilla_login`/`Bugzilla_password`, `/rest/login`) are not offered: use a key.
"""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser

from accounts import permissions as perm
from accounts.api_keys import api_key_authenticate
from compliance.bugzilla import API_KEY_NOT_VALID, LOGIN_NOT_SUPPORTED, LOGIN_REQUIRED, BugzillaError


def presented_key(request) -> str | None:
    for name in ("Bugzilla_api_key", "api_key"):
        value = request.GET.get(name)
        if value:
            return value
    header = request.META.get("HTTP_X_BUGZILLA_API_KEY")
    if header:
        return header
    parts = request.META.get("HTTP_AUTHORIZATION", "").split()
    if len(parts) == 2 and parts[0].lower() in ("token", "bearer"):
        return parts[1]
    return None


def authenticate(request):
    """(user, key): the key's user, or the signed-in session user, or anonymous with key None."""
    if request.GET.get("Bugzilla_login") or request.GET.get("Bugzilla_password"):
        raise BugzillaError(
            LOGIN_NOT_SUPPORTED,
            "Logging in with a password is not supported: create an API key on your account page and send it "
            "as Bugzilla_api_key.",
        )
    plain = presented_key(request)
    if plain is None:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            return user, None
        return AnonymousUser(), None
    key = api_key_authenticate(plain=plain)
    if key is None:
        raise BugzillaError(
            API_KEY_NOT_VALID,
            "The API key you specified is invalid: it is unknown or has been revoked. Create a new key on your "
            "account page.",
        )
    return key.user, key


def writer(user, key, method: str) -> None:
    """A write through /rest/ needs an API key, of an active account, that may write. A signed-in
    browser session alone does not write here: /rest/ takes no CSRF token, so a page elsewhere could
    otherwise post in a visitor's name."""
    if key is None:
        raise BugzillaError(
            LOGIN_REQUIRED,
            "You must log in before using this part of Bugzilla: send an API key (Bugzilla_api_key, api_key or "
            "the X-BUGZILLA-API-KEY header) made on your account page.",
        )
    if not perm.api_key_allows_method(key, method):
        raise BugzillaError(
            LOGIN_REQUIRED,
            "This API key is read-only: it cannot change anything. Make a key with write access on your account page.",
        )
