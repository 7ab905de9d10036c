"""`Authorization: Token <key>` for the REST API (DRF), and its OpenAPI description.

A valid key authenticates as its user, with `request.auth` the ApiKey. An unknown or revoked
key is a 401 with a JSON message, never a silent fall-back to anonymous: a client whose key
stopped working must find out. The read-only restriction is a permission
(ApiKeyScope below asks accounts.permissions.api_key_allows_method); it is checked here
too, because a view that sets its own permission_classes would otherwise skip it.
"""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.permissions import BasePermission

from accounts import permissions
from accounts.api_keys import api_key_authenticate, token_from_authorization

INVALID_KEY = (
    "Invalid API key: it is unknown or has been revoked. Create a new key on your account page "
    "(/accounts/) and send it as 'Authorization: Token <key>'."
)
MALFORMED = "Malformed Authorization header: send 'Authorization: Token <key>' with one key and nothing else."
READ_ONLY = (
    "This API key is read-only: it may only use GET, HEAD and OPTIONS. "
    "Create a key without the read-only restriction to change data."
)


class ApiKeyAuthentication(BaseAuthentication):
    keyword = "Token"

    def authenticate(self, request):
        header = get_authorization_header(request).decode("latin-1")
        plain = token_from_authorization(header)
        if plain is None:
            return None
        if not plain:
            raise exceptions.AuthenticationFailed(MALFORMED)
        key = api_key_authenticate(plain=plain)
        if key is None:
            raise exceptions.AuthenticationFailed(INVALID_KEY)
        if not permissions.api_key_allows_method(key, request.method):
            raise exceptions.PermissionDenied(READ_ONLY)
        return (key.user, key)

    def authenticate_header(self, request):
        # Makes DRF answer 401 (not 403) to a request without credentials, naming the scheme to use.
        return f'{self.keyword} realm="api"'


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.authentication.ApiKeyAuthentication"
    name = "apiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Token <key>`: create a key on your account page. A key acts with its user's "
            "permissions; a read-only key may only read.",
        }


class ApiKeyScope(BasePermission):
    """API-wide (DEFAULT_PERMISSION_CLASSES): a read-only key may only read. Everything else is the
    view's own permission check."""

    message = READ_ONLY

    def has_permission(self, request, view):
        from accounts.models import ApiKey

        key = request.auth if isinstance(request.auth, ApiKey) else None
        return permissions.api_key_allows_method(key, request.method)
