"""A Bugzilla-compatible read-only REST API under /rest/, so Bugzilla clients work unchanged.

Incidents appear as bugs of product "CA Program": component "CA Certificate Compliance", or
"CA Security Vulnerability" with group "ca-program-security" when security-sensitive. Field
names, integer ids, the time format (2024-05-01T12:00:00Z) and the error body
({"error": true, "code": N, "message": ...}) with its HTTP statuses follow Bugzilla 5.0's
REST API (Bugzilla/WebService/Constants.pm). Visibility comes from accounts.permissions
through compliance.selectors; nothing here decides who sees what.

Users appear by their user name ("login"), never by e-mail address: Bugzilla shows logins as
e-mail addresses, but Rootwatch does not publish its users' addresses.

Modules: serialize (incident -> bug, comment, history, flags), search (Bug.search parameters,
including boolean charts), auth (API key from header or parameter), views, urls.
"""

from __future__ import annotations

PRODUCT = "CA Program"
COMPONENT_PUBLIC = "CA Certificate Compliance"
COMPONENT_SECURITY = "CA Security Vulnerability"
SECURITY_GROUP = "ca-program-security"
VERSION = "5.0.4"
NOBODY = "nobody"

# Bugzilla's WS_ERROR_CODE numbers used here, and the REST status of each (REST_STATUS_CODE_MAP).
PARAM_REQUIRED = 50
PARAM_MUST_BE_NUMERIC = 52
PARAM_INVALID = 53
ILLEGAL_DATE = 56
INVALID_BUG_ID = 100
BUG_DOES_NOT_EXIST = 101
BUG_ACCESS_DENIED = 102
INVALID_FIELD_NAME = 108
LOGIN_NOT_SUPPORTED = 300
API_KEY_NOT_VALID = 306
UNKNOWN_TRANSIENT = 32000
INVALID_RESOURCE = 32614

_STATUS = {51: 404, BUG_DOES_NOT_EXIST: 404, BUG_ACCESS_DENIED: 401, LOGIN_NOT_SUPPORTED: 401, INVALID_RESOURCE: 404}


class BugzillaError(Exception):
    """An error answered in Bugzilla's shape: {"error": true, "code": code, "message": message}."""

    def __init__(self, code: int, message: str, *, status: int | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status or _STATUS.get(code, 400)
