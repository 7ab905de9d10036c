"""Incidents, comments, questions and history in Bugzilla 5.0's REST shapes.

`BUG_FIELDS` is the one table of bug fields: name -> function(incident, ctx). A new incident
field is one line here; include_fields/exclude_fields choose among these names, and only the
chosen functions run. The list query prefetches what the chosen fields read (PREFETCH), so a
search runs a fixed number of queries whatever its size.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.db.models import Prefetch, QuerySet

from accounts import permissions as perm
from compliance.bugzilla import (
    COMPONENT_PUBLIC,
    COMPONENT_SECURITY,
    NOBODY,
    PRODUCT,
    SECURITY_GROUP,
)
from compliance.models import Incident

TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
NEEDINFO_TYPE_ID = 1
# Our history field names -> Bugzilla's.
HISTORY_FIELD_NAMES = {
    "title": "summary",
    "assignee": "assigned_to",
    "watchers": "cc",
    "security_sensitive": "groups",
    "needinfo": "flagtypes.name",
}


def bz_time(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).strftime(TIME_FORMAT)


def login(user: Any) -> str:
    return user.username if user is not None else NOBODY


def user_detail(user: Any) -> dict:
    if user is None:
        return {"id": 0, "name": NOBODY, "real_name": "Nobody", "email": NOBODY}
    # `email` carries the login, not the address: Rootwatch does not publish addresses.
    return {"id": user.pk, "name": user.username, "real_name": user.get_full_name() or user.username, "email": user.username}


def component_of(incident: Incident) -> str:
    return COMPONENT_SECURITY if incident.security_sensitive else COMPONENT_PUBLIC


def groups_of(incident: Incident) -> list[str]:
    return [SECURITY_GROUP] if incident.security_sensitive else []


@dataclass
class Context:
    """What serializing needs besides the incident: who asks (relations they may not see are left out)."""

    user: Any
    base_url: str = ""
    extra: dict = field(default_factory=dict)


def _open_questions(incident: Incident) -> list:
    questions = getattr(incident, "bz_open_questions", None)
    if questions is None:
        questions = [q for q in incident.questions.all() if getattr(q, "closed_at", None) is None]
    return questions


def flags_of(incident: Incident, ctx: Context | None = None) -> list[dict]:
    """Open questions as needinfo flags ("needinfo?"); a question to the whole CA has no requestee."""
    flags = []
    for question in _open_questions(incident):
        flag = {
            "id": question.pk,
            "name": "needinfo",
            "type_id": NEEDINFO_TYPE_ID,
            "status": "?",
            "setter": login(question.comment.author if question.comment_id else None),
            "creation_date": bz_time(question.asked_at),
            "modification_date": bz_time(question.asked_at),
        }
        if question.asked_user_id is not None:
            flag["requestee"] = login(question.asked_user)
        flags.append(flag)
    return flags


def _relations(incident: Incident, ctx: Context, kind: str, outgoing: bool) -> list[int]:
    rels = incident.relations_out.all() if outgoing else incident.relations_in.all()
    numbers = []
    for rel in rels:
        other = rel.target if outgoing else rel.source
        if rel.kind == kind and perm.can_view_incident(ctx.user, other):
            numbers.append(other.number)
    return sorted(numbers)


def _dupe_of(incident: Incident, ctx: Context) -> int | None:
    numbers = _relations(incident, ctx, "duplicate_of", True)
    return numbers[0] if numbers else None


def _see_also(incident: Incident, ctx: Context) -> list[str]:
    numbers = sorted(set(_relations(incident, ctx, "see_also", True) + _relations(incident, ctx, "see_also", False)))
    return [f"{ctx.base_url}/incidents/{n}/" for n in numbers]


def _cc(incident: Incident, ctx: Context) -> list:
    """The CC list (Incident.cc), as logins for those accounts.permissions.can_view_cc_list lets read
    it (staff, the CA's representatives, the reporter, the assignee); empty for others, who get
    `cc_count` only."""
    if not perm.can_view_cc_list(ctx.user, incident):
        return []
    return sorted(incident.cc.all(), key=lambda u: u.username)


def _tags(incident: Incident) -> list[str]:
    return sorted(t.tag for t in incident.tags.all())


Field = Callable[[Incident, Context], Any]

# name -> (function, prefetch lookups it needs)
BUG_FIELDS: dict[str, tuple[Field, tuple]] = {
    "id": (lambda i, c: i.number, ()),
    "alias": (lambda i, c: [], ()),
    "summary": (lambda i, c: i.title, ()),
    "product": (lambda i, c: PRODUCT, ()),
    "component": (lambda i, c: component_of(i), ()),
    "classification": (lambda i, c: "Other", ()),
    "version": (lambda i, c: "other", ()),
    "platform": (lambda i, c: "All", ()),
    "op_sys": (lambda i, c: "All", ()),
    "status": (lambda i, c: i.status, ()),
    "resolution": (lambda i, c: i.resolution, ()),
    "is_open": (lambda i, c: i.is_open, ()),
    "is_confirmed": (lambda i, c: i.status != Incident.Status.UNCONFIRMED, ()),
    "whiteboard": (lambda i, c: i.whiteboard, ()),
    "keywords": (lambda i, c: _tags(i), ("tags",)),
    "severity": (lambda i, c: i.severity or "--", ()),
    "priority": (lambda i, c: "--", ()),
    "type": (lambda i, c: "task", ()),
    "creator": (lambda i, c: login(i.reporter), ()),
    "creator_detail": (lambda i, c: user_detail(i.reporter), ()),
    "assigned_to": (lambda i, c: login(i.assignee), ()),
    "assigned_to_detail": (lambda i, c: user_detail(i.assignee), ()),
    "qa_contact": (lambda i, c: "", ()),
    "cc": (lambda i, c: [login(u) for u in _cc(i, c)], ("cc",)),
    "cc_detail": (lambda i, c: [user_detail(u) for u in _cc(i, c)], ("cc",)),
    "cc_count": (lambda i, c: len(i.cc.all()), ("cc",)),
    "creation_time": (lambda i, c: bz_time(i.created_at), ()),
    "last_change_time": (lambda i, c: bz_time(i.updated_at), ()),
    "groups": (lambda i, c: groups_of(i), ()),
    "flags": (lambda i, c: flags_of(i, c), ("questions",)),
    "depends_on": (lambda i, c: _relations(i, c, "depends_on", True), ("relations",)),
    "blocks": (lambda i, c: _relations(i, c, "depends_on", False), ("relations",)),
    "dupe_of": (lambda i, c: _dupe_of(i, c), ("relations",)),
    "see_also": (lambda i, c: _see_also(i, c), ("relations",)),
    "url": (lambda i, c: f"{c.base_url}/incidents/{i.number}/", ()),
    "target_milestone": (lambda i, c: "---", ()),
    "is_cc_accessible": (lambda i, c: True, ()),
    "is_creator_accessible": (lambda i, c: True, ()),
    "cf_ca_owner": (lambda i, c: i.ca_owner.name if i.ca_owner_id else "", ()),
}


def split_names(values: list[str]) -> list[str]:
    """include_fields / exclude_fields: repeated, comma-separated, or both."""
    return [name.strip() for value in values for name in value.split(",") if name.strip()]


def select_fields(available, include: list[str], exclude: list[str]) -> list[str]:
    """Bugzilla's rule: no include_fields (or _default/_all) means all; exclude_fields wins over include."""
    names = list(available)
    wanted = [n for n in include if n not in ("_default", "_all", "_extra", "_custom")]
    if include and wanted and not any(n in ("_default", "_all") for n in include):
        top = {n.split(".", 1)[0] for n in wanted}
        names = [n for n in names if n in top]
    excluded = {n for n in exclude if "." not in n}
    return [n for n in names if n not in excluded]


def prefetch_for(qs: QuerySet[Incident], names: list[str]) -> QuerySet[Incident]:
    """What the chosen fields read, fetched once for the whole list."""
    from compliance.models import IncidentRelation, Question

    needs = {lookup for name in names for lookup in BUG_FIELDS[name][1]}
    qs = qs.select_related("reporter", "assignee", "ca_owner")
    if "tags" in needs:
        qs = qs.prefetch_related("tags")
    if "cc" in needs:
        qs = qs.prefetch_related("cc")
    if "questions" in needs:
        qs = qs.prefetch_related(
            Prefetch(
                "questions",
                queryset=Question.objects.filter(closed_at__isnull=True).select_related("asked_user", "comment__author"),
                to_attr="bz_open_questions",
            )
        )
    if "relations" in needs:
        qs = qs.prefetch_related(
            Prefetch("relations_out", queryset=IncidentRelation.objects.select_related("target")),
            Prefetch("relations_in", queryset=IncidentRelation.objects.select_related("source")),
        )
    return qs


def bug_dict(incident: Incident, ctx: Context, names: list[str]) -> dict:
    return {name: BUG_FIELDS[name][0](incident, ctx) for name in names}


COMMENT_FIELDS = (
    "id", "bug_id", "attachment_id", "count", "text", "creator", "author", "time", "creation_time",
    "is_private", "is_markdown", "tags",
)


def comment_dict(comment: Any, *, bug_id: int, count: int) -> dict:
    """`count` is the comment's position among all of the bug's comments (0 is the description),
    private ones included, as in Bugzilla: a reader who may not see one sees a gap."""
    author = login(comment.author)
    created = bz_time(comment.created_at)
    return {
        "id": comment.pk,
        "bug_id": bug_id,
        "attachment_id": None,
        "count": count,
        "text": comment.body,
        "creator": author,
        "author": author,
        "time": created,
        "creation_time": created,
        "is_private": bool(comment.is_private),
        "is_markdown": True,
        "tags": [comment.kind] if comment.kind != "comment" else [],
    }


def history_dict(incident: Incident, events) -> dict:
    """History rows (history.Event) grouped into Bugzilla history entries: one per (time, who), with its changes."""
    entries: list[dict] = []
    for event in events:
        who = event.actor.username if event.actor_id and event.actor else (event.actor_name or NOBODY)
        when = bz_time(event.at)
        change = {
            "field_name": HISTORY_FIELD_NAMES.get(event.field, event.field),
            "removed": event.old or "",
            "added": event.new or "",
        }
        if event.field == "needinfo":  # a question asked: Bugzilla records the flag "needinfo?(who)"
            change["added"] = f"needinfo?({event.new})" if event.new else "needinfo?"
        if entries and entries[-1]["when"] == when and entries[-1]["who"] == who:
            entries[-1]["changes"].append(change)
        else:
            entries.append({"when": when, "who": who, "changes": [change]})
    return {"id": incident.number, "alias": [], "history": entries}


STATUS_OPEN = {"UNCONFIRMED", "NEW", "ASSIGNED", "REOPENED"}


def field_definitions() -> list[dict]:
    """GET /rest/field/bug: the fields a client may search and read, with legal values where fixed."""

    def values(names, *, open_flags=False):
        out = []
        for key, name in enumerate(names):
            value = {"name": name, "sort_key": key * 100, "sortkey": key * 100, "visibility_values": []}
            if open_flags:
                value["is_open"] = name in STATUS_OPEN
                value["can_change_to"] = []
            out.append(value)
        return out

    def fld(fid, name, display, ftype, legal=None, mandatory=False):
        return {
            "id": fid,
            "name": name,
            "display_name": display,
            "type": ftype,  # Bugzilla: 0 unknown, 1 free text, 2 drop down, 5 date/time, 6 bug id, 8 large text
            "is_custom": False,
            "is_mandatory": mandatory,
            "is_on_bug_entry": mandatory,
            "visibility_field": None,
            "visibility_values": [],
            "value_field": None,
            "values": legal or [],
        }

    return [
        fld(1, "bug_id", "Bug ID", 6, mandatory=True),
        fld(2, "short_desc", "Summary", 1, mandatory=True),
        fld(3, "product", "Product", 2, values([PRODUCT]), mandatory=True),
        fld(4, "component", "Component", 2, values([COMPONENT_PUBLIC, COMPONENT_SECURITY]), mandatory=True),
        fld(5, "bug_status", "Status", 2, values([s.value for s in Incident.Status], open_flags=True)),
        fld(6, "resolution", "Resolution", 2, values([r.value for r in Incident.Resolution])),
        fld(7, "status_whiteboard", "Whiteboard", 1),
        fld(8, "reporter", "Reporter", 0),
        fld(9, "assigned_to", "Assignee", 0),
        fld(10, "cc", "CC", 0),
        fld(11, "creation_ts", "Opened", 5),
        fld(12, "delta_ts", "Changed", 5),
        fld(13, "bug_group", "Group", 0, values([SECURITY_GROUP])),
        fld(14, "flagtypes.name", "Flags", 0, values(["needinfo"])),
        fld(15, "longdesc", "Comment", 8),
        fld(16, "keywords", "Keywords", 0),
        fld(17, "dependson", "Depends on", 6),
        fld(18, "blocked", "Blocks", 6),
        fld(19, "bug_severity", "Severity", 2, values(["--", *(s.value for s in Incident.Severity if s.value)])),
    ]
