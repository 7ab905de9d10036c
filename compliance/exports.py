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
from itertools import islice

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


_FIELDS = (
    "pk", "number", "title", "ca_owner__name", "status", "resolution", "security_sensitive", "whiteboard",
    "assignee__username", "open_question_count", "comment_count", "next_due_at", "created_at", "updated_at",
)


def _csv_lines(qs, base: str):
    """The CSV, streamed: rows are read CHUNK at a time (QuerySet.iterator over plain values, no model
    objects) with one tags query per chunk, and sent as they are written, so 100,000 incidents take the
    memory of 2,000 (issue 17)."""
    from compliance.models import IncidentTag

    writer = csv.writer(_Line())
    yield writer.writerow(COLUMNS)
    # One reverse() for the export, not one per row.
    url_head, url_tail = reverse("compliance:incident_detail", args=[0]).rsplit("0", 1)
    rows = qs.prefetch_related(None).values_list(*_FIELDS).iterator(chunk_size=CHUNK)
    while chunk := list(islice(rows, CHUNK)):
        tags: dict[int, list[str]] = {}
        for incident_id, tag in (IncidentTag.objects.filter(incident_id__in=[r[0] for r in chunk])
                                 .order_by("tag").values_list("incident_id", "tag")):
            tags.setdefault(incident_id, []).append(tag)
        lines = []
        for (pk, number, title, owner, status, resolution, sensitive, whiteboard, assignee, questions, comments,
             due, created, updated) in chunk:
            lines.append(writer.writerow([_cell(v) for v in (
                number, title, owner or "", status, resolution, "yes" if sensitive else "no", whiteboard,
                " ".join(tags.get(pk, ())), assignee or "", questions, comments, _time(due), _time(created),
                _time(updated), f"{base}{url_head}{number}{url_tail}",
            )]))
        yield "".join(lines)
