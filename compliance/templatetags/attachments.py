"""`{% incident_attachments %}` on the incident page: its attachments the reader may see, and the upload
form for those who may attach (compliance.attachment_views handles the form's POST)."""

from __future__ import annotations

from django import template

from accounts import permissions as perm
from compliance.domain import attachments as sniffing
from compliance.forms_attachments import AttachmentForm
from compliance.selectors_attachments import attachments_for

register = template.Library()


@register.inclusion_tag("compliance/incidents/_attachments.html", takes_context=True)
def incident_attachments(context):
    request = context["request"]
    incident = context["incident"]
    user = request.user
    attachments = list(attachments_for(incident, user))
    if attachments and incident.security_sensitive and getattr(incident, "cc_user_ids", None) is None:
        # The CC list once for every row's rule (accounts.permissions reads `cc_user_ids` when given).
        incident.cc_user_ids = frozenset(incident.cc.values_list("pk", flat=True))
    for a in attachments:
        a.incident = incident
    rows = [
        {"a": a, "type_label": sniffing.label(a.content_type), "can_change": perm.can_change_attachment(user, a)}
        for a in attachments
    ]
    can_add = perm.can_add_attachment(user, incident)
    form = context.get("attachment_form")
    if form is None and can_add:
        form = AttachmentForm(can_private=perm.can_add_private_attachment(user, incident))
    return {
        "incident": incident, "rows": rows, "form": form if can_add else None, "csrf_token": context.get("csrf_token"),
        "can_private": perm.can_add_private_attachment(user, incident), "request": request,
    }
