"""CSV export of the incident list exactly as filtered on the page.

It reads the page's own filter (compliance.filters.IncidentFilter, through
compliance.selectors.incident_filter), so `/incidents/export.csv?<query>`
holds the rows `/incidents/?<query>` lists, and nothing its reader may not see. Cells that a
spreadsheet would run as a formula (=, +, -, @) are prefixed with an apostrophe. The file is
streamed in chunks of rows (constant memory, issue 17).
"""

from __future__ import annotations

import csv
from datetime import UTC

from django.http import HttpResponse, StreamingHttpResponse
from django.urls import reverse
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
    response = CsvStream(_csv_lines(qs, base), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="incidents.csv"'
    response["Cache-Control"] = "private, no-store"
    return response


class CsvStream(StreamingHttpResponse):
    """A streamed CSV. The server sends it chunk by chunk (streaming_content); `content` reads the whole
    stream once, for code that wants the file as bytes (tests), as HttpResponse.content would."""

    @property
    def content(self) -> bytes:
        if not hasattr(self, "_read"):
            self._read = b"".join(self.streaming_content)
        return self._read


class _Line:
    """csv.writer's file: writerow returns the line instead of storing it."""

    def write(self, line: str) -> str:
        return line


CHUNK = 2000  # rows read per database round trip (and per tags prefetch); memory stays one chunk


def _csv_lines(qs, base: str):
    """The CSV, streamed: rows are read CHUNK at a time (QuerySet.iterator) and sent as they are written,
    so 100,000 incidents take the memory of 2,000 (issue 17)."""
    writer = csv.writer(_Line())
    yield writer.writerow(COLUMNS)
    # One reverse() for the export, not one per row.
    url_head, url_tail = reverse("compliance:incident_detail", args=[0]).rsplit("0", 1)
    lines = []
    for incident in qs.iterator(chunk_size=CHUNK):
        lines.append(writer.writerow([_cell(v) for v in (
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
            f"{base}{url_head}{incident.number}{url_tail}",
        )]))
        if len(lines) >= 500:
            yield "".join(lines)
            lines = []
    if lines:
        yield "".join(lines)
