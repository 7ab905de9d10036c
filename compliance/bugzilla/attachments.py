"""Bugzilla's attachment methods: GET /rest/bug/N/attachment and /rest/bug/attachment/ID (Bug.attachments),
POST /rest/bug/N/attachment (Bug.add_attachment), PUT /rest/bug/attachment/ID (Bug.update_attachment).

Shapes as Bugzilla 5.0 gives them: `data` base64, `is_private`/`is_obsolete`/`is_patch` as 0 or 1,
`content_type` (sniffed from the bytes when stored, whatever the client claimed), `file_name`,
`summary`, `size`, `creator`, `creation_time`, `last_change_time`, `flags`. Which attachments a
reader sees comes from accounts.permissions (compliance.selectors_attachments); a private one asked
for by id by someone who may not see it is Bugzilla's auth_failure (304), one of an incident they
may not see is 102. Writes call compliance.actions.attachments.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from django.conf import settings
from django.db import transaction

from accounts import permissions as perm
from compliance.actions import attachments as att
from compliance.bugzilla import (
    AUTH_FAILURE,
    BUG_ACCESS_DENIED,
    PARAM_INVALID,
    PARAM_REQUIRED,
    PRODUCT_EDIT_DENIED,
    BugzillaError,
    search,
    serialize,
)
from compliance.bugzilla.errors import body_params, flag, from_domain, text
from compliance.bugzilla.views import _fields, _incident, endpoint
from compliance.models import Attachment
from compliance.selectors_attachments import attachments_for, visible_attachments
from config.errors import DomainError

ATTACHMENT_FIELDS = (
    "id", "bug_id", "file_name", "summary", "content_type", "size", "creator", "creation_time", "last_change_time",
    "is_private", "is_obsolete", "is_patch", "flags", "data",
)


def attachment_dict(a: Attachment, names: list[str]) -> dict[str, Any]:
    row: dict[str, Any] = {}
    values = {
        "id": lambda: a.pk,
        "bug_id": lambda: a.incident.number,
        "file_name": lambda: a.filename,
        "summary": lambda: a.description,
        "content_type": lambda: a.content_type.split(";", 1)[0],
        "size": lambda: a.size,
        "creator": lambda: serialize.login(a.uploader),
        "creation_time": lambda: serialize.bz_time(a.created_at),
        "last_change_time": lambda: serialize.bz_time(a.updated_at),
        "is_private": lambda: int(a.is_private),
        "is_obsolete": lambda: int(a.is_obsolete),
        "is_patch": lambda: 0,
        "flags": lambda: [],
        "data": lambda: _data(a),
    }
    for name in names:
        row[name] = values[name]()
    return row


def _data(a: Attachment) -> str:
    with a.file.open("rb") as f:
        return base64.b64encode(f.read()).decode("ascii")


@endpoint
def bug_attachments(request, user, bug_id):
    incident = _incident(user, bug_id)
    names = _fields(request, ATTACHMENT_FIELDS)
    rows = [attachment_dict(a, names) for a in attachments_for(incident, user)]
    return {"bugs": {str(incident.number): rows}, "attachments": {}}


@endpoint
def attachment_get(request, user, attachment_id):
    pk = search.parse_count(attachment_id, "attachment_ids")
    attachment = Attachment.objects.select_related("incident", "uploader").filter(pk=pk).first()
    if attachment is None:
        return {"bugs": {}, "attachments": {}}  # Bugzilla: an unknown id is left out
    if not perm.can_view_incident(user, attachment.incident):
        raise BugzillaError(BUG_ACCESS_DENIED, f"You are not authorized to access bug #{attachment.incident.number}.")
    if not perm.can_view_attachment(user, attachment):
        raise BugzillaError(AUTH_FAILURE, f"Sorry, you are not authorized to access attachment #{pk}.")
    names = _fields(request, ATTACHMENT_FIELDS)
    return {"bugs": {}, "attachments": {str(attachment.pk): attachment_dict(attachment, names)}}


def _upload_limit() -> int:
    # base64 is 4/3 of the file, plus the other parameters.
    return att.max_bytes() * 4 // 3 + 64 * 1024


@endpoint(methods=("POST",), status=201)
@transaction.atomic
def attachment_add(request, user, bug_id):
    incident = _incident(user, bug_id)
    params = body_params(request, limit=max(_upload_limit(), settings.MAX_REQUEST_BODY_BYTES))
    encoded = params.get("data")
    if encoded in (None, ""):
        raise BugzillaError(PARAM_REQUIRED, "The file's contents are required: send them base64-encoded as 'data'.")
    try:
        data = base64.b64decode(text(encoded, "data"), validate=True)
    except (binascii.Error, ValueError):
        raise BugzillaError(PARAM_INVALID, "'data' is not base64: send the file's bytes base64-encoded.") from None
    try:
        attachment = att.attachment_add(
            actor=user, incident=incident, data=data, filename=text(params.get("file_name"), "file_name"),
            description=text(params.get("summary"), "summary"), is_private=flag(params.get("is_private"), "is_private"),
            comment=text(params.get("comment"), "comment"),
        )
    except DomainError as exc:
        raise from_domain(exc, denied=PRODUCT_EDIT_DENIED) from None
    return {"ids": [attachment.pk]}


@endpoint(methods=("PUT",))
@transaction.atomic
def attachment_update(request, user, attachment_id):
    pk = search.parse_count(attachment_id, "ids")
    attachment = visible_attachments(user).filter(pk=pk).first()
    if attachment is None:
        raise BugzillaError(PARAM_INVALID, f"Attachment #{pk} does not exist, or is not one you may see.")
    params = body_params(request, limit=settings.MAX_REQUEST_BODY_BYTES)
    change: dict[str, Any] = {}
    if "is_obsolete" in params:
        change["is_obsolete"] = flag(params["is_obsolete"], "is_obsolete")
    if "is_private" in params:
        change["is_private"] = flag(params["is_private"], "is_private")
    if "summary" in params:
        change["description"] = text(params["summary"], "summary")
    try:
        events = att.attachment_update(actor=user, attachment=attachment, **change)
    except DomainError as exc:
        raise from_domain(exc, denied=PRODUCT_EDIT_DENIED) from None
    attachment.refresh_from_db()
    changes = {}
    for event in events:
        name = event.field.rsplit(" ", 1)[-1]
        name = {"obsolete": "is_obsolete", "private": "is_private", "description": "summary"}.get(name, name)
        old, new = (str(int(v == "yes")) for v in (event.old, event.new)) if name != "summary" else (event.old, event.new)
        changes[name] = {"removed": old, "added": new}
    return {"attachments": [{"id": attachment.pk, "last_change_time": serialize.bz_time(attachment.updated_at),
                             "changes": changes}]}
