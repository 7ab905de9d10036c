"""The sweep's writes, set-based: every finding's notification rows in two INSERT ... SELECT statements.

actions.sweep_run hands the findings (one per deadline, not one per recipient) to
`insert_findings`. They travel as one JSON parameter; the database expands each to its
audience (the named people, the CA owner's representatives, the Watch rows on the CA owner
or the incident, active staff), chooses each recipient's
delivery (actions.delivery_for for reminders), and inserts with ON CONFLICT DO NOTHING on
the unique keys (subject, kind, due date, recipient | address), so a second sweep, or two at
once, make each row once. No Python object is made per row, and the number of statements is
the same for ten findings and for a hundred thousand.

Findings whose audience accounts.permissions must judge person by person (a security-sensitive
incident: can_view_incident; `seen_as`: audit statements, distrust actions), or that exclude
people or are not reminders, are few: actions.notification_rows resolves them as for events (a
fixed number of queries, the rule asked, never restated in SQL), and their rows go in through
the same JSON path in the second statement.

Both PostgreSQL (json_to_recordset) and SQLite >= 3.24 (json_each, ON CONFLICT) run it.
"""

from __future__ import annotations

import json
from datetime import datetime

from django.db import connection

from notifications.models import Category, Delivery, Notification, NotificationPreference, Reason, Watch, category_of

# (JSON key, column type on PostgreSQL) of one finding.
_FINDING_COLS = (
    ("i", "integer"), ("kind", "text"), ("subject_type", "text"), ("subject_id", "bigint"), ("due_date", "date"),
    ("due_at", "timestamptz"), ("title", "text"), ("body", "text"), ("url", "text"), ("thread", "text"),
    ("ca_owner_id", "integer"), ("owner_id", "integer"), ("incident_id", "integer"), ("sensitive", "boolean"),
    ("watchers", "boolean"), ("staff", "boolean"),
)
# A named person of a finding: (finding, user, Reason key).
_NAMED_COLS = (("i", "integer"), ("user_id", "integer"), ("reason", "text"))
# A finished row (from actions.notification_rows).
_ROW_COLS = (
    ("subject_type", "text"), ("subject_id", "bigint"), ("kind", "text"), ("due_date", "date"),
    ("due_at", "timestamptz"), ("recipient_id", "integer"), ("email", "text"), ("title", "text"), ("body", "text"),
    ("url", "text"), ("reason", "text"), ("thread", "text"), ("delivery", "text"), ("state", "text"),
)
_INSERT_COLS = (
    "subject_type, subject_id, kind, due_date, due_at, recipient_id, email, title, body, url, reason, thread, "
    "delivery, state, attempts, next_attempt_at, claimed_at, claim_token, last_error, sent_at, read_at, "
    "sweep_run_id, created_at"
)


def set_based(finding) -> bool:
    """Can the database resolve this finding's audience alone (no per-person Python rule)?"""
    return (finding.seen_as is None and not finding.security_sensitive and not finding.exclude_user_ids
            and not finding.user_reasons
            and not finding.emails and category_of(finding.kind) == Category.REMINDERS)


def _json_source(cols, alias: str) -> str:
    """A SELECT of one JSON parameter (an array of arrays) as rows with the columns `cols`."""
    if connection.vendor == "postgresql":
        fields = ", ".join(
            f"(e->>{n})::{pgtype} AS {name}" if pgtype != "text" else f"e->>{n} AS {name}"
            for n, (name, pgtype) in enumerate(cols)
        )
        return f"SELECT {fields} FROM json_array_elements(%s::json) AS {alias}(e)"
    fields = ", ".join(f"json_extract({alias}.value, '$[{n}]') AS {name}" for n, (name, _) in enumerate(cols))
    return f"SELECT {fields} FROM json_each(%s) AS {alias}"


def _dt(value: datetime) -> str:
    return str(connection.ops.adapt_datetimefield_value(value))


def _truthy(column: str) -> str:
    # JSON booleans arrive as booleans on PostgreSQL and as 1/0 on SQLite (TRUE is 1 there).
    return f"{column} = TRUE"


def _finding_json(findings) -> tuple[str, str]:
    rows, named = [], []
    for n, f in enumerate(findings):
        owner_id = f.ca_owner_id or f.incident_owner_id or f.extra.get("incident_owner_id")
        thread = f.thread or (f"incident-{f.incident_id}" if f.incident_id else "")
        rows.append([
            n, f.kind, f.subject_type, f.subject_id, str(f.due_date), _dt(f.due_at), f.title[:400], f.body,
            f.url[:500], thread[:60], f.ca_owner_id, owner_id if f.watchers else None, f.incident_id,
            bool(f.security_sensitive), bool(f.watchers), bool(f.staff),
        ])
        for user_id in dict.fromkeys(f.user_ids):
            named.append([n, user_id, Reason.NAMED])
    return json.dumps(rows), json.dumps(named)


def _reason_sql() -> str:
    """The reasons in Reason's order, space-separated (actions._reason_text), from flags r0, r1, ..."""
    parts = " || ".join(f"CASE WHEN a.r{n} = 1 THEN '{value} ' ELSE '' END" for n, value in enumerate(Reason.values))
    return f"TRIM({parts})"


def _expand_sql() -> str:
    from accounts.models import User

    user = User._meta.db_table
    reps = User.represented_owners.through._meta.db_table
    watch = Watch._meta.db_table
    pref = NotificationPreference._meta.db_table
    # Watch rows on one incident, while the model has them (following an incident is joining its CC list).
    incident_watches = (f"""    UNION ALL
    SELECT f.i, w.user_id, '{Reason.WATCH}' FROM f JOIN {watch} w ON w.incident_id = f.incident_id
        WHERE {_truthy("f.watchers")}""" if any(fld.name == "incident" for fld in Watch._meta.fields) else "")
    flags = ", ".join(f"MAX(CASE WHEN c.reason = '{value}' THEN 1 ELSE 0 END) AS r{n}"
                      for n, value in enumerate(Reason.values))
    # actions.delivery_for for a reminder: the user's choice, else a digest for staff and mail at once for others.
    delivery = (f"COALESCE(p.delivery, CASE WHEN u.is_staff = TRUE THEN '{Delivery.DIGEST}' "
                f"ELSE '{Delivery.IMMEDIATE}' END)")
    return f"""
WITH f AS ({_json_source(_FINDING_COLS, "jf")}),
named AS ({_json_source(_NAMED_COLS, "jn")}),
cand AS (
    SELECT named.i, named.user_id, named.reason FROM named
    UNION ALL
    SELECT f.i, r.user_id, '{Reason.CA_REPRESENTATIVE}' FROM f JOIN {reps} r ON r.caowner_id = f.ca_owner_id
    UNION ALL
    SELECT f.i, w.user_id, '{Reason.WATCH}' FROM f JOIN {watch} w ON w.ca_owner_id = f.owner_id
{incident_watches}
    UNION ALL
    SELECT f.i, u.id, '{Reason.STAFF}' FROM f CROSS JOIN {user} u
        WHERE {_truthy("f.staff")} AND u.is_staff = TRUE AND u.is_active = TRUE
),
a AS (SELECT c.i, c.user_id, {flags} FROM cand c GROUP BY c.i, c.user_id)
INSERT INTO {Notification._meta.db_table} ({_INSERT_COLS})
SELECT f.subject_type, f.subject_id, f.kind, f.due_date, f.due_at, u.id, '', f.title, f.body, f.url,
    {_reason_sql()}, f.thread, {delivery},
    CASE WHEN {delivery} = '{Delivery.NONE}' THEN 'skipped' ELSE 'pending' END,
    0, %s, NULL, '', '', NULL, NULL, %s, %s
FROM a
JOIN f ON f.i = a.i
JOIN {user} u ON u.id = a.user_id AND u.is_active = TRUE AND u.email <> ''
LEFT JOIN {pref} p ON p.user_id = u.id
-- Rows an earlier sweep made are left to ON CONFLICT (an index probe each). A NOT EXISTS on the table being
-- inserted into was tried: planned against an empty table's statistics it became a scan per row, quadratic.
WHERE TRUE
ON CONFLICT DO NOTHING
"""


def _rows_sql() -> str:
    return f"""
INSERT INTO {Notification._meta.db_table} ({_INSERT_COLS})
SELECT r.subject_type, r.subject_id, r.kind, r.due_date, r.due_at, r.recipient_id, r.email, r.title, r.body,
    r.url, r.reason, r.thread, r.delivery, r.state, 0, %s, NULL, '', '', NULL, NULL, %s, %s
FROM ({_json_source(_ROW_COLS, "jr")}) r
WHERE true
ON CONFLICT DO NOTHING
"""


def insert_findings(findings, *, run, created_at: datetime, rows: list[Notification] = ()) -> None:
    """Insert the notifications of `findings` (all set_based) and the finished `rows`: two statements, always."""
    finding_json, named_json = _finding_json(findings)
    rows_json = json.dumps([
        [r.subject_type, r.subject_id, r.kind, str(r.due_date), _dt(r.due_at), r.recipient_id, r.email, r.title,
         r.body, r.url, r.reason, r.thread, r.delivery, r.state]
        for r in rows
    ])
    at = _dt(created_at)
    run_id = run.pk if run is not None else None
    with connection.cursor() as cursor:
        cursor.execute(_expand_sql(), [finding_json, named_json, at, run_id, at])
        cursor.execute(_rows_sql(), [at, run_id, at, rows_json])
