"""Attachment pages: upload from the incident page, mark obsolete or private, and the download path.

Thin, like compliance.views: parse the form, ask accounts.permissions, call one action or selector.
Files are served only from /attachments/<id>/download, as a download (Content-Disposition:
attachment), with the content type sniffed at upload and `X-Content-Type-Options: nosniff`, so a
browser never renders an uploaded file as a page of this site. An attachment the reader may not see
answers 404, as an incident does.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from accounts import permissions as perm
from compliance import views as incident_views
from compliance.actions import attachments as act
from compliance.forms_attachments import AttachmentChangeForm, AttachmentForm
from compliance.selectors_attachments import attachment_for
from config.errors import DomainError, NotPermitted

# A downloaded file is never a page of this site, even if a browser were to ignore the disposition.
DOWNLOAD_CSP = "default-src 'none'; sandbox"


@require_POST
def attachment_add(request, number: int):
    incident = incident_views._incident(request, number)
    if not perm.can_add_attachment(request.user, incident):
        return incident_views._deny(request)
    form = AttachmentForm(request.POST, request.FILES, can_private=perm.can_add_private_attachment(request.user, incident))
    if form.is_valid():
        d = form.cleaned_data
        upload = d["file"]
        try:
            act.check_size(upload.size)  # before reading a file that is too large
            upload.seek(0)
            attachment = act.attachment_add(
                actor=request.user, incident=incident, data=upload.read(), filename=upload.name,
                description=d["description"], is_private=bool(d.get("is_private")), comment=d.get("comment") or "",
            )
        except NotPermitted as exc:
            if not exc.errors:
                raise PermissionDenied from None
            incident_views._place_errors(form, exc)
        except DomainError as exc:
            incident_views._place_errors(form, exc)
        else:
            messages.success(request, f"Attached {attachment.filename} (attachment {attachment.pk}).")
            return redirect(incident.get_absolute_url() + "#attachments")
    return render(request, "compliance/incidents/detail.html",
                  incident_views._detail_context(request, incident, attachment_form=form), status=400)


@require_POST
def attachment_change(request, pk: int):
    """Mark obsolete / current, private / public (one flag per button)."""
    attachment = attachment_for(request.user, pk)
    if attachment is None:
        raise Http404("No such attachment.")
    if not perm.can_change_attachment(request.user, attachment):
        return incident_views._deny(request)
    form = AttachmentChangeForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose what to change.")
        return redirect(attachment.incident.get_absolute_url() + "#attachments")
    d = form.cleaned_data
    change = {"is_obsolete": d["is_obsolete"]} if d["what"] == "obsolete" else {"is_private": d["is_private"]}
    try:
        events = act.attachment_update(actor=request.user, attachment=attachment, **change)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Attachment {attachment.pk} changed." if events else "Nothing changed.")
    return redirect(attachment.incident.get_absolute_url() + "#attachments")


@require_GET
def download(request, pk: int):
    attachment = attachment_for(request.user, pk)
    if attachment is None:
        raise Http404("No such attachment.")
    response = FileResponse(attachment.file.open("rb"), as_attachment=True, filename=attachment.filename,
                            content_type=attachment.content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = DOWNLOAD_CSP
    response["Cache-Control"] = "private, no-store" if attachment.is_private or attachment.incident.security_sensitive \
        else "private, max-age=0"
    return response
