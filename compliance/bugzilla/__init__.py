"""A Bugzilla-compatible REST API under /rest/, so Bugzilla clients work unchanged.

Incidents appear as bugs of product "CA Program": component "CA Certificate Compliance", or
"CA Security Vulnerability" with group "ca-program-security" when security-sensitive. Field
names, integer ids, the time format (2024-05-01T12:00:00Z) and the error body
({"error": true, "code": N, "message": ...}) with its HTTP statuses follow Bugzilla 5.0's
REST API (Bugzilla/WebService/Constants.pm). Visibility comes from accounts.permissions
through compliance.selectors; nothing here decides who sees what.

Users appear by their user name ("login"), never by e-mail address: Bugzilla shows logins as
e-mail addresses, but Rootwatch does not publish its users' addresses.

Writes (POST /rest/bug, PUT /rest/bug/N, POST /rest/bug/N/comment, attachments) need an API key
that may write, and call the compliance actions, which enforce accounts.permissions: a refusal there
becomes Bugzilla's error for it (errors.py maps them).

Modules: serialize (incident -> bug, comment, history, flags), search (Bug.search parameters,
including boolean charts), auth (API key from header or parameter), views (reads), writes (bug
create and update, comments), attachments, errors (domain errors -> Bugzilla codes), urls.
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
ILLEGAL_FIELD = 104
REQUIRE_COMPONENT = 105
PRODUCT_ACCESS_DENIED = 106
REQUIRE_SUMMARY = 107
PRODUCT_EDIT_DENIED = 109
USER_NOT_INSIDER = 113
COMMENT_TOO_LONG = 114
ILLEGAL_CHANGE = 115
DEPENDENCY_LOOP = 116
COMMENT_INVALID_ISPRIVATE = 117
DUPE_LOOP_DETECTED = 118
DUPE_ID_REQUIRED = 119
GROUP_NOT_ALLOWED = 120
MISSING_RESOLUTION = 121
RESOLUTION_NOT_ALLOWED = 122
ILLEGAL_STATUS_TRANSITION = 123
FLAG_STATUS_INVALID = 129
FLAG_UPDATE_DENIED = 130
LOGIN_NOT_SUPPORTED = 300
AUTH_FAILURE = 304
API_KEY_NOT_VALID = 306
LOGIN_REQUIRED = 410
INVALID_USERNAME = 504
FILE_TOO_LARGE = 600
FILE_NOT_SPECIFIED = 603
MISSING_ATTACHMENT_DESCRIPTION = 604
ZERO_LENGTH_FILE = 606
UNKNOWN_TRANSIENT = 32000
INVALID_RESOURCE = 32614

# REST_STATUS_CODE_MAP: 401 for these, 404 for a missing object or resource, 400 for every other code.
_STATUS = {
    51: 404, BUG_DOES_NOT_EXIST: 404, BUG_ACCESS_DENIED: 401, PRODUCT_ACCESS_DENIED: 401, PRODUCT_EDIT_DENIED: 401,
    110: 401, USER_NOT_INSIDER: 401, ILLEGAL_CHANGE: 401, GROUP_NOT_ALLOWED: 401, LOGIN_NOT_SUPPORTED: 401,
    301: 401, 302: 401, 303: 401, AUTH_FAILURE: 401, LOGIN_REQUIRED: 401, INVALID_USERNAME: 401, 505: 401,
    INVALID_RESOURCE: 404,
}


class BugzillaError(Exception):
    """An error answered in Bugzilla's shape: {"error": true, "code": code, "message": message}."""

    def __init__(self, code: int, message: str, *, status: int | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status or _STATUS.get(code, 400)
