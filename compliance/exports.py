"""CSV export of the incident list exactly as filtered on the page.

It reads the page's own filter (compliance.filters.IncidentFilter, through
compliance.selectors.incident_filter), so `/incidents/export.csv?<query>`
holds the rows `/incidents/?<query>` lists, and nothing its reader may not see. Cells that a
spreadsheet would run as a formula (=, +, -, @) are prefixed with an apostrophe.
"""

from __future__ import annotations

import csv
from datetime import UTC

from django.http import HttpResponse
from django.views.decorators.http import require_GET

from compliance import selectors as sel
from compliance.feeds import InvalidKey, feed_user

COLUMNS = [
    "number", "title", "ca_owner", "status", "resolution", "security_sensitive", "whiteboard", "tags",
    "assignee", "open_questions", "comments", "next_due_at", "created_at", "updated_at", "url",
]


def _cell(value) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _time(value) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if value else ""


@require_GET
def incidents_csv(request):
    try:
        user = feed_user(request)
    except InvalidKey:
        return HttpResponse("Invalid API key: it is unknown or has been revoked.\n", status=401, content_type="text/plain")
    if request.rate_limited is not None:
        return request.rate_limited
    filters = sel.incident_filter(user=user, params=request.GET)
    if not filters.is_valid():
        problems = "; ".join(f"{name}: {' '.join(errors)}" for name, errors in filters.errors.items())
        return HttpResponse(f"Invalid filter: {problems}\n", status=400, content_type="text/plain")
    qs = sel.incident_rows(filters)
    base = request.build_absolute_uri("/").rstrip("/")
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="incidents.csv"'
    response["Cache-Control"] = "private, no-store"
    writer = csv.writer(response)
    writer.writerow(COLUMNS)
    for incident in qs:
        writer.writerow([_cell(v) for v in (
            incident.number,
            incident.title,
            incident.ca_owner.name if incident.ca_owner_id else "",
            incident.status,
            incident.resolution,
            "yes" if incident.security_sensitive else "no",
            incident.whiteboard,
            " ".join(t.tag for t in incident.tags.all()),
            incident.assignee.username if incident.assignee_id else "",
            getattr(incident, "open_question_count", ""),
            getattr(incident, "comment_count", ""),
            _time(incident.next_due_at),
            _time(incident.created_at),
            _time(incident.updated_at),
            base + incident.get_absolute_url(),
        )])
    return response
